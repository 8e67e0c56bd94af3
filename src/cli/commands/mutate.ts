// `secure-defaults mutate`: print the manifests as the webhook would harden them.
import { Option } from 'commander';
import type { Command } from 'commander';
import { createTwoFilesPatch } from 'diff';
import type { CommandDeps, ExitCodeSink } from '../command-deps.js';
import { hardenStream, writeStreamNotes } from '../harden-stream.js';
import type { HardenedStream } from '../harden-stream.js';
import { addHardeningOptions } from '../hardening-options.js';
import type { HardeningOptions } from '../hardening-options.js';
import { renderJson, renderYamlDocuments, renderYamlStream, type RenderedDocument, type Replacement } from '../manifest-stream.js';
import { EXIT_OK } from '../user-error.js';
import { type JsonObject } from '../../foundation/json-object.js';


export const MUTATE_OUTPUTS = ['yaml', 'json', 'patch', 'diff'] as const;
export type MutateOutput = (typeof MUTATE_OUTPUTS)[number];

export interface MutateOptions extends HardeningOptions {
  readonly output: MutateOutput;
}

function writeNotes(deps: CommandDeps, stream: HardenedStream, rendered: readonly RenderedDocument[] | null): void {
  const { io } = deps;
  writeStreamNotes(io, stream);
  for (const outcome of stream.outcomes) {
    if (outcome.kind === 'passthrough') {
      io.writeStderr(`note: ${outcome.item.label}: passed through unchanged (not a workload)\n`);
      continue;
    }
    if (outcome.skipped !== undefined) {
      io.writeStderr(`note: ${outcome.item.label}: left unchanged: ${outcome.skipped}\n`);
    }
    for (const warning of outcome.warnings) {
      io.writeStderr(`warning: ${outcome.item.label}: ${warning}\n`);
    }
  }
  for (const document of rendered ?? []) {
    if (!document.inPlace) {
      io.writeStderr(`note: ${document.document.sourceName}: document ${document.document.position} was written anew (a merge key supplies a field the hardening changes), so its comments and layout were not kept\n`);
    }
  }
}

function renderPatches(stream: HardenedStream): string {
  const patches = stream.outcomes.flatMap((outcome) =>
    outcome.kind === 'hardened'
      ? [
          {
            apiVersion: outcome.item.apiVersion,
            kind: outcome.item.kind,
            name: outcome.item.name,
            namespace: outcome.namespace,
            patch: outcome.patch,
          },
        ]
      : [],
  );
  return `${JSON.stringify(patches, null, 2)}\n`;
}

/** A unified diff per changed document, named by its file and its place in it. */
function renderDiff(rendered: readonly RenderedDocument[]): string {
  return rendered
    .filter((document) => document.changed && document.before !== document.after)
    .map((document) => {
      const name = `${document.document.sourceName} (document ${document.document.position})`;
      return createTwoFilesPatch(`a/${name}`, `b/${name}`, document.before, document.after, '', '', { context: 3 }).replace(/^={67}\n/m, '');
    })
    .join('');
}

export async function runMutate(deps: CommandDeps, options: MutateOptions): Promise<number> {
  const stream = await hardenStream(deps.io, deps.engine, options, deps.defaultPolicyPath);
  const replacements = new Map<JsonObject, Replacement>();
  for (const outcome of stream.outcomes) {
    if (outcome.kind === 'hardened' && outcome.patch.length > 0) {
      replacements.set(outcome.item.object, { object: outcome.object, patch: outcome.patch });
    }
  }
  const rendered = options.output === 'yaml' || options.output === 'diff' ? renderYamlDocuments(stream.documents, replacements, stream.sourceTexts) : null;
  const text =
    options.output === 'patch'
      ? renderPatches(stream)
      : options.output === 'json'
        ? renderJson(stream.documents, replacements)
        : options.output === 'diff'
          ? renderDiff(rendered ?? [])
          : renderYamlStream(rendered ?? []);
  writeNotes(deps, stream, rendered);
  if (options.output === 'diff' && text === '') deps.io.writeStderr('note: nothing to change: every workload already has what the policy adds\n');
  deps.io.writeStdout(text);
  return EXIT_OK;
}

export function registerMutateCommand(program: Command, deps: CommandDeps, exitWith: ExitCodeSink): void {
  const command = program
    .command('mutate')
    .description(
      'Print the manifests hardened as the webhook would harden them. Pods and the Pod templates of ' +
        'Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs are hardened, each YAML document edited in place ' +
        '(comments, key order, quoting, flow style and anchors kept); other kinds are passed through unchanged, in the same order. ' +
        'Warnings and notes go to stderr.',
    );
  addHardeningOptions(command)
    .addOption(
      new Option(
        '-o, --output <format>',
        'yaml: the manifests; json: one object, or a v1 List; patch: a JSON array of {apiVersion, kind, name, namespace, patch} with the RFC 6902 patch per workload; diff: a unified diff per changed document',
      )
        .choices(MUTATE_OUTPUTS)
        .default('yaml'),
    )
    .addHelpText('after', '\nExit status: 0 the manifests were written, 2 bad input (unreadable file, invalid YAML or policy, an object that cannot be hardened).')
    .action(async (options: MutateOptions) => {
      exitWith(await runMutate(deps, options));
    });
}
