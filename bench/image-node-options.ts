// The Node options the container image runs the webhook with (the Dockerfile's last
// `ENV NODE_OPTIONS=...`), so the benchmark runs every server with the same V8 settings the
// product ships with unless BENCH_NODE_FLAGS says otherwise.
import { readFileSync } from 'node:fs';

/** The flags of the last `ENV NODE_OPTIONS=` line of `dockerfileText`; [] when there is none. */
export function imageNodeOptions(dockerfileText: string): string[] {
  let found: string[] = [];
  for (const line of dockerfileText.split('\n')) {
    const match = /^ENV\s+NODE_OPTIONS=(?:"([^"]*)"|(\S+))\s*$/.exec(line.trim());
    if (match) found = (match[1] ?? match[2] ?? '').split(/\s+/).filter((flag) => flag !== '');
  }
  return found;
}

export function readImageNodeOptions(dockerfilePath: string): string[] {
  try {
    return imageNodeOptions(readFileSync(dockerfilePath, 'utf8'));
  } catch {
    return [];
  }
}
