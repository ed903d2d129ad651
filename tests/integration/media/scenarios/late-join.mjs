// One publisher streams; a subscriber joins late. Reports how long the subscriber waits
// for its first decoded frame and what the publisher saw (PLIs, keyframes encoded).
import { scenario, syntheticTracks, newClient, countFrames, sleep, waitFor } from '../peers.mjs';

async function outbound(client) {
  const report = await client.peerConnection.getStats();
  const out = {};
  report.forEach((s) => {
    if (s.type === 'outbound-rtp' && (s.kind ?? s.mediaType) === 'video')
      Object.assign(out, { pli: s.pliCount, fir: s.firCount, keyFrames: s.keyFramesEncoded, frames: s.framesEncoded });
  });
  return out;
}

await scenario([], async ({ server }) => {
  const publishers = [];
  const pubSdp = [];
  class PubPC extends (await import('@roamhq/wrtc')).default.RTCPeerConnection {
    async setRemoteDescription(desc) { pubSdp.push({ offer: desc.sdp }); return super.setRemoteDescription(desc); }
    async setLocalDescription(desc) { const r = await super.setLocalDescription(desc); pubSdp.push({ answer: this.localDescription.sdp }); return r; }
  }
  for (let i = 0; i < Number(process.env.PUBLISHERS || 1); i++) {
    const p = newClient(server.wsUrl, process.env.RECORD_PUB_SDP && i === 0 ? { RTCPeerConnection: PubPC } : {});
    const m = syntheticTracks({ fps: Number(process.env.FPS || 15) });
    await p.join('r', { name: `A${i}` });
    await p.publish(m.videoTrack, { label: 'camera' });
    if (process.env.AUDIO) await p.publish(m.audioTrack, { label: 'microphone' });
    publishers.push(p);
  }
  const a = publishers[0];
  await sleep(1500);
  const runs = [];
  for (let i = 0; i < Number(process.env.RUNS || 3); i++) {
    if (!a.peerConnection) throw new Error('publisher A0 lost its media connection');
    const before = await outbound(a);
    const t0 = Date.now();
    const offers = [];
    class RecordingPC extends (await import('@roamhq/wrtc')).default.RTCPeerConnection {
      async setRemoteDescription(desc) { offers.push({ t: Date.now() - t0, sdp: desc.sdp }); return super.setRemoteDescription(desc); }
    }
    const d = newClient(server.wsUrl, process.env.RECORD_SDP ? { RTCPeerConnection: RecordingPC } : {});
    const counter = countFrames(d);
    let connectedMs = null;
    d.on('connectionstatechange', ({ state }) => { if (state === 'connected' && connectedMs === null) connectedMs = Date.now() - t0; });
    await d.join('r', { name: `D${i}` });
    const joinedMs = Date.now() - t0;
    let dm = null;
    if (process.env.LATE_PUBLISH) {
      dm = syntheticTracks();
      await d.publish(dm.videoTrack, { label: 'camera' });
      await d.publish(dm.audioTrack, { label: 'microphone' });
    }
    const firstFrames = {};
    await waitFor(() => {
      for (const [id, n] of counter.counts) if (n > 0 && !(id in firstFrames)) firstFrames[id] = Date.now() - t0;
      return Object.keys(firstFrames).length >= publishers.length;
    }, { timeoutMs: Number(process.env.WAIT_MS || 10000), what: 'first frame of every publisher', intervalMs: 10 }).catch(async (e) => {
      const inb = [];
      (await d.peerConnection.getStats()).forEach((s) => { if (s.type === 'inbound-rtp') inb.push({ ssrc: s.ssrc, kind: s.kind, packets: s.packetsReceived, frames: s.framesDecoded, pli: s.pliCount, fir: s.firCount, nack: s.nackCount }); });
      throw new Error(`${e.message}: inbound ${JSON.stringify(inb)} got ${JSON.stringify(firstFrames)} counts ${JSON.stringify([...counter.counts])} mids ${JSON.stringify([...(d.peerConnection?.getTransceivers() ?? [])].map((t) => [t.mid, t.direction, t.currentDirection]))}`);
    });
    const firstFrameMs = Math.max(...Object.values(firstFrames));
    dm?.stop();
    const after = await outbound(a);
    runs.push({ joinedMs, connectedMs, firstFrameMs, firstFrames, publisherBefore: before, publisherAfter: after,
                ...(process.env.RECORD_SDP ? { offers } : {}) });
    counter.stop();
    await d.leave();
    await sleep(700);
  }
  return { runs, ...(process.env.RECORD_PUB_SDP ? { pubSdp } : {}) };
});
