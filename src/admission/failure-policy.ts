// What the webhook answers when it cannot judge a request it was able to read (bad object, no
// policy yet, API server unreachable, engine exception): fail open admits the object unchanged and
// tells the user why; fail closed refuses it with the same reason.
import { allowed, errored, type AdmissionAnswer } from './admission-responses.js';

export type FailurePolicy = 'open' | 'closed';

export function unableToJudge(uid: string, failurePolicy: FailurePolicy, code: number, reason: string): AdmissionAnswer {
  if (failurePolicy === 'closed') {
    return errored(uid, code, `secure-defaults refused this request because it could not be judged: ${reason}`);
  }
  return allowed(uid, {
    warnings: { texts: [`secure-defaults did not harden this request: ${reason}`], reasons: ['not-judged'] },
    auditAnnotations: { error: reason.slice(0, 1024) },
  });
}
