#!/usr/bin/env node
// Benchmark (not a test gate): what --jitter-latency-ms costs and buys on the forwarding
// path, on two "hosts" — the gateway in one network namespace, a publisher (@roamhq/wrtc,
// VP8 320x240 15 fps + Opus) and a receiver in another, joined by a veth pair — with
// random loss (iptables statistic DROP on INPUT) in both namespaces.
//
// For every latency x loss cell, repeated (interleaved) and reported as medians:
//   - the delay the gateway adds to each forwarded packet: tcpdump on the gateway's veth
//     end sees every packet arrive and leave with kernel timestamps; the RTP header of
//     SRTP is in clear, so a forwarded packet is matched to its arrival by SSRC, sequence
//     number and timestamp (the gateway keeps all three);
//   - what happened to the publisher's packets dropped before the gateway (leg 1): an
//     NFLOG copy of what passed INPUT tells dropped from delivered; a dropped packet that
//     still leaves the gateway was repaired (NACK + RTX) within the jitterbuffer latency;
//   - what the receiver got: frames decoded / frames the publisher encoded, freezes
//     (from its video sink), NACKs and PLIs it sent.
//
// Needs root, iproute2, iptables, tcpdump (Debian: tcpdump) and the built gateway.
//   node tests/bench/jitterbuffer.mjs [--reps 3] [--latencies 0,20,50,100,200] [--losses 0,2,5]
//        [--window-ms 6000] [--video-only] [--json FILE]
// --video-only publishes no Opus track (see JITTER.md for why that changes the picture).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runScenarioOnVeth, vethUnavailable, VETH_SERVER_ADDRESS } from '../integration/media/netns.mjs';
import { manifoldBinary } from '../integration/lib/server.mjs';
import { readPcap } from './rtp-capture.mjs';

const { values: opt } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    latencies: { type: 'string', default: '0,20,50,100,200' },
    losses: { type: 'string', default: '0,2,5' },
    'window-ms': { type: 'string', default: '6000' },
    'video-only': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const reps = Number(opt.reps);
const latencies = opt.latencies.split(',').map(Number);
const losses = opt.losses.split(',').map(Number);
const windowMs = Number(opt['window-ms']);

function fail(message) {
  console.error(`jitterbuffer bench: ${message}`);
  process.exit(2);
}
const why = vethUnavailable();
if (why) fail(why);
if (spawnSync('tcpdump', ['--version'], { stdio: 'ignore' }).error) fail('tcpdump is not installed (apt-get install tcpdump)');
if (!existsSync(manifoldBinary())) fail(`no gateway binary at ${manifoldBinary()} (ninja -C build src/app/manifold)`);

// The peers (this process and its children) on CPU 1, the gateway re-pinned to CPU 0.
const cpus = os.cpus().length;
if (cpus >= 2) spawnSync('taskset', ['-a', '-pc', '1', String(process.pid)], { stdio: 'ignore' });

function quantile(values, q) {
  if (!values.length) return null;
  const v = [...values].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.floor(q * (v.length - 1) + 0.5))];
}
const median = (values) => quantile(values.filter((v) => v !== null && v !== undefined && !Number.isNaN(v)), 0.5);

