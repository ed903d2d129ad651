// A publishes video; B receives it. B pauses the subscription, then resumes; A mutes
// the track, then unmutes. While paused or muted the gateway forwards nothing (B's
// received bytes stop growing); resuming brings frames back after a fresh keyframe.
import { scenario, syntheticTracks, newClient, countFrames, sleep, waitFor } from '../peers.mjs';

async function inboundVideo(client) {
  let out = null;
  (await client.peerConnection.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && (s.kind ?? s.mediaType) === 'video')
      out = { bytes: s.bytesReceived, frames: s.framesDecoded };
  });
  return out;
}
async function publisherKeyframes(client) {
  let out = 0;
  (await client.peerConnection.getStats()).forEach((s) => {
    if (s.type === 'outbound-rtp' && (s.kind ?? s.mediaType) === 'video') out = s.keyFramesEncoded;
  });
  return out;
}
/** Bytes B receives over `ms`. */
async function bytesOver(client, ms) {
  const before = (await inboundVideo(client)).bytes;
  await sleep(ms);
  return (await inboundVideo(client)).bytes - before;
}

await scenario([], async ({ server }) => {
  const a = newClient(server.wsUrl);
  const b = newClient(server.wsUrl);
  const counter = countFrames(b);
  const mutedEvents = [];
  b.on('track-muted', (e) => mutedEvents.push(e.muted));
  const media = syntheticTracks();
  await a.join('mp', { name: 'A' });
  await b.join('mp', { name: 'B' });
  const video = (await a.publish(media.videoTrack, { label: 'camera' })).id;
  await waitFor(() => (counter.counts.get(video) ?? 0) > 10, { what: 'B decoding A' });
  await sleep(300);

  const flowing = await bytesOver(b, 1000);
  await b.pause(video, true);
  await sleep(300); // packets already in flight
  const paused = await bytesOver(b, 1000);
  const keyframesBeforeResume = await publisherKeyframes(a);
  const framesBeforeResume = counter.counts.get(video);
  const resumeAt = Date.now();
  await b.pause(video, false);
  await waitFor(() => counter.counts.get(video) > framesBeforeResume, { what: 'frames after resume' });
  const resumeMs = Date.now() - resumeAt;
  await sleep(300);
  const keyframesAfterResume = await publisherKeyframes(a);

  await a.mute(video, true);
  await waitFor(() => mutedEvents.includes(true), { what: 'B hearing track-muted' });
  await sleep(300);
  const muted = await bytesOver(b, 1000);
  const framesBeforeUnmute = counter.counts.get(video);
  await a.mute(video, false);
  await waitFor(() => counter.counts.get(video) > framesBeforeUnmute, { what: 'frames after unmute' });
  const afterUnmute = await bytesOver(b, 1000);

  const metricsText = await (await fetch(`${server.url}/metrics`)).text();
  const metric = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metricsText)?.[1]);
  const metrics = Object.fromEntries(['manifold_media_sessions', 'manifold_rtp_packets_received_total',
    'manifold_rtp_packets_forwarded_total', 'manifold_keyframe_requests_total'].map((n) => [n, metric(n)]));
  return { flowing, paused, resumeMs, keyframesBeforeResume, keyframesAfterResume, muted, afterUnmute, mutedEvents, metrics };
});
