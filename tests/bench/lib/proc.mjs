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

/**
 * Busy seconds of each CPU so far (/proc/stat: user, nice, system, irq, softirq, steal),
 * by CPU number. Over a window, a CPU's busy time minus what our processes on it used is
 * what other processes took from it: the machine is shared.
 */
export function cpuBusy() {
  const out = {};
  try {
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      const m = /^cpu(\d+) (.*)$/.exec(line);
      if (!m) continue;
      const f = m[2].trim().split(/\s+/).map(Number); // user nice system idle iowait irq softirq steal
      out[m[1]] = (f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] || 0)) / clockTicks();
    }
  } catch { /* no /proc/stat */ }
  return out;
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