/** Per-packet figures of one run, from its two captures. */
function analyse(prefix, result) {
  const all = readPcap(`${prefix}.wire.pcap`);
  const wire = all.filter((p) => p.kind === 'rtp');
  const input = readPcap(`${prefix}.input.pcap`).filter((p) => p.kind === 'rtp');
  const vpt = result.codecs.video?.payloadType;
  const apt = result.codecs.audio?.payloadType;
  const media = (p) => p.pt === vpt || p.pt === apt;
  const key = (p) => `${p.ssrc}:${p.seq}:${p.ts}`;
  const passed = new Set(input.map(key));
  const out = new Map(); // first transmission of each media packet by the gateway
  for (const p of wire) if (p.src === VETH_SERVER_ADDRESS && media(p) && !out.has(key(p))) out.set(key(p), p);
  // Only packets well inside both captures: the NFLOG one may start a little later, and
  // packets at the end may still sit in the jitterbuffer when the capture stops.
  const from = (input[0]?.t ?? Infinity) + 50;
  const to = Math.min(input.at(-1)?.t ?? 0, wire.at(-1)?.t ?? 0) - 400;
  const s = {};
  for (const kind of ['video', 'audio']) {
    s[kind] = { delays: [], delivered: 0, notForwarded: 0, dropped: 0, repaired: 0, repairMs: [], nackWaitMs: [], rtxMs: [] };
  }
  // The publisher's address: where the media comes from. The gateway's RTCP to it carries
  // its NACKs (SRTCP: only the first header is in clear, so "the next RTCP packet after the
  // gap showed" stands for the NACK); the publisher's RTX packets answer them.
  const pubMedia = wire.find((p) => p.dst === VETH_SERVER_ADDRESS && media(p));
  const pub = pubMedia ? `${pubMedia.src}:${pubMedia.sport}` : '';
  const rtcpToPub = all.filter((p) => p.kind === 'rtcp' && p.src === VETH_SERVER_ADDRESS && `${p.dst}:${p.dport}` === pub).map((p) => p.t);
  const rtxFromPub = wire.filter((p) => `${p.src}:${p.sport}` === pub && !media(p)).map((p) => p.t);
  const firstAfter = (times, t) => times.find((x) => x > t);

  for (const p of wire) {
    if (p.dst !== VETH_SERVER_ADDRESS || !media(p) || p.t < from || p.t > to) continue;
    const k = s[p.pt === vpt ? 'video' : 'audio'];
    const o = out.get(key(p));
    if (passed.has(key(p))) {
      k.delivered++;
      if (o) k.delays.push(o.t - p.t);
      else k.notForwarded++;
    } else {
      k.dropped++;
      if (o) { k.repaired++; k.repairMs.push(o.t - p.t); }
      if (p.pt === vpt) {
        // The gap shows when the next delivered packet of the stream arrives.
        const shown = wire.find((q) => q.t > p.t && q.ssrc === p.ssrc && q.pt === vpt && passed.has(key(q)));
        const nack = shown && firstAfter(rtcpToPub, shown.t);
        const rtx = nack && firstAfter(rtxFromPub, nack);
        if (nack) k.nackWaitMs.push(nack - shown.t);
        if (rtx) k.rtxMs.push(rtx - nack);
      }
    }
  }
  const summary = (k) => ({
    delivered: k.delivered,
    delayP50: quantile(k.delays, 0.5),
    delayP95: quantile(k.delays, 0.95),
    delayP99: quantile(k.delays, 0.99),
    delayMax: quantile(k.delays, 1),
    notForwarded: k.notForwarded,
    dropped: k.dropped,
    repaired: k.repaired,
    repairP50: quantile(k.repairMs, 0.5),
    nackWaitP50: quantile(k.nackWaitMs, 0.5),
    rtxAfterNackP50: quantile(k.rtxMs, 0.5),
  });
  return { video: summary(s.video), audio: summary(s.audio) };
}

const binaryMtime = () => statSync(manifoldBinary()).mtime.toISOString();

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  const gst = spawnSync('pkg-config', ['--modversion', 'gstreamer-1.0'], { encoding: 'utf8' }).stdout?.trim() || '?';
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', cwd: path.dirname(manifoldBinary()) }).stdout?.trim();
  return { nproc: cpus, cpu: model, kernel: os.release(), gstreamer: gst, node: process.version, date: new Date().toISOString(),
           loadavg: os.loadavg().map((l) => l.toFixed(2)).join(' '), gitHead: head || '?', binaryMtime: binaryMtime() };
}

const fmt = (v, digits = 1) => (v === null || v === undefined || Number.isNaN(v) ? '–' : Number(v).toFixed(digits));
const pct = (v) => (v === null || v === undefined ? '–' : `${Math.round(v * 100)}%`);

const info = machine();
const work = mkdtempSync(path.join(os.tmpdir(), 'manifold-jitter-'));
const runs = [];
const started = Date.now();
console.log(`# jitterbuffer bench: ${info.date}, ${info.nproc} CPUs (${info.cpu}), kernel ${info.kernel}, ` +
            `GStreamer ${info.gstreamer}, node ${info.node}, load average ${info.loadavg}`);
console.log(`# gateway ${manifoldBinary()} built ${info.binaryMtime}, work tree at ${info.gitHead}`);
console.log(`# latencies ${latencies.join(',')} ms x loss ${losses.join(',')} % x ${reps} reps, window ${windowMs} ms, ` +
            `${opt['video-only'] ? 'video only' : 'video + Opus'}`);
