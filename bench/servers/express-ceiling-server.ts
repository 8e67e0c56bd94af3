// The Express ceiling: the floor's work behind an Express 5 app and route. Our webhook is an Express
// app that also decides and patches, so it cannot beat this; ours/ceiling is the share of what
// Express leaves us that we keep.
import { createServer } from 'node:https';
import express from 'express';
import { answerFixedAdmission } from './fixed-admission-reply.js';
import { readServerArguments } from './server-arguments.js';

const args = readServerArguments(process.argv.slice(2));
const app = express();
app.disable('x-powered-by');
app.post('/mutate', async (req, res) => {
  await answerFixedAdmission(req, res);
});
const server = createServer({ cert: args.cert, key: args.key }, app);
server.listen(args.port, '127.0.0.1');
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
