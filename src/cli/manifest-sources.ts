// Where manifests come from, as kubectl reads them: `-f` repeated, `-` for stdin, a directory's
// .yaml/.yml/.json files (its subdirectories too with -R). Every file named or found is either
// read or reported on stderr as skipped, with the reason: nothing is dropped silently.
import type { CliIo } from './cli-io.js';
import { readInput } from './read-input.js';
import { UserError } from './user-error.js';

export interface ManifestSource {
  /** How messages name it: the path, or "stdin". */
  readonly name: string;
  readonly text: string;
}

export interface ManifestSources {
  readonly sources: readonly ManifestSource[];
  /** Files and directories skipped, with why, for stderr. */
  readonly notes: readonly string[];
}

const MANIFEST_EXTENSIONS = /\.(ya?ml|json)$/i;
/** Deeper than any repository layout; stops a symlink loop. */
const MAX_DEPTH = 32;

function joinPath(directory: string, name: string): string {
  return directory.endsWith('/') ? `${directory}${name}` : `${directory}/${name}`;
}

function isDirectoryError(error: unknown): boolean {
  return error instanceof UserError && / is a directory, not a file$/.test(error.message);
}

export async function readManifestSources(io: CliIo, filenames: readonly string[], recursive: boolean): Promise<ManifestSources> {
  if (filenames.length === 0) throw new UserError('no input: give -f FILE, -f DIRECTORY or -f - (stdin); -f may be repeated');
  if (filenames.filter((f) => f === '-').length > 1) throw new UserError('-f - (stdin) given more than once: stdin can be read only once');
  const sources: ManifestSource[] = [];
  const notes: string[] = [];

  const readDirectory = async (directory: string, depth: number): Promise<void> => {
    if (io.readDirectory === undefined) throw new UserError(`cannot read manifests ${JSON.stringify(directory)}: is a directory`);
    if (depth > MAX_DEPTH) throw new UserError(`${directory}: more than ${MAX_DEPTH} directories deep (a symlink loop?)`);
    let entries;
    try {
      entries = await io.readDirectory(directory);
    } catch (error) {
      throw new UserError(`cannot read directory ${JSON.stringify(directory)}: ${(error as { code?: string }).code ?? 'unreadable'}`);
    }
    const before = sources.length;
    for (const entry of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = joinPath(directory, entry.name);
      if (entry.directory) {
        if (recursive) await readDirectory(path, depth + 1);
        else notes.push(`${path}: directory skipped (use -R to read subdirectories)`);
      } else if (MANIFEST_EXTENSIONS.test(entry.name)) {
        sources.push({ name: path, text: await readInput(io, path, 'manifests') });
      } else {
        notes.push(`${path}: skipped (not .yaml, .yml or .json)`);
      }
    }
    if (depth === 0 && sources.length === before) throw new UserError(`${directory}: no .yaml, .yml or .json files${recursive ? '' : ' (use -R to read subdirectories)'}`);
  };

  for (const filename of filenames) {
    if (filename === '-') {
      sources.push({ name: 'stdin', text: await io.readStdin() });
      continue;
    }
    try {
      sources.push({ name: filename, text: await readInput(io, filename, 'manifests') });
    } catch (error) {
      if (!isDirectoryError(error)) throw error;
      await readDirectory(filename, 0);
    }
  }
  return { sources, notes };
}
