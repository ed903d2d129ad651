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
  return runScenarioCommand(name, 'unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec node "$0" "$@"', script, ...args],
                            { env, timeoutMs });
}

function runScenarioCommand(name, file, fileArgs, { env, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, fileArgs, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
      if (result.glibProblems?.length) {
        reject(new Error(`scenario ${name}: the gateway printed ${result.glibProblems.length} GLib/GStreamer ` +
                         `CRITICAL/WARNING line(s):\n${result.glibProblems.slice(0, 10).join('\n')}` +
                         (result.error ? `\nand the scenario failed: ${result.error}` : '')));
      } else if (result.error) reject(new Error(`scenario ${name} failed: ${result.error}\nserver stderr: ${result.stderr ?? ''}`));
      else resolve(result);
    });
  });
}

// ---------------------------------------------------------------------------------------
// Two hosts: a veth pair between two network namespaces made here, the gateway in one
// ("server", 10.77.0.1) and the peers in the other ("client", 10.77.0.2). Loss is random
// iptables DROP on INPUT inside a namespace (this kernel has no netem).
//
// Names are mfl<pid>x<n> + s/c (namespaces) and a/b (veth ends): what a killed run left
// behind is found by the prefix and removed once its process is gone.

export const VETH_SERVER_ADDRESS = '10.77.0.1';
export const VETH_CLIENT_ADDRESS = '10.77.0.2';
const VETH_NAME = /^mfl(\d+)x\d+[scab]$/;
let vethCount = 0;

// Pairs still alive are deleted when this process ends, also when it is interrupted.
const liveVeths = new Set();
function destroyLiveVeths() {
  for (const veth of [...liveVeths]) veth.destroy();
}
process.on('exit', destroyLiveVeths);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    destroyLiveVeths();
    process.kill(process.pid, signal);
  });
}

function run(file, args, { check = true } = {}) {
  const r = spawnSync(file, args, { encoding: 'utf8' });
  if (check && r.status !== 0) {
    throw new Error(`${file} ${args.join(' ')} failed (${r.status}): ${(r.stderr || r.error?.message || '').trim()}`);
  }
  return r;
}

function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Ends what still runs in namespace `ns` (only ours: we made it), then deletes it. */
function deleteNamespace(ns) {
  const pids = run('ip', ['netns', 'pids', ns], { check: false }).stdout?.split(/\s+/).filter(Boolean) ?? [];
  for (const pid of pids) {
    try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
  }
  run('ip', ['netns', 'del', ns], { check: false });
}

/** Removes namespaces and veth ends with our prefix whose creating process has exited. */
export function removeStaleVeths() {
  const names = (run('ip', ['netns', 'list'], { check: false }).stdout ?? '').split('\n').map((l) => l.split(' ')[0]);
  for (const ns of names) {
    const m = VETH_NAME.exec(ns);
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) deleteNamespace(ns);
  }
  // A veth end left in this namespace (creation interrupted before it was moved).
  const links = (run('ip', ['-o', 'link', 'show', 'type', 'veth'], { check: false }).stdout ?? '').split('\n');
  for (const line of links) {
    const name = /^\d+:\s+([^@:\s]+)/.exec(line)?.[1];
    const m = name && VETH_NAME.exec(name);
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) run('ip', ['link', 'del', name], { check: false });
  }
}

/** Why the veth tests cannot run here, or null when they can. Probes for real. */
export function vethUnavailable() {
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return 'veth/namespace tests need root (ip netns, iptables); run the tests as root, as CI does';
  for (const tool of ['ip', 'iptables']) {
    if (spawnSync(tool, ['-V'], { stdio: 'ignore' }).error) return `${tool} is not installed (Debian: iproute2, iptables)`;
  }
  let veth;
  try {
    veth = createVeth();
    setLoss(veth.server, 5);
  } catch (e) {
    return `cannot make a veth pair between namespaces with iptables statistic loss here: ${e.message}`;
  } finally {
    veth?.destroy();
  }
  return null;
}

/**
 * Makes two namespaces joined by a veth pair; `destroy()` ends what runs in them and
 * deletes them (the veth goes with them). Always call destroy (try/finally).
 */
