// Starts Janus (Debian package `janus`, 1.1.x) with only its VideoRoom plugin and its
// WebSocket transport, inside a network namespace the benchmark made (the server end of a
// veth pair), and stops it.
//
// Why a veth pair: Janus 1.1.2 gathers ICE candidates only on interfaces that are up and
// not loopback (it skips `lo` however it is configured), so inside `unshare -n` (only `lo`)
// it offers no candidate at all. On the server end of a veth pair it finds the pair's
// address by itself; `ice_enforce_list` names that interface so nothing else is used, and
// the WebSocket transport listens on that address only (`ws_ip`).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const JANUS_WS_PORT = 8188;

const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu/janus', '/usr/lib/aarch64-linux-gnu/janus', '/usr/lib/janus', '/usr/local/lib/janus'];

function janusLibDir() {
  return LIB_DIRS.find((d) => existsSync(path.join(d, 'plugins'))) ?? null;
}

/** Why Janus cannot run here, or null. */
export function janusUnavailable() {
  const lib = janusLibDir();
  if (!lib) return 'Janus is not installed (Debian: apt-get install janus)';
  if (!existsSync(path.join(lib, 'plugins', 'libjanus_videoroom.so'))) return 'the Janus VideoRoom plugin is missing';
  if (!existsSync(path.join(lib, 'transports', 'libjanus_websockets.so'))) return 'the Janus WebSocket transport is missing';
  return null;
}

/** Every .so of `folder` except the ones in `keep`, comma-separated (Janus's `disable` syntax). */
function allBut(folder, keep) {
  return readdirSync(folder).filter((f) => f.endsWith('.so') && !keep.includes(f)).join(',');
}

/**
 * Writes a config folder and starts `janus` in namespace `netns`, pinned with taskset to
 * `cpus` (e.g. '0'). Resolves once the WebSocket transport listens.
 * @returns {Promise<{pid: number, wsUrl: string, stop: () => Promise<number>, log: () => string}>}
 */
export async function startJanus({ netns, address, iface, cpus, debugLevel = 3, timeoutMs = 15000 }) {
  const lib = janusLibDir();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-janus-'));
  writeFileSync(path.join(dir, 'janus.jcfg'), `general: {
  configs_folder = "${dir}"
  plugins_folder = "${lib}/plugins"
  transports_folder = "${lib}/transports"
  events_folder = "${lib}/events"
  loggers_folder = "${lib}/loggers"
  debug_level = ${debugLevel}
  server_name = "bench"
  session_timeout = 60
}
certificates: {
}
media: {
}
nat: {
  nice_debug = false
  ice_enforce_list = "${iface}"
  ice_ignore_list = ""
}
plugins: {
  disable = "${allBut(path.join(lib, 'plugins'), ['libjanus_videoroom.so'])}"
}
transports: {
  disable = "${allBut(path.join(lib, 'transports'), ['libjanus_websockets.so'])}"
}
events: {
}
loggers: {
  disable = "${existsSync(path.join(lib, 'loggers')) ? allBut(path.join(lib, 'loggers'), []) : ''}"
}
`);
  writeFileSync(path.join(dir, 'janus.transport.websockets.jcfg'), `general: {
  json = "plain"
  ws = true
  ws_port = ${JANUS_WS_PORT}
  ws_ip = "${address}"
  wss = false
}
admin: {
  admin_ws = false
  admin_wss = false
}
`);
  // No rooms configured: the load generator creates its rooms through the API.
  writeFileSync(path.join(dir, 'janus.plugin.videoroom.jcfg'), 'general: {\n}\n');

  const args = ['netns', 'exec', netns, 'taskset', '-c', cpus, 'janus', '-C', path.join(dir, 'janus.jcfg'), '-F', dir, '-o', '-i', address];
  const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => { log = (log + d).slice(-200000); });
  child.stderr.on('data', (d) => { log = (log + d).slice(-200000); });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? 128 + (os.constants.signals[signal] ?? 0))));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
    return exited;
  };
  try {
    // Ready when the WebSocket port accepts a connection (probed inside the namespace).
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`janus exited before listening:\n${log.slice(-3000)}`);
      const probe = spawnSync('ip', ['netns', 'exec', netns, 'bash', '-c', `exec 3<>/dev/tcp/${address}/${JANUS_WS_PORT}`], { stdio: 'ignore' });
      if (probe.status === 0) break;
      if (Date.now() > end) throw new Error(`janus did not listen within ${timeoutMs} ms:\n${log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  // `ip netns exec` execs in place and taskset execs janus: the child's pid is Janus's.
  return { pid: child.pid, wsUrl: `ws://${address}:${JANUS_WS_PORT}`, stop, log: () => log, exited };
}
