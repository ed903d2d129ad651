// Lossless forwarding on a loss-free link: a room of PEERS (default 5) @roamhq/wrtc peers,
// each publishing VP8 (320x240, FPS 15, frames of several packets) and Opus and receiving
// everyone else, with the gateway in the server namespace of a veth pair and the peers in
// the client namespace. Run it through runScenarioOnVeth (netns.mjs, no loss), which passes
// MANIFOLD_NETNS, MANIFOLD_HOST and MANIFOLD_NETIF (the gateway's veth end). Also:
//   CAPTURE_PREFIX  required: tcpdump writes `${CAPTURE_PREFIX}.wire.pcap`, every UDP packet
//                   on the gateway's veth end (in and out) during the window
//   WINDOW_MS (30000), WARMUP_MS (1000), PEERS, FPS, NOISE (0.35: about 5 packets a
//   frame), GATEWAY_CPUS (taskset the gateway), JITTER_LATENCY_MS.
// After the window the publishers stop their sources and the capture goes on until the
// gateway has forwarded what it still holds (its forwarded counter still for DRAIN_MS,
// 1000; at most 20 s): a packet that is late is not counted as lost.
//
// Reports what the analysis (media-lossless.test.mjs) needs to count each publisher SSRC
// on every hop: the window in the capture's clock, each peer's UDP port (its selected ICE
// candidate), its outbound and inbound RTP stats per SSRC before and after the window, the
// kernel's UDP counters of both namespaces (receive/send buffer drops) and the gateway's
// /metrics before and after.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { scenario, syntheticTracks, newClient, countFrames, sleep, waitFor, finish } from '../peers.mjs';
import { startTcpdump } from '../netns.mjs';

const env = process.env;
const netns = env.MANIFOLD_NETNS;
const host = env.MANIFOLD_HOST;
const iface = env.MANIFOLD_NETIF;
if (!netns || !host || !iface || !env.CAPTURE_PREFIX)
  finish({ error: 'lossless.mjs runs through runScenarioOnVeth with CAPTURE_PREFIX set' });
const peerCount = Number(env.PEERS || 5);
const windowMs = Number(env.WINDOW_MS || 30000);
const warmupMs = Number(env.WARMUP_MS || 1000);
const drainMs = Number(env.DRAIN_MS || 1000);
const drainLimitMs = 20000;
const fps = Number(env.FPS || 15);
const noise = Number(env.NOISE ?? 0.35);

const args = ['--address', host, '--ice-address', host];
if (env.JITTER_LATENCY_MS) args.push('--jitter-latency-ms', env.JITTER_LATENCY_MS);

/** The kernel's UDP counters (/proc/net/snmp) of this namespace, or of namespace `ns`. */
function udpCounters(ns) {
  const text = ns ? spawnSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp'], { encoding: 'utf8' }).stdout
                  : readFileSync('/proc/net/snmp', 'utf8');
  const [names, values] = text.split('\n').filter((l) => l.startsWith('Udp:')).map((l) => l.split(/\s+/).slice(1));
  return Object.fromEntries(names.map((n, i) => [n, Number(values[i])]));
}

