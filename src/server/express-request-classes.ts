// Request and response classes for node:http(s) whose instances are born with an Express app's
// prototypes (app.request, app.response).
//
// Express hands every request to its app by swapping the prototypes of Node's req and res
// (Object.setPrototypeOf in app.handle). V8 cannot keep its fast object layouts across such a swap:
// measured here under load, an Express app with no work to do ran at 0.5 of bare node:https, and
// objects of every request lived long enough to be promoted, so the old generation filled and was
// mark-compacted several times a second (bench/README.md, "Express's setPrototypeOf"). When the
// server creates req and res with those prototypes already, Express's swap is a no-op (same
// prototype). The cure is the one proposed upstream (expressjs/express#5998,
// nodejs/node#37457); Express still runs every request as before.
import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** The part of an Express app this needs. */
export interface ExpressPrototypes {
  readonly request: object;
  readonly response: object;
}

export interface RequestClasses {
  readonly IncomingMessage: typeof IncomingMessage;
  readonly ServerResponse: typeof ServerResponse;
}

/** Classes to pass as the IncomingMessage / ServerResponse options of createServer. */
export function requestClassesFor(app: ExpressPrototypes): RequestClasses {
  // Plain constructor functions rather than `class … extends`: the instance's own prototype must
  // be app.request itself for Express's Object.setPrototypeOf to change nothing.
  function AppRequest(this: IncomingMessage, socket: Socket): void {
    IncomingMessage.call(this, socket);
  }
  AppRequest.prototype = app.request;
  function AppResponse(this: ServerResponse, req: IncomingMessage, options?: object): void {
    (ServerResponse as unknown as (this: ServerResponse, req: IncomingMessage, options?: object) => void).call(this, req, options);
  }
  AppResponse.prototype = app.response;
  return {
    IncomingMessage: AppRequest as unknown as typeof IncomingMessage,
    ServerResponse: AppResponse as unknown as typeof ServerResponse,
  };
}
