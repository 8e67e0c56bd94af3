// Reads a V8 .cpuprofile (what `node --cpu-prof` writes) and says where the time went, as text:
// self time per function, time including callees, and self time per package.
import { readFileSync } from 'node:fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface FunctionTime {
  readonly functionName: string;
  /** "dist/src/engine/harden.js:42" or "node:internal/…"; empty for V8's own pseudo-frames. */
  readonly location: string;
  readonly package: string;
  readonly selfMs: number;
  /** Time with this function anywhere on the stack (each sample counted once even under recursion). */
  readonly totalMs: number;
}

export interface ProfileSummary {
  readonly wallMs: number;
  readonly idleMs: number;
  /** Everything but (idle): JS, native, GC, (program). */
  readonly busyMs: number;
  readonly functions: readonly FunctionTime[];
  readonly packages: readonly { readonly package: string; readonly selfMs: number }[];
}

export function readCpuProfile(file: string): CpuProfile {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<CpuProfile>;
  if (!Array.isArray(parsed.nodes) || !Array.isArray(parsed.samples) || !Array.isArray(parsed.timeDeltas)) {
    throw new Error(`${file}: not a V8 CPU profile (needs "nodes", "samples" and "timeDeltas" arrays; write one with node --cpu-prof)`);
  }
  return parsed as CpuProfile;
}

/** Shortens a script URL to something readable: repository-relative, or package-relative. */
function shortLocation(url: string): string {
  if (url === '') return '';
  const path = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  const inModules = path.lastIndexOf('/node_modules/');
  if (inModules >= 0) return path.slice(inModules + '/node_modules/'.length);
  const inDist = path.lastIndexOf('/dist/');
  if (inDist >= 0) return path.slice(inDist + 1);
  return path;
}

/** Who owns the code: an npm package, node core, this project (by folder), or V8 itself. */
function packageOf(frame: CallFrame): string {
  const url = frame.url;
  if (url === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (url.startsWith('node:')) return 'node core';
  const path = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  const inModules = path.lastIndexOf('/node_modules/');
  if (inModules >= 0) {
    const parts = path.slice(inModules + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? path);
  }
  const inSrc = /\/dist\/(src|bench)\/([^/]+)/.exec(path);
  if (inSrc) return `secure-defaults ${inSrc[1]}/${inSrc[2]!.replace(/\.js$/, '')}`;
  return path;
}

function frameKey(frame: CallFrame): string {
  return `${frame.functionName}\u0000${frame.url}\u0000${frame.lineNumber}\u0000${frame.columnNumber}`;
}

export function summarizeCpuProfile(profile: CpuProfile): ProfileSummary {
  const nodeById = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

  // Sample i lasts from its own timestamp to the next one (the last lasts until endTime), the way
  // Chrome DevTools attributes time.
  const timestamps: number[] = [];
  let t = profile.startTime;
  for (const delta of profile.timeDeltas) {
    t += delta;
    timestamps.push(t);
  }
  const durationUs = (i: number): number => Math.max(0, (timestamps[i + 1] ?? profile.endTime) - (timestamps[i] ?? profile.endTime));

  const self = new Map<string, { frame: CallFrame; us: number }>();
  const total = new Map<string, number>();
  let idleUs = 0;
  let wallUs = 0;
  profile.samples.forEach((nodeId, i) => {
    const us = durationUs(i);
    wallUs += us;
    const node = nodeById.get(nodeId);
    if (!node) return;
    if (node.callFrame.functionName === '(idle)') {
      idleUs += us;
      return;
    }
    const key = frameKey(node.callFrame);
    const entry = self.get(key) ?? { frame: node.callFrame, us: 0 };
    entry.us += us;
    self.set(key, entry);
    const onStack = new Set<string>();
    for (let id: number | undefined = nodeId; id !== undefined; id = parentOf.get(id)) {
      const frame = nodeById.get(id)?.callFrame;
      if (frame && frame.functionName !== '(root)') onStack.add(frameKey(frame));
    }
    for (const k of onStack) total.set(k, (total.get(k) ?? 0) + us);
  });

  const functions = [...self.entries()]
    .map(([key, { frame, us }]) => ({
      functionName: frame.functionName === '' ? '(anonymous)' : frame.functionName,
      location: frame.url === '' ? '' : `${shortLocation(frame.url)}:${frame.lineNumber + 1}`,
      package: packageOf(frame),
      selfMs: us / 1000,
      totalMs: (total.get(key) ?? us) / 1000,
    }))
    .sort((a, b) => b.selfMs - a.selfMs);
  const byPackage = new Map<string, number>();
  for (const f of functions) byPackage.set(f.package, (byPackage.get(f.package) ?? 0) + f.selfMs);
  const packages = [...byPackage.entries()].map(([name, selfMs]) => ({ package: name, selfMs })).sort((a, b) => b.selfMs - a.selfMs);
  return { wallMs: wallUs / 1000, idleMs: idleUs / 1000, busyMs: (wallUs - idleUs) / 1000, functions, packages };
}

export function formatProfileSummary(summary: ProfileSummary, top: number): string {
  const share = (ms: number): string => (summary.busyMs > 0 ? `${((ms / summary.busyMs) * 100).toFixed(1)}%` : 'n/a');
  const lines: string[] = [];
  lines.push(`Profiled ${(summary.wallMs / 1000).toFixed(1)} s: busy ${(summary.busyMs / 1000).toFixed(1)} s, idle ${(summary.idleMs / 1000).toFixed(1)} s. Percentages are of busy time.`);
  lines.push('');
  lines.push(`Top ${top} functions by self time:`);
  lines.push('');
  lines.push('| self ms | self % | incl. callees % | function | where |');
  lines.push('|---:|---:|---:|---|---|');
  for (const f of summary.functions.slice(0, top)) {
    lines.push(`| ${f.selfMs.toFixed(0)} | ${share(f.selfMs)} | ${share(f.totalMs)} | ${f.functionName} | ${f.location || f.package} |`);
  }
  lines.push('');
  lines.push('Self time by package:');
  lines.push('');
  lines.push('| self ms | self % | package |');
  lines.push('|---:|---:|---|');
  for (const p of summary.packages.slice(0, top)) lines.push(`| ${p.selfMs.toFixed(0)} | ${share(p.selfMs)} | ${p.package} |`);
  return lines.join('\n');
}
