#!/usr/bin/env node
// Benchmark driver: the same scenarios against Manifold and against Janus VideoRoom, in
// the same run, interleaved, repeated; prints figures per run, medians per cell and
// Manifold/Janus ratios, and writes them (JSON, Markdown tables, PNG plots).
// A benchmark prints, it never fails: a run that breaks is reported and the rest go on.
//
//   node tests/bench/run.mjs [--scenarios room,rooms-of-3,audio-30,viewers-30] [--servers manifold,janus]
//        [--reps 3] [--window 10] [--settle 2] [--noise 0.1] [--only LABEL,...] [--out DIR] [--keep-pcap] [--profile DIR]
//   node tests/bench/run.mjs --report-only --out DIR     tables and plots again from DIR/results.json
//
// Every run: a fresh veth pair between two network namespaces made here (server side
// 10.77.0.1, client side 10.77.0.2, tests/integration/media/netns.mjs); the server under
// test on CPU 0 (taskset), the load generator (tests/bench/loadgen.mjs), tcpdump and this
// driver on CPU 1. After every participant joined and `--settle` seconds, a window of
// `--window` seconds is measured: server CPU time and memory from /proc, what every
// receiver got (getStats), and a capture of the server's veth end (forwarding delay,
// packets in and out). Needs root, iproute2, tcpdump, janus, and the built gateway
// (MANIFOLD_BUILD_DIR, default build).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createVeth, startTcpdump, vethUnavailable } from '../integration/media/netns.mjs';
import { startManifold, manifoldBinary } from '../integration/lib/server.mjs';
import { RESULT_PREFIX } from '../integration/media/peers.mjs';
import { readPcap } from './rtp-capture.mjs';
import { forwardingDelays } from './lib/delay.mjs';
import { sample, cpuBusy } from './lib/proc.mjs';
import { forwardedStreams, participantCount } from './lib/plan.mjs';
import { startJanus, janusUnavailable } from './lib/janus-server.mjs';
import { quantile, median, mean, fmt } from './lib/stats.mjs';
import { writeReport } from './lib/report.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    scenarios: { type: 'string', default: 'room,rooms-of-3,audio-30,viewers-30' },
    servers: { type: 'string', default: 'manifold,janus' },
    reps: { type: 'string', default: '3' },
    window: { type: 'string', default: '10' },
    settle: { type: 'string', default: '2' },
    noise: { type: 'string', default: '0.1' }, // share of the VP8 source's rows that are random each frame
    only: { type: 'string' },
    out: { type: 'string', default: path.join(here, 'results') },
    'keep-pcap': { type: 'boolean', default: false },
    'report-only': { type: 'boolean', default: false }, // tables and plots again from OUT/results.json
    profile: { type: 'string' }, // DIR: perf record (cpu-clock) of the server during each window, report in DIR
  },
});
const reps = Number(opt.reps);
const windowMs = Number(opt.window) * 1000;
const settleMs = Number(opt.settle) * 1000;
let servers = opt.servers.split(',').filter(Boolean);
const SERVER_CPU = '0';
const LOAD_CPU = '1';

function say(line) { process.stdout.write(`${line}\n`); }

if (opt['report-only']) {
  const saved = JSON.parse(readFileSync(path.join(opt.out, 'results.json'), 'utf8'));
  const names = [...new Set(saved.runs.map((r) => r.scenario))];
  const list = [];
  for (const name of names) list.push((await import(pathToFileURL(path.join(here, 'scenarios', `${name}.mjs`)))).default);
  const used = [...new Set(saved.runs.map((r) => r.server))].sort((a, b) => (a === 'manifold' ? -1 : b === 'manifold' ? 1 : 0));
  say(writeReport({ machine: saved.machine, runs: saved.runs, scenarios: list, servers: used, outDir: opt.out }));
  process.exit(0);
}

