// NACK recovery under random packet loss, on two hosts: the gateway in the server
// namespace of a veth pair, a publisher (VP8 320x240 at 15 fps + Opus) and a receiver in
// the client namespace. Run it through runScenarioOnVeth (netns.mjs), which passes:
//   MANIFOLD_NETNS, MANIFOLD_HOST   where the gateway runs and listens (MANIFOLD_NETIF: its veth end)
//   LOSS_PERCENT, LOSS_NETNS        loss switched on in these namespaces (iptables INPUT)
//                                   when the measurement window starts, off at its end
// and optionally JITTER_LATENCY_MS (--jitter-latency-ms), WINDOW_MS (10000), WARMUP_MS
// (1000), GATEWAY_CPUS (taskset the gateway), CAPTURE_PREFIX (pcaps of the gateway's UDP
// during the window, see startGatewayCapture), STATS_FIELDS=1 (list every stats field) and
// RECORD_SDP=1 (the peers' offers and answers), AUDIO=0 (publish the video only).
//
// Reports, over the window: what the publisher encoded and was asked for (NACKs from the
// gateway, FIR/PLI), what the receiver decoded, lost, NACKed and asked for, and freezes
// (from libwebrtc's freezeCount when it has one — @roamhq/wrtc 0.8 has not — and counted
// from the receiver's video sink: a gap between frames, or between a window edge and a
// frame, longer than max(3 x median interval, median + 150 ms), the W3C webrtc-stats
// definition with the median for the average).
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import wrtc from '@roamhq/wrtc';
import { scenario, syntheticTracks, newClient, sleep, waitFor, finish } from '../peers.mjs';
import { setLoss, startGatewayCapture } from '../netns.mjs';

const { RTCVideoSink } = wrtc.nonstandard;
const env = process.env;
const netns = env.MANIFOLD_NETNS;
const host = env.MANIFOLD_HOST;
if (!netns || !host) finish({ error: 'loss.mjs runs through runScenarioOnVeth (MANIFOLD_NETNS/MANIFOLD_HOST unset)' });
const lossPercent = Number(env.LOSS_PERCENT || 0);
const lossNetns = (env.LOSS_NETNS || '').split(',').filter(Boolean);
const windowMs = Number(env.WINDOW_MS || 10000);
const warmupMs = Number(env.WARMUP_MS || 1000);
const fps = 15;

const args = ['--address', host, '--ice-address', host];
if (env.JITTER_LATENCY_MS) args.push('--jitter-latency-ms', env.JITTER_LATENCY_MS);

/** The stats entries of `type` and `kind`, the busiest first (idle m-lines have some too). */
async function statsOf(client, type, kind) {
  const out = [];
  const report = await client.peerConnection.getStats();
  const codecs = new Map();
  report.forEach((s) => { if (s.type === 'codec') codecs.set(s.id, { mimeType: s.mimeType, payloadType: s.payloadType }); });
  report.forEach((s) => {
    if (s.type === type && (s.kind ?? s.mediaType) === kind) out.push({ ...s, codec: codecs.get(s.codecId) });
  });
  out.sort((a, b) => (b.packetsReceived ?? b.packetsSent ?? 0) - (a.packetsReceived ?? a.packetsSent ?? 0));
  return out[0] ?? {};
}

async function snapshot(pub, rx) {
  return {
    at: performance.now(),
    pubVideo: await statsOf(pub, 'outbound-rtp', 'video'),
    pubAudio: await statsOf(pub, 'outbound-rtp', 'audio'),
    rxVideo: await statsOf(rx, 'inbound-rtp', 'video'),
    rxAudio: await statsOf(rx, 'inbound-rtp', 'audio'),
  };
}

/** after - before of the numeric fields `names` (null when the stack has no such field). */
function delta(after, before, names) {
  const out = {};
  for (const n of names) out[n] = typeof after[n] === 'number' ? after[n] - (before[n] ?? 0) : null;
  return out;
}

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)] : null;
}

/**
 * Freezes among the frames rendered in [t0, t1] (arrival times, ms). The edges count as
 * frames, so a picture that stopped and never came back within the window is a freeze too.
 */
function freezesOf(times, t0, t1) {
  const inner = times.slice(1).map((t, i) => t - times[i]);
  const typical = median(inner) ?? 1000 / fps;
  const edges = [t0, ...times, t1];
  const gaps = edges.slice(1).map((t, i) => t - edges[i]);
  const threshold = Math.max(3 * typical, typical + 150);
  const frozen = gaps.filter((g) => g > threshold);
  return {
    count: frozen.length,
    totalMs: Math.round(frozen.reduce((a, b) => a + b, 0)),
    maxGapMs: Math.round(Math.max(0, ...gaps)),
    thresholdMs: Math.round(threshold),
  };
}

