// Lossless forwarding: on a loss-free link every packet a publisher sends reaches every
// subscriber. A room of 5 @roamhq/wrtc peers (VP8 frames of about 5 packets + Opus, each
// receiving the other four) runs 30 s with the gateway in one network namespace and the
// peers in another, joined by a veth pair without loss rules
// (media/scenarios/lossless.mjs). Each publisher SSRC is counted on every hop:
//   publisher -> wire      gaps in the sequence numbers arriving on the gateway's veth end
//                          (the publisher skipped them, or its side dropped them)
//   wire -> gateway -> wire  every sequence number that arrived there must leave again to
//                          each subscriber (a capture of the gateway's veth end, tcpdump):
//                          what does not was lost inside the gateway
//   wire -> subscriber     the subscriber's own count (inbound-rtp packetsLost over the
//                          window; libwebrtc counts a packet repaired by RTX as lost there)
// and each failure names its hop, with the kernel's UDP buffer drops of both namespaces,
// the RTX packets on the wire and the gateway's own drop counters (/metrics) beside it.
// A subscriber's socket may overflow when the machine is busy (the peers share one
// process): that loss is the load generator's, counted by the kernel (RcvbufErrors of
// the peers' namespace), and the subscribers' count may not exceed it. The gateway's own
// socket drops count as losses inside the gateway.
// Runs against the regular build only (tests/run.sh, second phase): see below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runScenarioOnVeth, vethUnavailable, VETH_SERVER_ADDRESS } from './media/netns.mjs';
import { readPcap } from '../bench/rtp-capture.mjs';

// Under AddressSanitizer on 2 cores the gateway forwarded 5 publishers to 4 subscribers
// each seconds late (6-23 s in a run here, no drop counted anywhere), or the room did not
// finish setting up in 30 s: a run there would judge the sanitizer's speed. tests/run.sh
// runs this file again against the regular build.
const unavailable = process.env.MANIFOLD_SANITIZED === '1'
  ? 'lossless forwarding is checked against the regular build (tests/run.sh, second phase)'
  : vethUnavailable();
const WINDOW_MS = 30000;

/** Sequence numbers a stream lacks between its first and last packet (16-bit, unwrapped). */
function seqGaps(seqsInOrder) {
  if (seqsInOrder.length < 2) return 0;
  let ext = 0;
  let min = 0;
  let max = 0;
  const seen = new Set([0]);
  for (let i = 1; i < seqsInOrder.length; i++) {
    const d = (seqsInOrder[i] - seqsInOrder[i - 1]) & 0xffff;
    ext += d < 0x8000 ? d : d - 0x10000;
    seen.add(ext);
    min = Math.min(min, ext);
    max = Math.max(max, ext);
  }
  return max - min + 1 - seen.size;
}

const delta = (after, before, field) => (after?.[field] ?? 0) - (before?.[field] ?? 0);

/**
 * Per publisher SSRC: what the publisher sent, what arrived on the gateway's wire, and per
 * subscriber what left the gateway for it and what it counted as lost.
 */
