// The floor: bare node:https doing the least any webhook must (read, parse, answer). Nothing built
// on Node's HTTP stack over the same TLS can be faster, so ours/floor is the share of the best
// possible throughput we reach.
import { createServer } from 'node:https';
import { answerFixedAdmission } from './fixed-admission-reply.js';
import { readServerArguments } from './server-arguments.js';

const args = readServerArguments(process.argv.slice(2));
const server = createServer({ cert: args.cert, key: args.key }, (req, res) => {
  void answerFixedAdmission(req, res);
});
server.listen(args.port, '127.0.0.1');
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
