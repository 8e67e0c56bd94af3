// Memory and CPU of a child process as Linux accounts it, read from /proc so the numbers cover the
// whole process (every thread, native memory included), not just the JS heap; and which CPU it
// may run on.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Every thread of `pid` (and those it starts later) onto `cpu`. */
export function pinToCpu(pid: number, cpu: number): void {
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

/**
 * USER_HZ, the unit of utime/stime in /proc/<pid>/stat. It is 100 on every Linux architecture
 * Node runs on; the kernel fixes it for user space regardless of CONFIG_HZ.
 */
const CLOCK_TICKS_PER_SECOND = 100;

/** Resident set size in bytes (VmRSS), or null when the process is gone. */
export function readRssBytes(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** User + system CPU seconds the process has used so far, or null when it is gone. */
export function readCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; fields are counted after its ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, so 11 and 12 after the name.
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / CLOCK_TICKS_PER_SECOND : null;
  } catch {
    return null;
  }
}