function countHops(r) {
  const server = VETH_SERVER_ADDRESS;
  const packets = readPcap(r.capture.file).filter((p) => p.kind === 'rtp');
  const inbound = new Map();  // ssrc -> [seq] in arrival order, inside the window
  const outbound = new Map(); // `${port}/${ssrc}` -> Map(seq -> first time it left)
  const rtxOut = new Map();   // port -> packets that are no publisher's media SSRC (RTX)
  const media = new Set(r.peers.flatMap((p) => Object.keys(p.after.outbound).map(Number)));
  const rtxIn = { packets: 0 };
  for (const p of packets) {
    if (p.dst === server) {
      if (p.t < r.t0 || p.t > r.t1) continue;
      if (!media.has(p.ssrc)) { rtxIn.packets++; continue; }
      if (!inbound.has(p.ssrc)) inbound.set(p.ssrc, []);
      inbound.get(p.ssrc).push(p.seq);
    } else if (p.src === server) {
      if (p.t < r.t0) continue;
      if (!media.has(p.ssrc)) { rtxOut.set(p.dport, (rtxOut.get(p.dport) ?? 0) + 1); continue; }
      const key = `${p.dport}/${p.ssrc}`;
      if (!outbound.has(key)) outbound.set(key, new Map());
      if (!outbound.get(key).has(p.seq)) outbound.get(key).set(p.seq, p.t);
    }
  }
  const arrival = new Map(); // `${ssrc}/${seq}` -> first arrival in the window
  for (const p of packets) if (p.dst === server && p.t >= r.t0 && p.t <= r.t1 && !arrival.has(`${p.ssrc}/${p.seq}`)) arrival.set(`${p.ssrc}/${p.seq}`, p.t);
  const delays = [];
  const streams = [];
  for (const pub of r.peers) {
    for (const [ssrcText, stat] of Object.entries(pub.after.outbound)) {
      const ssrc = Number(ssrcText);
      const arrived = inbound.get(ssrc) ?? [];
      const arrivedSet = new Set(arrived);
      const stream = {
        publisher: pub.name, kind: stat.kind, ssrc,
        sent: delta(pub.atEnd.outbound[ssrc], pub.before.outbound[ssrc], 'packetsSent'),
        retransmittedByPublisher: delta(pub.atEnd.outbound[ssrc], pub.before.outbound[ssrc], 'retransmittedPacketsSent'),
        nacksFromGateway: delta(pub.after.outbound[ssrc], pub.before.outbound[ssrc], 'nackCount'),
        atGateway: arrivedSet.size,
        gapsBeforeGateway: seqGaps(arrived),
        subscribers: [],
      };
      for (const sub of r.peers) {
        if (sub === pub) continue;
        const left = outbound.get(`${sub.port}/${ssrc}`) ?? new Map();
        const missing = [...arrivedSet].filter((q) => !left.has(q));
        for (const q of arrivedSet) if (left.has(q)) delays.push(left.get(q) - arrival.get(`${ssrc}/${q}`));
        const rx = sub.after.inbound[ssrc];
        stream.subscribers.push({
          subscriber: sub.name,
          forwarded: arrived.filter((q) => left.has(q)).length,
          lostInGateway: missing.length,
          missingSeqs: missing.slice(0, 10),
          received: delta(sub.atEnd.inbound[ssrc], sub.before.inbound[ssrc], 'packetsReceived'),
          lostAtSubscriber: delta(rx, sub.before.inbound[ssrc], 'packetsLost'),
          nacks: delta(rx, sub.before.inbound[ssrc], 'nackCount'),
          known: Boolean(rx),
        });
      }
      streams.push(stream);
    }
  }
  delays.sort((a, b) => a - b);
  const q = (f) => (delays.length ? Number(delays[Math.min(delays.length - 1, Math.floor(f * delays.length))].toFixed(2)) : null);
  return { streams, rtxIn: rtxIn.packets, rtxOut: Object.fromEntries(r.peers.map((p) => [p.name, rtxOut.get(p.port) ?? 0])),
           delayMs: { p50: q(0.5), p99: q(0.99), max: q(1) } };
}

const udpDelta = (u) => Object.fromEntries(['InDatagrams', 'OutDatagrams', 'RcvbufErrors', 'SndbufErrors', 'InErrors']
  .map((n) => [n, delta(u.after, u.before, n)]));

function gatewayCounters(r) {
  const names = Object.keys(r.metrics.after).filter((n) => /^manifold_rtp_/.test(n));
  return Object.fromEntries(names.map((n) => [n.replace(/^manifold_rtp_/, ''), delta(r.metrics.after, r.metrics.before, n)]));
}

function table(hops) {
  const rows = hops.streams.map((s) => {
    const subs = s.subscribers.map((x) => `${x.subscriber} ${x.forwarded}/${x.lostInGateway}/${x.received}/${x.lostAtSubscriber}`).join('  ');
    return `${s.publisher} ${s.kind.padEnd(5)} ${String(s.ssrc).padStart(10)}: sent ${s.sent} (rtx ${s.retransmittedByPublisher}, ` +
      `nacked ${s.nacksFromGateway}), at gateway ${s.atGateway} (gaps ${s.gapsBeforeGateway}); per subscriber ` +
      `forwarded/lost in gateway/received/lost: ${subs}`;
  });
  return rows.join('\n');
}

