// Churn with two anchors. An anchor publisher (video + audio) and an anchor subscriber
// stay connected throughout, while CYCLES churn cycles run in LANES lanes at once: each
// cycle a new peer joins, publishes video + audio, receives the anchor's video and audio
// (decoded) while the anchor subscriber decodes its video, then leaves.
//
// Reported: the cycles done, the anchors lost (disconnected or closed) and every window of
// WINDOW_MS in which the anchor subscriber decoded no video frame or no audio of the
// anchor publisher, the gateway's RSS, threads and open fds after a warm-up cycle (the
// baseline), every 50 cycles and at the end (after its teardown thread settled). The
// gateway's GLib/GStreamer CRITICAL and WARNING lines come back through peers.mjs.
import { readFileSync, readdirSync } from 'node:fs';
import wrtc from '@roamhq/wrtc';
import { scenario, syntheticTracks, newClient, countFrames, sleep, waitFor } from '../peers.mjs';

const { RTCAudioSink } = wrtc.nonstandard;
const CYCLES = Number(process.env.CYCLES || 300);
const LANES = Number(process.env.LANES || 2);
const WINDOW_MS = Number(process.env.WINDOW_MS || 5000);
const ROOM = 'churn';

function usage(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)[1]);
  const names = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const n = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim().replace(/[0-9]+$/, '#');
      names[n] = (names[n] ?? 0) + 1;
    } catch { /* the thread ended meanwhile */ }
  }
  return { threads: field('Threads'), rssKb: field('VmRSS'), fds: readdirSync(`/proc/${pid}/fd`).length, names };
}

/** Counts audio callbacks (10 ms of decoded audio each) of remote audio track `trackId`. */
function countAudio(client, trackId) {
  const state = { chunks: 0, sink: null };
  client.on('track', ({ track, trackId: id }) => {
    if (track.kind !== 'audio' || id !== trackId() || state.sink) return;
    state.sink = new RTCAudioSink(track);
    state.sink.ondata = () => { state.chunks++; };
  });
  return { get chunks() { return state.chunks; }, stop: () => state.sink?.stop() };
}

await scenario(['--room-empty-timeout', '0'], async ({ server }) => {
  const pid = server.process.pid;
  const media = syntheticTracks();
  const anchorsLost = [];
  const watchAnchor = (client, name) => {
    client.on('disconnect', (d) => anchorsLost.push({ name, event: 'disconnect', reason: d?.reason ?? null }));
    client.on('close', (c) => anchorsLost.push({ name, event: 'close', code: c?.code ?? null }));
  };

  // The anchors.
  let anchorVideo = null;
  let anchorAudio = null;
  const publisher = newClient(server.wsUrl);
  watchAnchor(publisher, 'publisher');
  await publisher.join(ROOM, { name: 'anchor-publisher' });
  anchorVideo = (await publisher.publish(media.videoTrack, { label: 'camera' })).id;
  anchorAudio = (await publisher.publish(media.audioTrack, { label: 'microphone' })).id;
  const subscriber = newClient(server.wsUrl);
  watchAnchor(subscriber, 'subscriber');
  const subscriberFrames = countFrames(subscriber);
  const subscriberAudio = countAudio(subscriber, () => anchorAudio);
  await subscriber.join(ROOM, { name: 'anchor-subscriber' });
  await waitFor(() => (subscriberFrames.counts.get(anchorVideo) ?? 0) > 0 && subscriberAudio.chunks > 0,
                { timeoutMs: 15000, what: "the anchor subscriber decoding the anchor's video and audio" });

  let failure = null;
  async function cycle(i) {
    const peer = newClient(server.wsUrl);
    const frames = countFrames(peer);
    const audio = countAudio(peer, () => anchorAudio);
    try {
      await peer.join(ROOM, { name: `churn-${i}` });
      const video = (await peer.publish(media.videoTrack, { label: 'camera' })).id;
      await peer.publish(media.audioTrack, { label: 'microphone' });
      await waitFor(() => (subscriberFrames.counts.get(video) ?? 0) > 0 && (frames.counts.get(anchorVideo) ?? 0) > 0 &&
                          audio.chunks > 0,
                    { timeoutMs: 15000, what: `cycle ${i}: media both ways (the anchor subscriber decoding the ` +
                                             "peer's video, the peer decoding the anchor's video and audio)" });
      await peer.leave();
    } finally {
      frames.stop();
      audio.stop();
      peer.close();
    }
  }

  // Pipelines stop on the gateway's teardown thread: wait until the thread count stops
  // falling (or reaches `target`), at most 10 s.
  const settle = async (target = 0) => {
    let last = usage(pid).threads;
    let still = 0;
    for (let i = 0; i < 100 && last > target; i++) {
      await sleep(100);
      const now = usage(pid).threads;
      still = now === last ? still + 1 : 0;
      if (still >= 5 && !target) break;
      last = now;
    }
  };

  await cycle(0);
  await settle();
  const baseline = usage(pid);

  // The anchors keep decoding: every WINDOW_MS, new video frames and new audio of the anchor.
  const stalls = [];
  let done = 0;
  let lastFrames = subscriberFrames.counts.get(anchorVideo) ?? 0;
  let lastAudio = subscriberAudio.chunks;
  const monitor = setInterval(() => {
    const framesNow = subscriberFrames.counts.get(anchorVideo) ?? 0;
    const audioNow = subscriberAudio.chunks;
    if (framesNow === lastFrames || audioNow === lastAudio)
      stalls.push({ afterCycle: done, videoFrames: framesNow - lastFrames, audioChunks: audioNow - lastAudio });
    lastFrames = framesNow;
    lastAudio = audioNow;
  }, WINDOW_MS);

  const samples = [{ cycle: 0, ...baseline, names: undefined }];
  let next = 1;
  const t0 = Date.now();
  async function lane() {
    while (!failure && anchorsLost.length === 0 && next <= CYCLES) {
      const i = next++;
      try {
        await cycle(i);
      } catch (e) {
        failure ??= e;
        return;
      }
      done++;
      if (done % 50 === 0) samples.push({ cycle: done, ...usage(pid), names: undefined });
    }
  }
  await Promise.all(Array.from({ length: LANES }, lane));
  const loopMs = Date.now() - t0;
  clearInterval(monitor);
  if (failure) throw failure;
  await settle(baseline.threads);
  const after = usage(pid);
  const anchorFrames = subscriberFrames.counts.get(anchorVideo) ?? 0;
  const lost = [...anchorsLost]; // before our own close() below
  subscriberFrames.stop();
  subscriberAudio.stop();
  subscriber.close();
  publisher.close();
  media.stop();
  return {
    cycles: done, lanes: LANES, loopMs, windowMs: WINDOW_MS, baseline, after, samples,
    anchorsLost: lost,
    stalls, anchorFrames, anchorAudioChunks: subscriberAudio.chunks,
    churnVideoDecoded: [...subscriberFrames.counts.keys()].filter((k) => k !== anchorVideo).length,
  };
});
