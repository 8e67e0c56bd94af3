import { describe, expect, it } from '@jest/globals';
import express from 'express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { requestClassesFor } from '../../src/server/express-request-classes.js';
import { systemClock } from '../../src/server/clock.js';
import { startWebhookServer } from '../../src/server/webhook-server.js';
import { httpsCall, RecordingLogger, testTlsPair } from './webhook-harness.js';

// Express swaps the prototypes of every req/res it is handed; with these classes the swap must
// find nothing to change, and Express must still work as usual on the objects Node builds.
describe('requestClassesFor', () => {
  async function serve(withClasses: boolean) {
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
      ...(withClasses ? { requestClasses: requestClassesFor(app) } : {}),
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