test('lossless forwarding: a room of 5 on a loss-free link for 30 s, every packet reaches every subscriber',
     { skip: unavailable ?? false, timeout: 120000 }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'manifold-lossless-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = await runScenarioOnVeth('lossless', {
    timeoutMs: 100000,
    env: { WINDOW_MS: String(WINDOW_MS), CAPTURE_PREFIX: path.join(dir, 'gateway') },
  });
  const hops = countHops(r);
  const udp = { server: udpDelta(r.udp.server), client: udpDelta(r.udp.client) };
  const counters = gatewayCounters(r);
  t.diagnostic(`set-up ${r.setupMs} ms; window ${r.windowMs} ms, drained in ${r.drainedMs} ms; forwarding delay ms ` +
               `${JSON.stringify(hops.delayMs)}; capture ${JSON.stringify(r.capture)}`);
  t.diagnostic(`per SSRC:\n${table(hops)}`);
  t.diagnostic(`RTX packets: publishers -> gateway ${hops.rtxIn}, gateway -> subscribers ${JSON.stringify(hops.rtxOut)}`);
  t.diagnostic(`UDP counters over the window: gateway namespace ${JSON.stringify(udp.server)}, peers' namespace ${JSON.stringify(udp.client)}`);
  t.diagnostic(`gateway counters over the window: ${JSON.stringify(counters)}`);

  assert.equal(r.capture.droppedByKernel, 0, `tcpdump missed packets, the capture cannot judge: ${JSON.stringify(r.capture)}`);
  assert.equal(hops.streams.length, 2 * r.peerCount, 'every peer publishes a video and an audio SSRC');
  for (const s of hops.streams) {
    assert.ok(s.atGateway > (s.kind === 'video' ? 300 : 500), `${s.publisher} ${s.kind}: only ${s.atGateway} packets in 30 s`);
    for (const x of s.subscribers) {
      assert.ok(x.known, `${x.subscriber} has no inbound-rtp for ${s.publisher}'s ${s.kind} (${s.ssrc})`);
      assert.ok(x.forwarded + x.lostInGateway > 0, `no flow to ${x.subscriber} found in the capture (port mapping)`);
    }
  }
  // Hop 1, publisher -> the gateway's wire: on a veth nothing is lost, so a gap is a packet
  // the publisher never sent (not the gateway's fault, but then the count below is short).
  const gapsIn = hops.streams.filter((s) => s.gapsBeforeGateway > 0);
  assert.deepEqual(gapsIn.map((s) => `${s.publisher} ${s.kind} ${s.ssrc}: ${s.gapsBeforeGateway}`), [],
                   `packets that never reached the gateway's veth (peers' namespace SndbufErrors ${udp.client.SndbufErrors})`);
  // Hop 2, inside the gateway: every packet that arrived leaves to every subscriber.
  const lostInGateway = hops.streams.flatMap((s) => s.subscribers.filter((x) => x.lostInGateway > 0)
    .map((x) => `${s.publisher} ${s.kind} ${s.ssrc} -> ${x.subscriber}: ${x.lostInGateway} (seq ${x.missingSeqs.join(',')})`));
  assert.deepEqual(lostInGateway, [],
                   `packets that reached the gateway but never left it for a subscriber; gateway socket drops ` +
                   `(RcvbufErrors) ${udp.server.RcvbufErrors}, send drops (SndbufErrors) ${udp.server.SndbufErrors}; ` +
                   `gateway counters ${JSON.stringify(counters)}`);
  // Hop 3, the gateway's wire -> the subscriber: what a subscriber counted as lost, beyond
  // what the kernel dropped at the peers' sockets, vanished on the way.
  const atSubscriber = hops.streams.flatMap((s) => s.subscribers.filter((x) => x.lostAtSubscriber !== 0)
    .map((x) => `${s.publisher} ${s.kind} ${s.ssrc} at ${x.subscriber}: ${x.lostAtSubscriber}`));
  const lostAtSubscribers = hops.streams.reduce((n, s) => n + s.subscribers.reduce((m, x) => m + x.lostAtSubscriber, 0), 0);
  if (lostAtSubscribers > 0)
    t.diagnostic(`subscribers lost ${lostAtSubscribers} packets the gateway sent; their sockets dropped ` +
                 `${udp.client.RcvbufErrors} datagrams (the load generator was starved): ${atSubscriber.join('; ')}`);
  assert.ok(lostAtSubscribers <= udp.client.RcvbufErrors,
            `subscribers counted ${lostAtSubscribers} packets lost that left the gateway, more than their sockets ` +
            `dropped (${udp.client.RcvbufErrors}): ${atSubscriber.join('; ')}`);
});
