// The README's quickstart, as written: the webhook serving policies/default.yaml with its built-in
// development certificate, and curl sending it examples/admission-review.json.
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { startServe } from '../../src/cli/commands/serve.js';
import { RecordingLogger } from './webhook-harness.js';

const run = promisify(execFile);

describe('README quickstart', () => {
  it('curl of examples/admission-review.json gets the review uid back with a patch that hardens the Pod', async () => {
    const review = JSON.parse(await readFile('examples/admission-review.json', 'utf8')) as { request: { uid: string } };
    const logger = new RecordingLogger();
    const running = await startServe({ port: 0, host: '127.0.0.1', failClosed: false, shutdownDelay: 0, drainTimeout: 2, policy: 'policies/default.yaml' }, logger);
    try {
      const { stdout } = await run('curl', ['-sk', `https://127.0.0.1:${running.webhook.port}/mutate`, '-H', 'Content-Type: application/json', '--data', '@examples/admission-review.json']);
      const { response } = JSON.parse(stdout) as { response: { uid: string; allowed: boolean; patchType: string; patch: string } };
      expect(response).toMatchObject({ uid: review.request.uid, allowed: true, patchType: 'JSONPatch' });
      const patch = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as Array<{ op: string; path: string; value: unknown }>;
      expect(patch).toContainEqual({
        op: 'add',
        path: '/spec/securityContext',
        value: expect.objectContaining({ runAsUser: 100000, runAsGroup: 100000, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }),
      });
      expect(patch).toContainEqual({ op: 'add', path: '/spec/containers/0/securityContext', value: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } });
      // The log line the README shows: rule, values and owner.
      expect(logger.decisions()[0]?.fields).toMatchObject({ namespace: 'team-a', rule: 'spec.fallback', uidRange: '100000-165535', owner: 'ReplicaSet/web-7d9f6c5b4' });
    } finally {
      await running.stop();
    }
  });
});
