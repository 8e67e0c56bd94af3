import { describe, expect, it } from '@jest/globals';
import express from 'express';
import { IncomingMessage, ServerResponse, type RequestListener } from 'node:http';
import { Socket } from 'node:net';
import { requestClassesFor, type RequestClasses } from '../../src/server/express-request-classes.js';
import { systemClock } from '../../src/foundation/clock.js';
import { startWebhookServer } from '../../src/server/webhook-server.js';
import { httpsCall, RecordingLogger, testTlsPair } from './webhook-harness.js';

// Express swaps the prototypes of every req/res it is handed; with these classes the swap must
// find nothing to change, and Express must still work as usual on the objects Node builds.
// Stand-ins for the day Node makes IncomingMessage and ServerResponse ES classes: calling a class
// constructor without `new` (Base.call(this, …)) throws, so construction must not do that. They
// count their constructions, to show Node built every req/res through them.
function classStandIns(): RequestClasses & { readonly built: { requests: number; responses: number } } {
  const built = { requests: 0, responses: 0 };
  class ClassIncomingMessage extends IncomingMessage {
    constructor(socket: Socket) {
      super(socket);
      built.requests++;
    }
  }
  // Node's typings leave out the options argument Node passes; the stand-in passes it on.
  const NodeServerResponse = ServerResponse as unknown as new (req: IncomingMessage, options?: object) => ServerResponse;
  class ClassServerResponse extends NodeServerResponse {
    constructor(req: IncomingMessage, options?: object) {
      super(req, options);
      built.responses++;
    }
  }
  return { IncomingMessage: ClassIncomingMessage, ServerResponse: ClassServerResponse as unknown as typeof ServerResponse, built };
}

describe('requestClassesFor builds req/res on old-style constructors and on ES classes alike', () => {
  it('the stand-ins are real ES classes: the old construction (Base.call(this, …)) throws on them', () => {
    const standIns = classStandIns();
    expect(() => (standIns.IncomingMessage as unknown as (this: object, socket: Socket) => void).call({}, new Socket())).toThrow(/without 'new'/);
  });

  it.each([
    ['Node’s own classes', (): RequestClasses => ({ IncomingMessage, ServerResponse })],
    ['ES-class stand-ins', classStandIns],
  ])('with %s: instances have the app’s prototypes and the base constructor’s state', (_name, bases) => {
    const app = express();
    const base = bases();
    const classes = requestClassesFor(app, base);
    const socket = new Socket();
    const req = new classes.IncomingMessage(socket);
    const res = new classes.ServerResponse(req);
    expect(Object.getPrototypeOf(req)).toBe(app.request);
    expect(Object.getPrototypeOf(res)).toBe(app.response);
    // What the base constructors set up: the socket, empty headers, the default status.
    expect(req.socket).toBe(socket);
    expect(req.headers).toEqual({});
    expect(res.req).toBe(req);
    expect(res.statusCode).toBe(200);
    if ('built' in base) expect(base.built).toEqual({ requests: 1, responses: 1 });
    socket.destroy();
  });
});

describe('requestClassesFor', () => {
  async function serve(withClasses: boolean, bases?: RequestClasses) {
    const app = express();
    app.post('/echo', express.json(), (req, res) => {
      res.status(201).set('x-seen', String(req.get('x-probe'))).json({ body: req.body, path: req.path });
    });
    const prototypesOnArrival: Array<[object | null, object | null]> = [];
    const listener: RequestListener = (req: IncomingMessage, res: ServerResponse) => {
      prototypesOnArrival.push([Object.getPrototypeOf(req), Object.getPrototypeOf(res)]);
      app(req, res);
    };
    const tls = await testTlsPair();
    const server = await startWebhookServer({
      app: listener,
      ...(withClasses ? { requestClasses: requestClassesFor(app, bases) } : {}),
      tls,
      host: '127.0.0.1',
      port: 0,
      logger: new RecordingLogger(),
      clock: systemClock,
    });
    const call = () =>
      httpsCall(server.port, { method: 'POST', path: '/echo?x=1', ca: tls.certPem, body: '{"a":[1,2]}', headers: { 'content-type': 'application/json', 'x-probe': 'yes' } });
    return { app, server, call, prototypesOnArrival };
  }

  it('builds req and res that already have the app’s prototypes, so Express changes none', async () => {
    const { app, server, call, prototypesOnArrival } = await serve(true);
    try {
      const answer = await call();
      expect(answer.status).toBe(201);
      expect(answer.headers['x-seen']).toBe('yes');
      expect(answer.json()).toEqual({ body: { a: [1, 2] }, path: '/echo' });
      expect(prototypesOnArrival).toEqual([[app.request, app.response]]);
    } finally {
      await server.shutdown({ delayMs: 0, drainTimeoutMs: 1000 });
    }
  });

  it('serves Express on ES-class stand-ins too, every req/res built through them with the app’s prototypes', async () => {
    const standIns = classStandIns();
    const { app, server, call, prototypesOnArrival } = await serve(true, standIns);
    try {
      for (let i = 0; i < 2; i++) {
        const answer = await call();
        expect(answer.status).toBe(201);
        expect(answer.json()).toEqual({ body: { a: [1, 2] }, path: '/echo' });
      }
      expect(prototypesOnArrival).toEqual([
        [app.request, app.response],
        [app.request, app.response],
      ]);
      expect(standIns.built).toEqual({ requests: 2, responses: 2 });
    } finally {
      await server.shutdown({ delayMs: 0, drainTimeoutMs: 1000 });
    }
  });

  it('is what makes the difference: without it Node builds plain IncomingMessage/ServerResponse objects', async () => {
    const { app, server, call, prototypesOnArrival } = await serve(false);
    try {
      expect((await call()).status).toBe(201);
      expect(prototypesOnArrival[0]![0]).not.toBe(app.request);
      expect(prototypesOnArrival[0]![1]).not.toBe(app.response);
    } finally {
      await server.shutdown({ delayMs: 0, drainTimeoutMs: 1000 });
    }
  });
});