async function metrics(server) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const out = {};
  for (const m of text.matchAll(/^(manifold_\w+) (\S+)$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

/** RTP stats per SSRC and the local UDP port of the selected candidate pair. */
async function peerStats(client) {
  const report = await client.peerConnection.getStats();
  const byId = new Map();
  report.forEach((s) => byId.set(s.id, s));
  const pick = (s, names) => Object.fromEntries(names.filter((n) => typeof s[n] === 'number').map((n) => [n, s[n]]));
  const outbound = {};
  const inbound = {};
  let port = null;
  report.forEach((s) => {
    const kind = s.kind ?? s.mediaType;
    if (s.type === 'outbound-rtp')
      outbound[s.ssrc] = { kind, ...pick(s, ['packetsSent', 'retransmittedPacketsSent', 'nackCount', 'firCount', 'pliCount', 'framesEncoded']) };
    if (s.type === 'inbound-rtp')
      inbound[s.ssrc] = { kind, ...pick(s, ['packetsReceived', 'packetsLost', 'nackCount', 'retransmittedPacketsReceived', 'framesDecoded']) };
    if (s.type === 'transport' && s.selectedCandidatePairId) {
      const pair = byId.get(s.selectedCandidatePairId);
      port = byId.get(pair?.localCandidateId)?.port ?? port;
    }
  });
  if (port === null) // no transport entry: the nominated pair
    report.forEach((s) => { if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') port = byId.get(s.localCandidateId)?.port ?? port; });
  return { port, outbound, inbound };
}

await scenario(args, async ({ server }) => {
  if (env.GATEWAY_CPUS) spawnSync('taskset', ['-a', '-pc', env.GATEWAY_CPUS, String(server.process.pid)], { stdio: 'ignore' });
  const peers = [];
  for (let i = 0; i < peerCount; i++) {
    const name = `P${i + 1}`;
    const client = newClient(server.wsUrl);
    const counter = countFrames(client);
    const media = syntheticTracks({ fps, noise });
    await client.join('lossless', { name });
    const video = (await client.publish(media.videoTrack, { label: 'camera', codec: 'VP8' })).id;
    const audio = (await client.publish(media.audioTrack, { label: 'microphone', codec: 'OPUS' })).id;
    peers.push({ name, client, counter, media, video, audio });
  }
  const setupStart = Date.now();
  await waitFor(() => peers.every((p) => peers.every((o) => o === p || (p.counter.counts.get(o.video) ?? 0) >= 5)),
                { timeoutMs: 30000, what: 'every peer decoding every other peer' });
  await waitFor(async () => {
    for (const p of peers) {
      const s = await peerStats(p.client);
      if (Object.values(s.inbound).filter((x) => x.kind === 'audio' && x.packetsReceived > 0).length < peerCount - 1) return false;
    }
    return true;
  }, { timeoutMs: 10000, what: 'every peer receiving every other peer\'s audio' });
  const setupMs = Date.now() - setupStart;
  await sleep(warmupMs);

  const capture = startTcpdump(netns, ['-i', iface, '-w', `${env.CAPTURE_PREFIX}.wire.pcap`, '-U', '-B', '16384', '-s', '96',
                                       '--time-stamp-precision=nano', 'udp']);
  await capture.started;
  await sleep(200);
  const before = { udpServer: udpCounters(netns), udpClient: udpCounters(), metrics: await metrics(server),
                   peers: await Promise.all(peers.map((p) => peerStats(p.client))) };
  const t0 = Date.now(); // CLOCK_REALTIME, the capture's clock
  await sleep(windowMs);
  const t1 = Date.now();
  const atEnd = await Promise.all(peers.map((p) => peerStats(p.client)));
  for (const p of peers) p.media.stop();
  const drainStart = Date.now();
  let forwarded = -1;
  for (;;) {
    await sleep(drainMs);
    const now = (await metrics(server)).manifold_rtp_packets_forwarded_total;
    if (now === forwarded || Date.now() - drainStart > drainLimitMs) break;
    forwarded = now;
  }
  const drainedMs = Date.now() - drainStart;
  const after = { udpServer: udpCounters(netns), udpClient: udpCounters(), metrics: await metrics(server),
                  peers: await Promise.all(peers.map((p) => peerStats(p.client))) };
  const captureStats = await capture.stop();

  const result = {
    peerCount, fps, noise, windowMs, drainedMs, setupMs, t0, t1,
    capture: { file: `${env.CAPTURE_PREFIX}.wire.pcap`, ...captureStats },
    peers: peers.map((p, i) => ({
      name: p.name, port: after.peers[i].port ?? before.peers[i].port,
      before: before.peers[i], atEnd: atEnd[i], after: after.peers[i],
      framesDecoded: Object.fromEntries(p.counter.counts),
    })),
    udp: { server: { before: before.udpServer, after: after.udpServer }, client: { before: before.udpClient, after: after.udpClient } },
    metrics: { before: before.metrics, after: after.metrics },
  };
  for (const p of peers) p.counter.stop();
  return result;
}, { netns, host });
