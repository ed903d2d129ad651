// For each video codec in CODECS (default VP8,VP9,AV1): A publishes with `codec` set (the
// server offers that codec first, and libwebrtc sends the offer's first codec it
// supports), B receives what A sends, untranscoded. Reports the codec B's inbound stream
// negotiated and the frames it decoded.
import { scenario, syntheticTracks, newClient, countFrames, waitFor } from '../peers.mjs';

const CODECS = (process.env.CODECS || 'VP8,VP9,AV1').split(',');


async function inboundCodec(client) {
  const report = await client.peerConnection.getStats();
  let codecId = null;
  let frames = 0;
  report.forEach((s) => {
    if (s.type === 'inbound-rtp' && (s.kind ?? s.mediaType) === 'video') { codecId = s.codecId; frames = s.framesDecoded; }
  });
  return { mimeType: codecId ? report.get(codecId)?.mimeType : null, frames };
}

await scenario([], async ({ server }) => {
  const results = {};
  for (const codec of CODECS) {
    const a = newClient(server.wsUrl);
    const b = newClient(server.wsUrl);
    const counter = countFrames(b);
    const media = syntheticTracks();
    await a.join(`codec-${codec}`, { name: 'A' });
    await b.join(`codec-${codec}`, { name: 'B' });
    const video = (await a.publish(media.videoTrack, { label: 'camera', codec })).id;
    await waitFor(() => (counter.counts.get(video) ?? 0) > 10, { what: `B decoding ${codec}`, timeoutMs: 10000 });
    results[codec] = { ...(await inboundCodec(b)), counted: counter.counts.get(video) };
    counter.stop();
    media.stop();
    await a.leave();
    await b.leave();
  }
  return { results };
});