export function createVeth() {
  removeStaleVeths();
  const base = `mfl${process.pid}x${vethCount++}`;
  const veth = {
    server: `${base}s`, client: `${base}c`, serverIf: `${base}a`, clientIf: `${base}b`,
    serverAddress: VETH_SERVER_ADDRESS, clientAddress: VETH_CLIENT_ADDRESS,
    destroy() {
      liveVeths.delete(veth);
      deleteNamespace(veth.server);
      deleteNamespace(veth.client);
      run('ip', ['link', 'del', veth.serverIf], { check: false }); // only if left behind
    },
  };
  liveVeths.add(veth);
  try {
    run('ip', ['netns', 'add', veth.server]);
    run('ip', ['netns', 'add', veth.client]);
    run('ip', ['link', 'add', veth.serverIf, 'netns', veth.server, 'type', 'veth', 'peer', 'name', veth.clientIf,
               'netns', veth.client]);
    for (const [ns, dev, addr] of [[veth.server, veth.serverIf, veth.serverAddress], [veth.client, veth.clientIf, veth.clientAddress]]) {
      run('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev]);
      run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
  } catch (e) {
    veth.destroy();
    throw e;
  }
  return veth;
}

/**
 * Drops `percent` % of the UDP packets arriving in namespace `ns` (iptables statistic on
 * INPUT, first rule). UDP only: media, RTCP, STUN and DTLS lose packets; the WebSocket
 * signalling (TCP) does not, so set-up time stays out of the measurement. 0 removes it.
 */
export function setLoss(ns, percent) {
  const rule = ['INPUT', '-p', 'udp', '-m', 'statistic', '--mode', 'random', '--probability'];
  for (;;) { // remove earlier loss rules of ours
    const list = run('ip', ['netns', 'exec', ns, 'iptables', '-S', 'INPUT']).stdout;
    const m = /-A INPUT -p udp -m statistic --mode random --probability (\S+) -j DROP/.exec(list);
    if (!m) break;
    run('ip', ['netns', 'exec', ns, 'iptables', '-D', ...rule, m[1], '-j', 'DROP']);
  }
  if (percent > 0) run('ip', ['netns', 'exec', ns, 'iptables', '-I', ...rule, String(percent / 100), '-j', 'DROP']);
}

/**
 * Runs scenarios/<name>.mjs in the client namespace of a fresh veth pair, the gateway to
 * be started in the server namespace (the scenario reads MANIFOLD_NETNS / MANIFOLD_HOST).
 * The scenario switches the loss on itself (LOSS_PERCENT in LOSS_NETNS) when its
 * measurement starts. `lossAt` picks the namespaces that drop: 'server' (what the
 * gateway receives: the publisher's media, the receiver's RTCP), 'client' (what the peers
 * receive) or both (default). The namespaces are deleted afterwards, also on failure.
 */
export async function runScenarioOnVeth(name, { lossPercent = 0, lossAt = ['server', 'client'], args = [], env = {},
                                                timeoutMs = 60000 } = {}) {
  const script = path.join(here, 'scenarios', `${name}.mjs`);
  const veth = createVeth();
  try {
    return await runScenarioCommand(name, 'ip', ['netns', 'exec', veth.client, process.execPath, script, ...args], {
      timeoutMs,
      env: {
        MANIFOLD_NETNS: veth.server,
        MANIFOLD_HOST: veth.serverAddress,
        MANIFOLD_NETIF: veth.serverIf,
        LOSS_PERCENT: String(lossPercent),
        LOSS_NETNS: [].concat(lossAt).map((side) => veth[side]).join(','),
        ...env,
      },
    });
  } finally {
    veth.destroy();
  }
}

/**
 * tcpdump `args` in namespace `ns` (Debian: tcpdump), started through `wrap` (e.g.
 * ['taskset', '-c', '1']). `started` resolves once it listens; `stop()` ends it and
 * resolves with {captured, droppedByKernel}.
 */
export function startTcpdump(ns, args, { wrap = [] } = {}) {
  const child = spawn('ip', ['netns', 'exec', ns, ...wrap, 'tcpdump', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const started = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 5000);
    child.stderr.on('data', (d) => {
      err += d;
      if (/listening on/.test(err)) { clearTimeout(timer); resolve(); }
    });
    child.on('error', (e) => { clearTimeout(timer); reject(new Error(`cannot run tcpdump (Debian: tcpdump): ${e.message}`)); });
    exited.then((code) => { clearTimeout(timer); reject(new Error(`tcpdump exited (${code}): ${err}`)); });
  });
  return {
    started,
    async stop() {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
      const m = /(\d+) packets? captured[\s\S]*?(\d+) packets? dropped by kernel/.exec(err);
      return m ? { captured: Number(m[1]), droppedByKernel: Number(m[2]) } : { stderr: err };
    },
  };
}

/**
 * Captures the UDP traffic of the gateway in namespace `ns`, with tcpdump (Debian: tcpdump),
 * into two pcap files:
 *   `${prefix}.wire.pcap`  on the veth end `iface`: every packet as it arrives on the wire
 *                          (before any iptables loss rule) and leaves it, with the kernel's
 *                          timestamps (nanoseconds): the clock to measure forwarding delay
 *   `${prefix}.input.pcap` NFLOG copies of the UDP packets that passed INPUT, i.e. that the
 *                          loss rule let through (its timestamps are not used)
 * `stop()` ends both and removes the NFLOG rule.
 */
export async function startGatewayCapture(ns, iface, prefix, { group = 77 } = {}) {
  const nflog = ['-p', 'udp', '-j', 'NFLOG', '--nflog-group', String(group), '--nflog-size', '128'];
  run('ip', ['netns', 'exec', ns, 'iptables', '-A', 'INPUT', ...nflog]);
  const wire = startTcpdump(ns, ['-i', iface, '-w', `${prefix}.wire.pcap`, '-U', '-s', '160', '--time-stamp-precision=nano', 'udp']);
  const input = startTcpdump(ns, ['-i', `nflog:${group}`, '-w', `${prefix}.input.pcap`, '-U']);
  try {
    await Promise.all([wire.started, input.started]);
  } catch (e) {
    await Promise.allSettled([wire.stop(), input.stop()]);
    run('ip', ['netns', 'exec', ns, 'iptables', '-D', 'INPUT', ...nflog], { check: false });
    throw e;
  }
  return {
    async stop() {
      const [w, i] = await Promise.all([wire.stop(), input.stop()]);
      run('ip', ['netns', 'exec', ns, 'iptables', '-D', 'INPUT', ...nflog], { check: false });
      return { wire: w, input: i };
    },
  };
}
