// The engine's public entry: everything the webhook, the CLI and the cluster adapters use.
export * from './model.js';
export { WARNING_REASONS, OTHER_WARNING_REASON, type ReasonedWarnings } from './warning-reasons.js';
export { parsePolicy, validatePolicy, POLICY_API_VERSION, POLICY_KIND } from './policy-parser.js';
export { compileValidation, type PolicyValidation, type ValidatedPolicy } from './compiled-policy.js';
export { decideAdmission } from './admission-decision.js';
export { isOptedIn } from './namespace-opt-in.js';
export { hardenManifest } from './manifest-hardener.js';
export { isWorkload, podTemplateOf, type PodTemplate } from './workload-kinds.js';
export { parseIdRange, formatIdRange, MAX_ID } from './id-range.js';
export { checkRestricted, checkBaseline, checkPodSecurity, type RestrictedFinding, type PodSecurityLevel } from './restricted/index.js';
