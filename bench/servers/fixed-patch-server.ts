// The trivial webhook of the API-server benchmark: bare node:https that reads and parses the
// AdmissionReview, echoes its uid and answers one fixed JSONPatch (runAsNonRoot: true on the Pod).
// It is the least any mutating webhook can cost the API server: one call, one tiny patch to apply.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { readBody } from './fixed-admission-reply.js';
import { answerSuffix, fixedPatchReply, readRecordedAnswer, TRIVIAL_ANSWER } from './fixed-patch-reply.js';
import { readServerArguments } from './server-arguments.js';

const args = readServerArguments(process.argv.slice(2));
const suffix = answerSuffix(args.replyFile === undefined ? TRIVIAL_ANSWER : readRecordedAnswer(readFileSync(args.replyFile, 'utf8')));
const server = createServer({ cert: args.cert, key: args.key }, (req, res) => {
  readBody(req).then(
    (body) => {
      let reply: string;
      try {
        reply = fixedPatchReply(body, suffix);
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`bad AdmissionReview body: ${(error as Error).message}\n`);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) }).end(reply);
    },
    () => res.destroy(),
  );
});
// The same idle timeout as our webhook (src/server/webhook-server.ts: longer than Go's 90 s idle
// timeout), so neither pays for reconnects the other does not.
server.keepAliveTimeout = 95_000;
server.listen(args.port, '127.0.0.1');
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
