// Request and response classes for node:http(s) whose instances are born with an Express app's
// prototypes (app.request, app.response).
//
// Express hands every request to its app by swapping the prototypes of Node's req and res
// (Object.setPrototypeOf in app.handle). V8 cannot keep its fast object layouts across such a swap,
// and objects of every request then live long enough to be promoted (bench/README.md, "Express's
// setPrototypeOf"). When the server creates req and res with those prototypes already, Express's
// swap is a no-op (same prototype). The cure is the one proposed upstream (expressjs/express#5998,
// nodejs/node#37457); Express still runs every request as before.
import { IncomingMessage, ServerResponse } from 'node:http';

/** The part of an Express app this needs. */
export interface ExpressPrototypes {
  readonly request: object;
  readonly response: object;
}

export interface RequestClasses {
  readonly IncomingMessage: typeof IncomingMessage;
  readonly ServerResponse: typeof ServerResponse;
}

const NODE_CLASSES: RequestClasses = { IncomingMessage, ServerResponse };

/**
 * A constructor that builds what `Base` builds, with `prototype` as the instance's own prototype.
 * Reflect.construct runs Base as a constructor with this function as new.target, which is what
 * sets the prototype: it works whether Base is an old-style constructor function or an ES class
 * (which `Base.call(this, …)` would throw on). A `class … extends Base` cannot do it: a class's
 * prototype property is read-only, and its instances' prototype would sit one level above
 * app.request, so Express's setPrototypeOf would change it again.
 */
function constructorWithPrototype<T extends abstract new (...args: never[]) => object>(Base: T, prototype: object): T {
  function WithPrototype(this: unknown, ...args: unknown[]): object {
    return Reflect.construct(Base, args, new.target ?? WithPrototype) as object;
  }
  WithPrototype.prototype = prototype;
  return WithPrototype as unknown as T;
}

/**
 * Classes to pass as the IncomingMessage / ServerResponse options of createServer. `base` are the
 * classes to build on: Node's, unless a test passes stand-ins.
 */
export function requestClassesFor(app: ExpressPrototypes, base: RequestClasses = NODE_CLASSES): RequestClasses {
  return {
    IncomingMessage: constructorWithPrototype(base.IncomingMessage, app.request),
    ServerResponse: constructorWithPrototype(base.ServerResponse, app.response),
  };
}
