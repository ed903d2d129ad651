// What the kernel says a process costs: CPU time (utime + stime of every thread, from
// /proc/PID/stat), resident memory and thread count (/proc/PID/status).
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let ticks = 0;
/** Clock ticks per second of /proc/PID/stat (getconf CLK_TCK, normally 100). */
export function clockTicks() {
  if (!ticks) {
    try { ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { ticks = 100; }
  }
  return ticks;
}

/** {cpuS, rssKb, threads} of `pid` now, or null when it is gone. */
export function sample(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    const cpuS = (Number(f[11]) + Number(f[12])) / clockTicks(); // fields 14 utime, 15 stime
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    return { t: Date.now(), cpuS, rssKb, threads };
  } catch {
    return null;
  }
}