const why = vethUnavailable();
if (why) { say(`bench: cannot run: ${why}`); process.exit(0); }
if (spawnSync('tcpdump', ['--version'], { stdio: 'ignore' }).error) { say('bench: tcpdump is not installed (apt-get install tcpdump)'); process.exit(0); }
if (servers.includes('manifold') && !existsSync(manifoldBinary())) {
  say(`bench: no gateway binary at ${manifoldBinary()}: Manifold runs skipped`);
  servers = servers.filter((s) => s !== 'manifold');
}
const janusWhy = janusUnavailable();
if (servers.includes('janus') && janusWhy) {
  say(`bench: ${janusWhy}: Janus runs skipped`);
  servers = servers.filter((s) => s !== 'janus');
}
if (os.cpus().length >= 2) spawnSync('taskset', ['-a', '-pc', LOAD_CPU, String(process.pid)], { stdio: 'ignore' });

const scenarios = [];
for (const name of opt.scenarios.split(',').filter(Boolean)) {
  const file = path.join(here, 'scenarios', `${name}.mjs`);
  if (!existsSync(file)) { say(`bench: no scenario ${name} (${readdirSync(path.join(here, 'scenarios')).join(', ')})`); continue; }
  scenarios.push((await import(pathToFileURL(file))).default);
}
const only = opt.only ? new Set(opt.only.split(',')) : null;
// What goes into results.json: paths relative to the repository, none of this machine's.
const repoRoot = path.resolve(here, '..', '..');
const savedOptions = { ...opt, out: path.relative(repoRoot, path.resolve(opt.out)) || '.' };

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const version = (cmd, args, re) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return re.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1] ?? '?';
  };
  const dpkg = (pkg) => version('dpkg-query', ['-W', '-f=${Version}', pkg], /^(\S+)/);
  return {
    date: new Date().toISOString(),
    nproc: os.cpus().length,
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? '?',
    kernel: os.release(),
    gstreamer: version('pkg-config', ['--modversion', 'gstreamer-1.0'], /^(\S+)/),
    janus: version('janus', ['--version'], /Janus version: \d+ \((\S+)\)/),
    janusPackage: dpkg('janus'),
    libnice: dpkg('libnice10'),
    libsrtp: dpkg('libsrtp2-1'),
    node: process.version,
    wrtc: JSON.parse(readFileSync(path.join(here, '..', 'node_modules', '@roamhq', 'wrtc', 'package.json'), 'utf8')).version,
    gitHead: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', cwd: here }).stdout?.trim() || '?',
    gitDirty: (spawnSync('git', ['status', '--porcelain', '--', '../../src', '../../pipelines', '../../signalling'], { encoding: 'utf8', cwd: here }).stdout ?? '').trim() ? 'yes' : 'no',
    loadavg: os.loadavg().map((l) => l.toFixed(2)).join(' '),
    noise: Number(opt.noise),
    command: `node tests/bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  };
}

function startCapture(ns, iface, file) {
  // Snap length 64: Ethernet + IPv4 + UDP + the 12-byte RTP header.
  return startTcpdump(ns, ['-i', iface, '-w', file, '-s', '64', '-B', '16384', '--time-stamp-precision=nano', '-n', 'udp'],
                      { wrap: ['taskset', '-c', LOAD_CPU] });
}

/** The load generator in the client namespace, on the load CPU; line-based control. */
function startLoadgen(ns, config) {
  const child = spawn('ip', ['netns', 'exec', ns, 'taskset', '-c', LOAD_CPU, process.execPath, path.join(here, 'loadgen.mjs'), JSON.stringify(config)],
                      { stdio: ['pipe', 'pipe', 'pipe'] });
  let buf = '';
  let err = '';
  const waiters = [];
  const lines = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const w of [...waiters]) if (w.test(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
    }
  });
  child.stderr.on('data', (d) => { err = (err + d).slice(-20000); if (process.env.BENCH_VERBOSE) process.stderr.write(d); });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  const waitLine = (prefix, timeoutMs) => new Promise((resolve, reject) => {
    const found = lines.find((l) => l.startsWith(prefix));
    if (found) { resolve(found); return; }
    const w = { test: (l) => l.startsWith(prefix), resolve: (l) => { clearTimeout(timer); resolve(l); } };
    const timer = setTimeout(() => { waiters.splice(waiters.indexOf(w), 1); reject(new Error(`loadgen: no ${prefix.trim()} within ${timeoutMs} ms; stderr: ${err.slice(-1500)}`)); }, timeoutMs);
    waiters.push(w);
    exited.then((code) => { clearTimeout(timer); reject(new Error(`loadgen exited (${code}) before ${prefix.trim()}; stderr: ${err.slice(-1500)}`)); });
  });
  return {
    pid: child.pid,
    waitLine,
    send(cmd) { child.stdin.write(`${cmd}\n`); },
    kill() { try { child.kill('SIGKILL'); } catch { /* gone */ } },
    exited,
    stderr: () => err,
  };
}

async function startServer(server, veth) {
  if (server === 'manifold') {
    const m = await startManifold(['--address', veth.serverAddress, '--ice-address', veth.serverAddress, '--auth', 'none',
                                   '--max-participants', '64', '--log-level', 'warning'],
                                  { netns: veth.server, host: veth.serverAddress, env: { GST_DEBUG: 'manifold*:2' } });
    // Pin every thread; threads made later inherit the affinity of the one that makes them.
    spawnSync('taskset', ['-a', '-pc', SERVER_CPU, String(m.process.pid)], { stdio: 'ignore' });
    return { pid: m.process.pid, url: m.wsUrl, stop: () => m.stop(), log: () => m.stdout() + m.stderr() };
  }
  const j = await startJanus({ netns: veth.server, address: veth.serverAddress, iface: veth.serverIf, cpus: SERVER_CPU });
  return { pid: j.pid, url: j.wsUrl, stop: () => j.stop(), log: () => j.log() };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits until both veth ends have carrier: libwebrtc ignores an interface that is not
 *  running yet and looks again only 2 s later (that showed as 2 s join times). */
async function vethUp(veth) {
  const end = Date.now() + 5000;
  for (;;) {
    const up = [[veth.server, veth.serverIf], [veth.client, veth.clientIf]].every(([ns, dev]) =>
      /LOWER_UP/.test(spawnSync('ip', ['-n', ns, '-o', 'link', 'show', 'dev', dev], { encoding: 'utf8' }).stdout ?? ''));
    if (up || Date.now() > end) return up;
    await sleep(20);
  }
}

/** One run: one server, one scenario variant. Never throws: errors go into the result. */
async function runOnce(server, scenario, variant, rep, work) {
  const rooms = variant.rooms;
  const specs = rooms.flatMap((r) => r.participants);
  const row = { server, scenario: scenario.name, variant: variant.label, x: variant.x, rep,
                participants: participantCount(rooms), expectedStreams: forwardedStreams(rooms),
                // who receives: counting peers (lib/counting-peer.mjs) or wrtc (libwebrtc) peers
                receivers: { counting: specs.filter((p) => p.subscribe && p.counting).length, wrtc: specs.filter((p) => p.subscribe && !p.counting).length } };
  const veth = createVeth();
  let srv = null;
  let load = null;
  let capture = null;
  const pcap = path.join(work, `${scenario.name}-${variant.label}-${server}-${rep}.pcap`.replace(/[^A-Za-z0-9._-]/g, '_'));
  const t = Date.now();
  try {
    await vethUp(veth);
    srv = await startServer(server, veth);
    await sleep(300);
    const idle = sample(srv.pid);
    row.idle = idle;
    load = startLoadgen(veth.client, { server, url: srv.url, clientAddress: veth.clientAddress, rooms, fps: 15, noise: Number(opt.noise), joinWaitMs: scenario.joinWaitMs ?? 10000 });
    const ready = JSON.parse((await load.waitLine('READY ', 240000)).slice(6));
    row.joins = ready.joins;
    row.setupS = (Date.now() - t) / 1000;
    await sleep(settleMs);
    capture = startCapture(veth.server, veth.serverIf, pcap);
    await capture.started;
    await sleep(300);
    load.send('START');
    await load.waitLine('STARTED', 30000);
    const s0 = sample(srv.pid);
    const l0 = sample(load.pid);
    const b0 = cpuBusy();
    let perf = null;
    if (opt.profile) {
      // Software clock sampling (no hardware counters in this VM); perf runs on the load CPU.
      mkdirSync(opt.profile, { recursive: true });
      row.perfData = path.join(path.resolve(opt.profile), `${scenario.name}-${variant.label}-${server}-${rep}.perf.data`.replace(/[^A-Za-z0-9._/-]/g, '_'));
      perf = spawn('taskset', ['-c', LOAD_CPU, 'perf', 'record', '-q', '-e', 'cpu-clock', '-F', '999', '-p', String(srv.pid), '-o', row.perfData,
                               '--', 'sleep', String(windowMs / 1000)], { stdio: 'ignore' });
    }
    const perSecond = [];
    let prev = s0;
    for (let i = 1; i * 1000 <= windowMs; i++) {
      await sleep(s0.t + i * 1000 - Date.now());
      const s = sample(srv.pid);
      if (s && prev) perSecond.push((s.cpuS - prev.cpuS) / ((s.t - prev.t) / 1000));
      prev = s;
    }
    await sleep(s0.t + windowMs - Date.now());
    const s1 = sample(srv.pid);
    const l1 = sample(load.pid);
    const b1 = cpuBusy();
    if (perf) await new Promise((resolve) => { if (perf.exitCode !== null) resolve(); else perf.on('exit', resolve); });
    load.send('STOP');
    const resultLine = await load.waitLine(RESULT_PREFIX, 60000);
    const result = JSON.parse(resultLine.slice(RESULT_PREFIX.length));
    await sleep(200);
    row.capture = await capture.stop();
    capture = null;
    if (!s1) throw new Error('the server died during the window');
    const windowS = (s1.t - s0.t) / 1000;
    row.windowS = windowS;
    row.cpu = (s1.cpuS - s0.cpuS) / windowS; // cores
    row.cpuPerSecondMax = Math.max(...perSecond);
    row.loadCpu = l0 && l1 ? (l1.cpuS - l0.cpuS) / windowS : null;
    // How busy each of the two CPUs was (all processes): the machine is shared, and a load
    // generator whose CPU is full of other processes' work falls behind without using
    // much CPU of its own. CPU 1 also runs tcpdump and this driver.
    const busy = (cpu) => (b1[cpu] !== undefined && b0[cpu] !== undefined ? (b1[cpu] - b0[cpu]) / windowS : null);
    row.serverCpuBusy = busy(SERVER_CPU);
    row.loadCpuBusy = busy(LOAD_CPU);
    // The load generator's cost per RTP packet its receivers got (every receiver, every
    // stream, from getStats or the counting peers); it includes the publishers' encoding.
    row.rxPps = result.subs.reduce((a, sub) => a + sub.packets, 0) / result.windowS;
    row.loadUsPerRxPacket = row.loadCpu !== null && row.rxPps ? (row.loadCpu * 1e6) / row.rxPps : null;
    row.rssKb = s1.rssKb;
    row.threads = s1.threads;
    row.rssPerParticipantKb = (s1.rssKb - idle.rssKb) / row.participants;
    row.threadsPerParticipant = (s1.threads - idle.threads) / row.participants;
    const packets = readPcap(pcap);
    const d = forwardingDelays(packets, veth.serverAddress, s0.t, s1.t);
    row.inPps = d.inPackets / windowS;
    row.outPps = d.outPackets / windowS;
    row.outStreams = d.outStreams;
    row.inMissing = d.inGaps.expected ? d.inGaps.missing / d.inGaps.expected : null;
    row.outMissing = d.outGaps.expected ? d.outGaps.missing / d.outGaps.expected : null;
    row.matchedStreams = d.matchedStreams;
    row.unmatchedStreams = d.unmatchedStreams;
    row.cpuPerStream = row.cpu / row.expectedStreams;
    row.cpuUsPerPacket = d.outPackets ? (row.cpu * windowS * 1e6) / d.outPackets : null;
    row.delay = {
      videoP50: quantile(d.video, 0.5), videoP95: quantile(d.video, 0.95), videoN: d.video.length,
      audioP50: quantile(d.audio, 0.5), audioP95: quantile(d.audio, 0.95), audioN: d.audio.length,
      allP50: quantile([...d.video, ...d.audio], 0.5), allP95: quantile([...d.video, ...d.audio], 0.95),
    };
    const video = result.subs.filter((s) => s.kind === 'video');
    const audio = result.subs.filter((s) => s.kind === 'audio');
    row.subs = {
      video: video.length, audio: audio.length,
      fpsMedian: median(video.map((s) => s.fps)), fpsMin: quantile(video.map((s) => s.fps), 0),
      videoKbpsMedian: median(video.map((s) => s.kbps)), audioKbpsMedian: median(audio.map((s) => s.kbps)),
      lossMean: mean(result.subs.map((s) => s.loss)), lossMax: quantile(result.subs.map((s) => s.loss), 1),
      stalled: video.filter((s) => s.fps < 7.5).length, // under half the source's 15 fps
      nacks: result.subs.reduce((a, s) => a + (s.nacks ?? 0), 0), plis: result.subs.reduce((a, s) => a + (s.plis ?? 0), 0),
      keyframes: video.reduce((a, s) => a + (s.keyframes ?? 0), 0), counting: result.subs.filter((s) => s.counting).length,
    };
    row.pubs = {
      videoKbps: median(result.pubs.filter((p) => p.kind === 'video').map((p) => p.kbps)),
      videoPps: median(result.pubs.filter((p) => p.kind === 'video').map((p) => p.pps)),
      videoFps: median(result.pubs.filter((p) => p.kind === 'video').map((p) => p.fps)),
      audioPps: median(result.pubs.filter((p) => p.kind === 'audio').map((p) => p.pps)),
      // video publishers by libwebrtc's qualityLimitationReason at the end of the window
      limitations: result.pubs.filter((p) => p.kind === 'video' && p.limitation).reduce((a, p) => ({ ...a, [p.limitation]: (a[p.limitation] ?? 0) + 1 }), {}),
    };
    // The load generator is the bottleneck when its core is nearly full or its publishers
    // send clearly less than their sources make (Opus: 50 packets/s; VP8: 15 fps).
    row.loadLimited = row.loadCpu > 0.9 || (row.pubs.audioPps !== null && row.pubs.audioPps < 45) ||
                      (row.pubs.videoFps !== null && row.pubs.videoFps < 13.5);
    const jt = ready.joins.filter((j) => j.expected);
    row.join = {
      samples: jt.length, complete: jt.filter((j) => j.allMs !== null).length,
      firstP50: quantile(jt.map((j) => j.firstMs), 0.5), firstP95: quantile(jt.map((j) => j.firstMs), 0.95),
      firstMax: quantile(jt.map((j) => j.firstMs), 1),
      allP50: quantile(jt.map((j) => j.allMs), 0.5), allP95: quantile(jt.map((j) => j.allMs), 0.95), allMax: quantile(jt.map((j) => j.allMs), 1),
      // what ends a join time: 'decoded' (wrtc: first decoded frame), 'keyframe' (counting:
      // first packet of a VP8 keyframe), 'audio' (first audio packet)
      measures: [...new Set(jt.map((j) => j.measure).filter(Boolean))],
      // counting video receivers: first video packet of any kind (before the keyframe)
      firstPacketP50: quantile(jt.map((j) => j.firstPacketMs), 0.5), firstPacketMax: quantile(jt.map((j) => j.firstPacketMs), 1),
    };
    row.loadgenErrors = result.errors.slice(0, 5);
    // every publisher: [kind, packets/s, frames/s] (a starved load generator shows here)
    row.publishers = result.pubs.map((p) => [p.kind, Math.round(p.pps * 10) / 10, Math.round(p.fps * 10) / 10]);
  } catch (e) {
    row.error = `${e?.message ?? e}`.slice(0, 3000);
  } finally {
    if (capture) await capture.stop().catch(() => {});
    load?.kill();
    if (srv) {
      const log = srv.log();
      row.serverExit = await srv.stop().catch(() => null);
      if (row.error) row.serverLog = log.slice(-2000);
      if (process.env.BENCH_SERVER_LOG) writeFileSync(`${process.env.BENCH_SERVER_LOG}.${server}.log`, log);
    }
    veth.destroy();
    if (!opt['keep-pcap']) rmSync(pcap, { force: true });
  }
  row.seconds = (Date.now() - t) / 1000;
  row.loadavg1 = os.loadavg()[0];
  return row;
}

function describe(r) {
  if (r.error) return `ERROR ${r.error.split('\n')[0].slice(0, 300)}`;
  const joinTo = (r.join.measures ?? []).join('/') || '–';
  return `cpu ${fmt(r.cpu * 100)}% (${fmt(r.cpuUsPerPacket)} µs/pkt out, ${fmt(r.outPps, 0)} pkt/s out), rss ${fmt(r.rssKb / 1024)} MB, ` +
         `threads ${r.threads}, delay p50/p95 ${fmt(r.delay.allP50, 2)}/${fmt(r.delay.allP95, 2)} ms, ` +
         `join (to ${joinTo}) p50 ${fmt(r.join.firstP50, 0)} max ${fmt(r.join.firstMax, 0)} ms` +
         `${r.join.firstPacketP50 !== null && r.join.firstPacketP50 !== undefined ? ` (first video packet p50 ${fmt(r.join.firstPacketP50, 0)} ms)` : ''}, ` +
         `fps ${fmt(r.subs.fpsMedian)}, loss ${fmt(r.subs.lossMean * 100, 2)}% (max ${fmt(r.subs.lossMax * 100, 2)}%), ` +
         `streams ${r.matchedStreams}/${r.expectedStreams}, publishers send ${fmt(r.pubs.videoFps)} fps / ${fmt(r.pubs.audioPps, 0)} audio pkt/s` +
         `${Object.keys(r.pubs.limitations ?? {}).length ? ` (limited by: ${Object.entries(r.pubs.limitations).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}, ` +
         `load cpu ${fmt(r.loadCpu * 100)}% (${fmt(r.loadUsPerRxPacket, 2)} µs per received pkt, ${fmt(r.rxPps, 0)} pkt/s received; receivers ${r.receivers.counting} counting, ${r.receivers.wrtc} wrtc)` +
         `${r.loadLimited ? ' LOAD-LIMITED' : ''}, CPU ${SERVER_CPU} / ${LOAD_CPU} busy ${fmt(r.serverCpuBusy * 100, 0)}% / ${fmt(r.loadCpuBusy * 100, 0)}% (all processes), ` +
         `machine load average ${fmt(r.loadavg1)} (${fmt(r.seconds, 0)} s)`;
}

const info = machine();
say(`# bench ${info.date}: ${info.nproc} CPUs (${info.cpu}), kernel ${info.kernel}, GStreamer ${info.gstreamer}, Janus ${info.janus}, ` +
    `node ${info.node}, @roamhq/wrtc ${info.wrtc}, load average ${info.loadavg}`);
say(`# servers ${servers.join(', ')}; scenarios ${scenarios.map((s) => s.name).join(', ')}; ${reps} reps; window ${windowMs / 1000} s`);
mkdirSync(opt.out, { recursive: true });
const work = mkdtempSync(path.join(os.tmpdir(), 'manifold-bench-'));
const runs = [];
const started = Date.now();
try {
  for (let rep = 0; rep < reps; rep++) {
    for (const scenario of scenarios) {
      for (const variant of scenario.variants) {
        if (only && !only.has(variant.label) && !only.has(scenario.name)) continue;
        if (variant.optional && !only?.has(variant.label)) continue; // run only when named
        // Interleave: the order of the servers alternates from one repetition to the next.
        const order = rep % 2 ? [...servers].reverse() : servers;
        for (const server of order) {
          const row = await runOnce(server, scenario, variant, rep, work);
          runs.push(row);
          say(`${scenario.name} ${variant.label} ${server} rep ${rep}: ${describe(row)}`);
          writeFileSync(path.join(opt.out, 'results.json'), JSON.stringify({ machine: info, options: savedOptions, runs }, null, 1));
        }
      }
    }
  }
} finally {
  if (!opt['keep-pcap']) rmSync(work, { recursive: true, force: true });
  else say(`# captures kept in ${work}`);
}
info.loadavgEnd = os.loadavg().map((l) => l.toFixed(2)).join(' ');
info.seconds = Math.round((Date.now() - started) / 1000);
writeFileSync(path.join(opt.out, 'results.json'), JSON.stringify({ machine: info, options: savedOptions, runs }, null, 1));
const md = writeReport({ machine: info, runs, scenarios, servers, outDir: opt.out });
say(`\n${md}`);
say(`${runs.length} runs, ${runs.filter((r) => r.error).length} failed, ${info.seconds} s; results in ${opt.out}`);
// wrtc is never loaded in this process (only in loadgen.mjs children): a normal exit is safe.
