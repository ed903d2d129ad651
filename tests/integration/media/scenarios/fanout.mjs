// Three peers publish video+audio and see each other; a fourth joins late; one leaves;
// a fifth takes the leaver's place and the others' SDP does not grow.
import { scenario, syntheticTracks, newClient, countFrames, sleep, waitFor, frameCounts } from '../peers.mjs';

// @roamhq/wrtc has no per-receiver getStats: list the audio streams received, by SSRC.
async function audioStreams(client) {
  const report = await client.peerConnection.getStats();
  const out = [];
  report.forEach((s) => {
    if (s.type === 'inbound-rtp' && (s.kind ?? s.mediaType) === 'audio') out.push(s.packetsReceived ?? 0);
  });
  return out;
}

await scenario([], async ({ server }) => {
  const peers = [];
  async function addPeer(name) {
    const client = newClient(server.wsUrl);
    const counter = countFrames(client);
    const events = [];
    const tracks = new Set(); // remote track ids announced to this peer
    client.on('track', (e) => tracks.add(e.trackId));
    client.on('participant-left', (e) => events.push({ type: 'left', id: e.participantId, reason: e.reason }));
    client.on('track-unpublished', (e) => events.push({ type: 'unpublished', trackId: e.trackId }));
    const media = syntheticTracks();
    const joinStart = Date.now();
    const joined = await client.join('call', { name });
    const peer = { name, client, counter, media, events, tracks, id: joined.participantId, joinStart, video: null, audio: null };
    peer.video = (await client.publish(media.videoTrack, { label: 'camera' })).id;
    peer.audio = (await client.publish(media.audioTrack, { label: 'microphone' })).id;
    peers.push(peer);
    return peer;
  }
  const decodes = (p, o, min = 5) => (p.counter.counts.get(o.video) ?? 0) >= min;

  const [a, b, c] = [await addPeer('A'), await addPeer('B'), await addPeer('C')];
  await waitFor(() => [a, b, c].every((p) => [a, b, c].every((o) => o === p || decodes(p, o))),
                { timeoutMs: 15000, what: 'A, B and C decoding each other' });
  await sleep(1000);
  const audio = {};
  for (const p of [a, b, c]) audio[p.name] = await audioStreams(p.client);

  const d = await addPeer('D');
  await waitFor(() => [a, b, c].every((o) => decodes(d, o, 1)), { timeoutMs: 5000, what: 'D decoding A, B and C' });
  const lateJoinMs = Date.now() - d.joinStart;
  await waitFor(() => [a, b, c].every((p) => decodes(p, d, 1)), { timeoutMs: 5000, what: 'A, B and C decoding D' });

  // B's m-lines are counted once B has every track of D (its audio may still be on its way
  // when D's video decodes), and again once it has both of E's.
  await waitFor(() => b.tracks.has(d.audio) && b.tracks.has(d.video), { timeoutMs: 5000, what: "B receiving D's tracks" });
  const transceiversBefore = b.client.peerConnection.getTransceivers().length;
  await a.client.leave();
  await waitFor(() => [b, c, d].every((p) => p.events.some((e) => e.type === 'left' && e.id === a.id)),
                { timeoutMs: 5000, what: 'everyone hearing A left' });
  await sleep(300);
  const afterLeave = b.counter.counts.get(a.video);
  await sleep(1000);
  const oneSecondLater = b.counter.counts.get(a.video);
  const bStillDecodesC = b.counter.counts.get(c.video);

  const e = await addPeer('E');
  await waitFor(() => decodes(b, e) && decodes(e, b), { timeoutMs: 10000, what: 'B and E decoding each other' });
  await waitFor(() => b.tracks.has(e.audio), { timeoutMs: 5000, what: "B receiving E's audio" });
  const transceiversAfter = b.client.peerConnection.getTransceivers().length;
  await sleep(500);

  return {
    lateJoinMs,
    audio,
    frames: Object.fromEntries(peers.map((p) => [p.name, frameCounts(p.counter)])),
    ids: Object.fromEntries(peers.map((p) => [p.name, { id: p.id, video: p.video, audio: p.audio }])),
    leftEvents: Object.fromEntries([b, c, d].map((p) => [p.name, p.events])),
    leaverFramesAtB: { afterLeave, oneSecondLater },
    bDecodesCAfterLeave: { before: bStillDecodesC, now: b.counter.counts.get(c.video) },
    transceivers: { before: transceiversBefore, after: transceiversAfter },
  };
});
