// `secure-defaults mutate`: print the manifests as the webhook would harden them.
import { Option } from 'commander';
import type { Command } from 'commander';
import type { CommandDeps, ExitCodeSink } from '../command-deps.js';
import { hardenStream } from '../harden-stream.js';
import type { HardenedStream } from '../harden-stream.js';
import { addHardeningOptions } from '../hardening-options.js';
import type { HardeningOptions } from '../hardening-options.js';
import { renderJson, renderYamlStream } from '../manifest-stream.js';
import type { JsonObject } from '../manifest-stream.js';
import { EXIT_OK } from '../user-error.js';

export const MUTATE_OUTPUTS = ['yaml', 'json', 'patch'] as const;
export type MutateOutput = (typeof MUTATE_OUTPUTS)[number];

export interface MutateOptions extends HardeningOptions {
  readonly output: MutateOutput;
}

function writeNotes(deps: CommandDeps, stream: HardenedStream): void {
  const { io } = deps;
  for (const warning of stream.policyWarnings) {
    io.writeStderr(`warning: policy: ${warning}\n`);
  }
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

export async function runMutate(deps: CommandDeps, options: MutateOptions): Promise<number> {
  const stream = await hardenStream(deps.io, deps.engine, options, deps.defaultPolicyPath);
  const replacements = new Map<JsonObject, unknown>();
  for (const outcome of stream.outcomes) {
    if (outcome.kind === 'hardened') {
      replacements.set(outcome.item.object, outcome.object);
    }
  }
  const rendered =
    options.output === 'patch'
      ? renderPatches(stream)
      : options.output === 'json'
        ? renderJson(stream.documents, replacements)
        : renderYamlStream(stream.documents, replacements);
  writeNotes(deps, stream);
  deps.io.writeStdout(rendered);
  return EXIT_OK;
}

export function registerMutateCommand(program: Command, deps: CommandDeps, exitWith: ExitCodeSink): void {
  const command = program
    .command('mutate')
    .description(
      'Print the manifests hardened as the webhook would harden them. Pods and the Pod templates of ' +
        'Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs are hardened; other kinds ' +
        'are passed through unchanged, in the same order. Warnings go to stderr.',
    );
  addHardeningOptions(command)
    .addOption(
      new Option('-o, --output <format>', 'yaml: the manifests; json: one object, or a v1 List; patch: a JSON array of {apiVersion, kind, name, namespace, patch} with the RFC 6902 patch per workload')
        .choices(MUTATE_OUTPUTS)
        .default('yaml'),
    )
    .action(async (options: MutateOptions) => {
      exitWith(await runMutate(deps, options));
    });
}
