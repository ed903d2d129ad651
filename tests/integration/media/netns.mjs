// Runs a media scenario inside a network namespace of its own (only `lo`, gone when the
// scenario ends), as the project's network rule asks of every WebRTC peer.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULT_PREFIX } from './peers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Why namespaced tests cannot run here, or null when they can. */
export function namespaceUnavailable() {
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return 'network namespaces need root (unshare -n); run the tests as root, as CI does';
  const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { stdio: 'ignore' });
  if (probe.status !== 0) return 'unshare -n / ip are not usable here (install util-linux and iproute2)';
  return null;
}

/** Runs scenarios/<name>.mjs in a fresh namespace; resolves with its JSON result. */
export function runScenario(name, { args = [], env = {}, timeoutMs = 60000 } = {}) {
  const script = path.join(here, 'scenarios', `${name}.mjs`);
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec node "$0" "$@"', script, ...args],
                        { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', () => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (!line) {
        reject(new Error(`scenario ${name} printed no result\nstdout: ${out.slice(-2000)}\nstderr: ${err.slice(-2000)}`));
        return;
      }
      const result = JSON.parse(line.slice(RESULT_PREFIX.length));
      if (result.error) reject(new Error(`scenario ${name} failed: ${result.error}\nserver stderr: ${result.stderr ?? ''}`));
      else resolve(result);
    });
  });
}
