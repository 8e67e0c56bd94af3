// The Express ceiling: the floor's work behind an Express 5 app and route, what Express itself costs
// with no work done (as the performance issue defines it). With --prototype-ready (the
// "hosted-ceiling" target) Node builds req/res with the app's prototypes, as our webhook does
// (src/server/express-request-classes.ts): the Express our webhook actually pays for.
import { createServer } from 'node:https';
import express from 'express';
import { answerFixedAdmission } from './fixed-admission-reply.js';
import { requestClassesFor } from '../../src/server/express-request-classes.js';
import { readServerArguments } from './server-arguments.js';

const args = readServerArguments(process.argv.slice(2));
const app = express();
app.disable('x-powered-by');
app.post('/mutate', async (req, res) => {
  await answerFixedAdmission(req, res);
});
const server = createServer({ cert: args.cert, key: args.key, ...(args.prototypeReady ? requestClassesFor(app) : {}) }, app);
server.listen(args.port, '127.0.0.1');
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
