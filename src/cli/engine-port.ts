// What the CLI needs of the engine (src/engine/index.ts). main.ts passes the real engine in;
// naming the needed functions here keeps the commands to what they use.
import type { CompiledPolicy, ManifestResult, NamespaceInfo, PolicyParseResult } from '../engine/model.js';
import type { PssVersion, RestrictedFinding } from '../engine/restricted/index.js';

export type { ManifestResult };

export interface CliEngine {
  parsePolicy(yamlText: string): PolicyParseResult;
  hardenManifest(policy: CompiledPolicy, namespace: NamespaceInfo, object: unknown): ManifestResult;
  checkRestricted(podLike: unknown, version?: PssVersion): RestrictedFinding[];
}
