// The project's Dockerfile as stages of plain steps (parsed by dockerfile-ast), so tests can check
// it and replay it without a Docker engine. Instructions the replay does not implement are an
// error rather than ignored, so the Dockerfile cannot drift into a form the tests would misread.
import { DockerfileParser, type Instruction } from 'dockerfile-ast';

export interface Step {
  readonly keyword: string;
  /** 1-based line in the Dockerfile. */
  readonly line: number;
  /** Words after the keyword and its flags. */
  readonly words: readonly string[];
  /** Everything after the keyword, continuations joined (a shell-form RUN's command line). */
  readonly text: string;
  /** `--from=build` becomes { from: 'build' }. */
  readonly flags: Readonly<Record<string, string | null>>;
  /** Exec (JSON array) form of ENTRYPOINT/CMD/RUN, else null. */
  readonly exec: readonly string[] | null;
  /** LABEL/ENV/ARG key=value pairs, quotes removed. */
  readonly properties: Readonly<Record<string, string>>;
}

export interface Stage {
  readonly image: string;
  readonly name: string | null;
  readonly steps: readonly Step[];
}

export interface CopyStep {
  readonly from: string | null;
  readonly sources: readonly string[];
  readonly destination: string;
}

const REPLAYABLE = new Set(['FROM', 'WORKDIR', 'COPY', 'RUN', 'ARG', 'ENV', 'LABEL', 'USER', 'EXPOSE', 'ENTRYPOINT', 'CMD']);

function unquote(value: string): string {
  return /^".*"$/s.test(value) ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
}

function toStep(instruction: Instruction): Step {
  const keyword = instruction.getKeyword();
  const line = instruction.getRange().start.line + 1;
  if (!REPLAYABLE.has(keyword)) throw new Error(`Dockerfile line ${line}: ${keyword} is not replayed by the image tests; extend test/image/`);
  const withFlags = instruction as Instruction & { getFlags?: () => { getName(): string; getValue(): string | null }[] };
  const withJson = instruction as Instruction & { getJSONStrings?: () => { getJSONValue(): string }[] };
  const withProperties = instruction as Instruction & { getProperties?: () => { getName(): string; getValue(): string | null }[] };
  const flags = Object.fromEntries((withFlags.getFlags?.() ?? []).map((flag) => [flag.getName(), flag.getValue()]));
  const json = withJson.getJSONStrings?.() ?? [];
  const properties = Object.fromEntries((withProperties.getProperties?.() ?? []).map((p) => [p.getName(), unquote(p.getValue() ?? '')]));
  return {
    keyword,
    line,
    words: instruction.getArguments().map((argument) => argument.getValue()),
    text: instruction.getArgumentsContent() ?? '',
    flags,
    exec: json.length > 0 ? json.map((value) => value.getJSONValue()) : null,
    properties,
  };
}

export function readDockerfile(text: string): Stage[] {
  const dockerfile = DockerfileParser.parse(text);
  const stages: { image: string; name: string | null; steps: Step[] }[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    const step = toStep(instruction);
    if (step.keyword === 'FROM') {
      const from = instruction as Instruction & { getImage(): string | null; getBuildStage(): string | null };
      stages.push({ image: from.getImage() ?? '', name: from.getBuildStage(), steps: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) throw new Error(`Dockerfile line ${step.line}: ${step.keyword} before the first FROM is not replayed by the image tests`);
    stage.steps.push(step);
  }
  return stages;
}

export function finalStage(stages: readonly Stage[]): Stage {
  const last = stages[stages.length - 1];
  if (!last) throw new Error('the Dockerfile has no FROM');
  return last;
}

export function stepsOf(stage: Stage, keyword: string): Step[] {
  return stage.steps.filter((step) => step.keyword === keyword);
}

export function asCopy(step: Step): CopyStep {
  const unknownFlags = Object.keys(step.flags).filter((flag) => flag !== 'from');
  if (unknownFlags.length > 0) throw new Error(`Dockerfile line ${step.line}: COPY --${unknownFlags[0]} is not replayed by the image tests`);
  const words = step.exec ?? step.words;
  if (words.length < 2) throw new Error(`Dockerfile line ${step.line}: COPY needs a source and a destination`);
  return { from: step.flags['from'] ?? null, sources: words.slice(0, -1), destination: words[words.length - 1]! };
}

/** The one ENTRYPOINT/CMD of a stage in exec form; shell form would need a shell the image lacks. */
export function execFormOf(stage: Stage, keyword: 'ENTRYPOINT' | 'CMD'): readonly string[] {
  const steps = stepsOf(stage, keyword);
  if (steps.length !== 1) throw new Error(`the final stage needs exactly one ${keyword}, found ${steps.length}`);
  const exec = steps[0]!.exec;
  if (exec === null) throw new Error(`Dockerfile line ${steps[0]!.line}: ${keyword} must be a JSON array (exec form): the image has no shell`);
  return exec;
}

/** Whether `.dockerignore` keeps `path` out of the build context (simple `name`, `dir/`, `*.ext` patterns, `!` negation). */
export function isIgnored(path: string, patterns: readonly string[]): boolean {
  const target = path.replace(/^\.\//, '').replace(/\/+$/, '');
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    const body = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*');
    if (new RegExp(`^${body}(/.*)?$`).test(target)) ignored = !negated;
  }
  return ignored;
}

export function readIgnorePatterns(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}
