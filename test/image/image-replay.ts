// Replays the Dockerfile's stages on this machine, without a Docker engine: each stage gets its
// own folder standing in for its root filesystem, COPY copies (from the build context, honouring
// .dockerignore, or from an earlier stage's folder), RUN runs the command in that folder with the
// host's Node (same major version as the base images, which the tests check). The final stage's
// folder is then the image's filesystem, owned by root, ready to be run as its USER.
import { spawn } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import { asCopy, execFormOf, finalStage, isIgnored, readDockerfile, readIgnorePatterns, stepsOf, type Stage } from './dockerfile-reader.js';

export interface ReplayedImage {
  /** Folder standing in for the final image's "/". */
  readonly root: string;
  readonly workdir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly user: string;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly stages: readonly Stage[];
  /** Seconds each stage took, for the report. */
  readonly timings: Readonly<Record<string, number>>;
}

interface StageState {
  readonly root: string;
  workdir: string;
  readonly env: Record<string, string>;
  user: string;
  readonly labels: Record<string, string>;
}

export async function replayDockerfile(contextDir: string, workRoot?: string): Promise<ReplayedImage> {
  const stages = readDockerfile(await readFile(join(contextDir, 'Dockerfile'), 'utf8'));
  const ignore = readIgnorePatterns(await readFile(join(contextDir, '.dockerignore'), 'utf8').catch(() => ''));
  const base = workRoot ?? (await mkdtemp(join(tmpdir(), 'secure-defaults-image-')));
  // mkdtemp makes 0700; the image's user must be able to walk into it.
  await chmod(base, 0o755);
  const done = new Map<string, StageState>();
  const timings: Record<string, number> = {};
  let last: StageState | undefined;

  for (const [index, stage] of stages.entries()) {
    const started = Date.now();
    const label = stage.name ?? String(index);
    const state: StageState = { root: join(base, `stage-${index}-${label}`), workdir: '/', env: {}, user: 'root', labels: {} };
    await mkdir(state.root, { recursive: true, mode: 0o755 });
    const isFinal = index === stages.length - 1;
    for (const step of stage.steps) {
      switch (step.keyword) {
        case 'WORKDIR':
          state.workdir = posix.resolve(state.workdir, step.words[0] ?? '/');
          await mkdir(join(state.root, state.workdir), { recursive: true, mode: 0o755 });
          break;
        case 'ENV':
          Object.assign(state.env, step.properties);
          break;
        case 'LABEL':
          Object.assign(state.labels, step.properties);
          break;
        case 'USER':
          state.user = step.words[0] ?? '';
          break;
        case 'ARG':
        case 'EXPOSE':
        case 'ENTRYPOINT':
        case 'CMD':
          break;
        case 'COPY': {
          const copy = asCopy(step);
          const sourceRoot = copy.from === null ? contextDir : done.get(copy.from)?.root;
          if (sourceRoot === undefined) throw new Error(`Dockerfile line ${step.line}: COPY --from=${copy.from} names no earlier stage`);
          const destination = join(state.root, posix.resolve(state.workdir, copy.destination));
          const intoDirectory = copy.destination.endsWith('/') || copy.sources.length > 1;
          for (const source of copy.sources) {
            if (copy.from === null && isIgnored(source, ignore)) {
              throw new Error(`Dockerfile line ${step.line}: COPY ${source} is excluded by .dockerignore; the image build would fail`);
            }
            const from = join(sourceRoot, copy.from === null ? source : posix.resolve('/', source));
            const isDirectory = (await stat(from)).isDirectory();
            // Docker copies a directory's contents, and a file into a "dir/" destination by its name.
            const to = intoDirectory && !isDirectory ? join(destination, basename(source)) : destination;
            await mkdir(isDirectory ? to : join(to, '..'), { recursive: true, mode: 0o755 });
            await cp(from, to, { recursive: true });
          }
          break;
        }
        case 'RUN': {
          if (isFinal) throw new Error(`Dockerfile line ${step.line}: RUN in the final (distroless) stage: it has no shell`);
          const [command, args] = step.exec ? [step.exec[0]!, step.exec.slice(1)] : ['bash', ['-euo', 'pipefail', '-c', step.text]];
          await run(command, args, join(state.root, state.workdir), { ...process.env, ...state.env }, `Dockerfile line ${step.line}: RUN ${step.text}`);
          break;
        }
        default:
          throw new Error(`Dockerfile line ${step.line}: ${step.keyword} is not replayed`);
      }
    }
    if (stage.name !== null) done.set(stage.name, state);
    timings[label] = (Date.now() - started) / 1000;
    last = state;
  }

  const final = finalStage(stages);
  if (last === undefined) throw new Error('the Dockerfile has no stages');
  return {
    root: last.root,
    workdir: last.workdir,
    env: last.env,
    user: last.user,
    entrypoint: execFormOf(final, 'ENTRYPOINT'),
    cmd: stepsOf(final, 'CMD').length > 0 ? execFormOf(final, 'CMD') : [],
    labels: last.labels,
    stages,
    timings,
  };
}

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${what} exited ${code}:\n${output.slice(-4000)}`))));
  });
}