await scenario(args, async ({ server }) => {
  if (env.GATEWAY_CPUS) spawnSync('taskset', ['-a', '-pc', env.GATEWAY_CPUS, String(server.process.pid)], { stdio: 'ignore' });

  // RECORD_SDP=1: every offer and answer of each peer go into the result, in order.
  const sdp = { publisher: [], receiver: [] };
  const recording = (who) => (env.RECORD_SDP ? {
    RTCPeerConnection: class extends wrtc.RTCPeerConnection {
      async setRemoteDescription(d) { sdp[who].push({ offer: d.sdp }); return super.setRemoteDescription(d); }
      async setLocalDescription(d) { await super.setLocalDescription(d); sdp[who].push({ answer: this.localDescription.sdp }); }
    },
  } : {});
  const pub = newClient(server.wsUrl, recording('publisher'));
  const media = syntheticTracks({ fps, noise: Number(env.NOISE ?? 0.1) });
  await pub.join('loss', { name: 'publisher' });
  const videoId = (await pub.publish(media.videoTrack, { label: 'camera', codec: 'VP8' })).id;
  if (env.AUDIO !== '0') await pub.publish(media.audioTrack, { label: 'microphone', codec: 'OPUS' });

  const rx = newClient(server.wsUrl, recording('receiver'));
  const frameTimes = [];
  const sinks = [];
  rx.on('track', ({ track, trackId }) => {
    if (track.kind !== 'video' || trackId !== videoId) return;
    const sink = new RTCVideoSink(track);
    sink.onframe = () => frameTimes.push(performance.now());
    sinks.push(sink);
  });
  const setupStart = performance.now();
  await rx.join('loss', { name: 'receiver' });
  await waitFor(() => frameTimes.length >= 5, { timeoutMs: 15000, what: 'the receiver decoding the publisher' });
  const setupMs = Math.round(performance.now() - setupStart);
  await sleep(warmupMs);

  const before = await snapshot(pub, rx);
  const capture = env.CAPTURE_PREFIX ? await startGatewayCapture(netns, env.MANIFOLD_NETIF, env.CAPTURE_PREFIX) : null;
  if (lossPercent > 0) for (const ns of lossNetns) setLoss(ns, lossPercent);
  const t0 = performance.now();
  const decodedPerSecond = [];
  let last = before.rxVideo.framesDecoded ?? 0;
  for (let i = 1; i * 1000 <= windowMs; i++) {
    await sleep(t0 + i * 1000 - performance.now());
    const now = (await statsOf(rx, 'inbound-rtp', 'video')).framesDecoded ?? 0;
    decodedPerSecond.push(now - last);
    last = now;
  }
  await sleep(t0 + windowMs - performance.now());
  const after = await snapshot(pub, rx);
  const t1 = performance.now();
  if (lossPercent > 0) for (const ns of lossNetns) setLoss(ns, 0);
  const captureStats = capture ? await capture.stop() : null;

  const publisher = delta(after.pubVideo, before.pubVideo,
                          ['framesEncoded', 'keyFramesEncoded', 'packetsSent', 'retransmittedPacketsSent', 'nackCount', 'firCount', 'pliCount']);
  const receiver = delta(after.rxVideo, before.rxVideo,
                         ['framesDecoded', 'framesReceived', 'framesDropped', 'keyFramesDecoded', 'packetsReceived', 'packetsLost',
                          'nackCount', 'pliCount', 'firCount', 'freezeCount', 'totalFreezesDuration', 'jitterBufferDelay',
                          'jitterBufferEmittedCount']);
  const audio = delta(after.rxAudio, before.rxAudio, ['packetsReceived', 'packetsLost', 'concealedSamples', 'totalSamplesReceived']);
  const windowFrames = frameTimes.filter((t) => t >= t0 && t <= t1);
  const result = {
    lossPercent,
    lossNetns,
    jitterLatencyMs: env.JITTER_LATENCY_MS ? Number(env.JITTER_LATENCY_MS) : 'default',
    windowMs: Math.round(t1 - t0),
    setupMs,
    codecs: { video: after.rxVideo.codec, audio: after.rxAudio.codec }, // {mimeType, payloadType}
    publisher,
    receiver,
    audio,
    decodedRatio: publisher.framesEncoded ? receiver.framesDecoded / publisher.framesEncoded : null,
    decodedPerSecond,
    sinkFrames: windowFrames.length,
    freezes: freezesOf(windowFrames, t0, t1),
    capture: capture ? { prefix: env.CAPTURE_PREFIX, ...captureStats } : null,
  };
  if (env.RECORD_SDP) result.sdp = sdp;
  if (env.STATS_FIELDS) result.statsFields = { rxVideo: after.rxVideo, pubVideo: after.pubVideo };
  sinks.forEach((s) => s.stop());
  media.stop();
  return result;
}, { netns, host });