try {
  for (let rep = 0; rep < reps; rep++) {
    for (const loss of losses) {
      for (const latency of latencies) {
        const prefix = path.join(work, `l${latency}-p${loss}-r${rep}`);
        const t = Date.now();
        let row;
        for (let attempt = 0; ; attempt++) {
          try {
            const result = await runScenarioOnVeth('loss', {
              lossPercent: loss,
              timeoutMs: 60000,
              env: {
                JITTER_LATENCY_MS: String(latency),
                WINDOW_MS: String(windowMs),
                WARMUP_MS: '1000',
                CAPTURE_PREFIX: prefix,
                GATEWAY_CPUS: cpus >= 2 ? '0' : '',
                AUDIO: opt['video-only'] ? '0' : '1',
              },
            });
            row = { latency, loss, rep, result, packets: analyse(prefix, result) };
            break;
          } catch (e) {
            row = { latency, loss, rep, error: `${e.message}`.slice(0, 2000) };
            // The binary may be being relinked by a concurrent build: wait and try again.
            if (attempt >= 2 || !/before listening|binary not found/.test(row.error)) break;
            console.log(`latency ${latency} loss ${loss} rep ${rep}: gateway did not start, retrying in 30 s`);
            await new Promise((r) => setTimeout(r, 30000));
          }
        }
        rmSync(`${prefix}.wire.pcap`, { force: true });
        rmSync(`${prefix}.input.pcap`, { force: true });
        runs.push(row);
        const r = row.result;
        console.log(row.error
          ? `latency ${latency} loss ${loss} rep ${rep}: ERROR ${row.error.split('\n')[0]}`
          : `latency ${latency} loss ${loss} rep ${rep}: video delay p50 ${fmt(row.packets.video.delayP50, 2)} ` +
            `p99 ${fmt(row.packets.video.delayP99)} ms, leg-1 drops ${row.packets.video.dropped} repaired ${row.packets.video.repaired}, ` +
            `not forwarded ${row.packets.video.notForwarded + row.packets.audio.notForwarded}, ` +
            `decoded ${pct(r.decodedRatio)}, freezes ${r.freezes.count} (${Date.now() - t} ms)`);
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

// Medians per cell.
const cells = [];
for (const loss of losses) {
  for (const latency of latencies) {
    const ok = runs.filter((r) => r.latency === latency && r.loss === loss && !r.error);
    const m = (f) => median(ok.map(f));
    cells.push({
      latency, loss, runs: ok.length, errors: runs.filter((r) => r.latency === latency && r.loss === loss && r.error).length,
      videoP50: m((r) => r.packets.video.delayP50), videoP95: m((r) => r.packets.video.delayP95),
      videoP99: m((r) => r.packets.video.delayP99), videoMax: m((r) => r.packets.video.delayMax),
      audioP50: m((r) => r.packets.audio.delayP50), audioP99: m((r) => r.packets.audio.delayP99),
      dropped: m((r) => r.packets.video.dropped), repaired: m((r) => r.packets.video.repaired),
      notForwarded: m((r) => r.packets.video.notForwarded + r.packets.audio.notForwarded),
      repairedShare: m((r) => (r.packets.video.dropped ? r.packets.video.repaired / r.packets.video.dropped : null)),
      repairP50: m((r) => r.packets.video.repairP50),
      nackWait: m((r) => r.packets.video.nackWaitP50), rtxAfterNack: m((r) => r.packets.video.rtxAfterNackP50),
      gatewayNacks: m((r) => r.result.publisher.nackCount), rtx: m((r) => r.result.publisher.retransmittedPacketsSent),
      receiverNacks: m((r) => r.result.receiver.nackCount), plis: m((r) => r.result.receiver.pliCount),
      decoded: m((r) => r.result.decodedRatio), freezes: m((r) => r.result.freezes.count), frozenMs: m((r) => r.result.freezes.totalMs),
    });
  }
}

const header = '| latency ms | loss % | video delay p50 / p95 / p99 / max ms | audio delay p50 / p99 ms | leg-1 video drops | repaired at gateway | delivered, not forwarded | repair ms p50 | gap → next RTCP ms p50 | gateway NACKs | receiver NACKs | PLIs | decoded / encoded | freezes | frozen ms |';
const lines = [header, header.replace(/[^|]+/g, '---')];
for (const c of cells) {
  lines.push(`| ${c.latency} | ${c.loss} | ${fmt(c.videoP50, 2)} / ${fmt(c.videoP95)} / ${fmt(c.videoP99)} / ${fmt(c.videoMax)} | ` +
             `${fmt(c.audioP50, 2)} / ${fmt(c.audioP99)} | ${fmt(c.dropped, 0)} | ${c.dropped ? pct(c.repairedShare) : '–'} | ${fmt(c.notForwarded, 0)} | ` +
             `${fmt(c.repairP50)} | ${fmt(c.nackWait)} | ${fmt(c.gatewayNacks, 0)} | ${fmt(c.receiverNacks, 0)} | ${fmt(c.plis, 0)} | ${pct(c.decoded)} | ` +
             `${fmt(c.freezes, 0)} | ${fmt(c.frozenMs, 0)} |${c.errors ? ` (${c.errors} failed)` : ''}`);
}
console.log(`\n${lines.join('\n')}`);
console.log(`\n${runs.length} runs, ${runs.filter((r) => r.error).length} failed, ${Math.round((Date.now() - started) / 1000)} s, ` +
            `load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
if (binaryMtime() !== info.binaryMtime) {
  console.log(`WARNING: the gateway binary changed during the run (now ${binaryMtime()}): cells mix two builds`);
}
if (opt.json) writeFileSync(opt.json, JSON.stringify({ machine: info, options: opt, cells, runs }, null, 1));
// @roamhq/wrtc is loaded here (through netns.mjs) but never used: a normal exit is safe.
