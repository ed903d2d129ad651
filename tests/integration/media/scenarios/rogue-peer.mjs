// Misbehaving participants next to a healthy call (A publishes, B receives):
//  - silent: joins, gets an offer for A's tracks, never answers;
//  - broken: answers with an SDP that is not an answer to the offer: error 4002, and the
//    offer still waits, so it is removed at the answer timeout like the silent one;
//  - killed: a peer process publishing media is killed with SIGKILL.
// Each is removed (others hear participant-left), and B keeps decoding A throughout.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { scenario, syntheticTracks, newClient, countFrames, waitFor } from '../peers.mjs';

/** A raw protocol client: joins and lets `onOffer` decide what to do with offers. */
async function rawPeer(wsUrl, room, onOffer) {
  const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const received = [];
  let joined;
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    received.push(m);
    if (m.type === 'joined') joined = m;
    if (m.type === 'offer') onOffer(ws, m);
  });
  ws.send(JSON.stringify({ type: 'hello', id: 1, versions: [1] }));
  ws.send(JSON.stringify({ type: 'join', id: 2, room }));
  await waitFor(() => joined, { what: 'raw peer joined' });
  return { ws, received, id: joined.participantId };
}

await scenario(['--answer-timeout', '2'], async ({ server }) => {
  const a = newClient(server.wsUrl);
  const b = newClient(server.wsUrl);
  const counter = countFrames(b);
  const left = [];
  b.on('participant-left', (e) => left.push({ id: e.participantId, reason: e.reason, at: Date.now() }));
  const media = syntheticTracks();
  await a.join('rogue', { name: 'A' });
  await b.join('rogue', { name: 'B' });
  const video = (await a.publish(media.videoTrack, { label: 'camera' })).id;
  await a.publish(media.audioTrack, { label: 'microphone' });
  await waitFor(() => (counter.counts.get(video) ?? 0) > 5, { what: 'B decoding A' });

  const t0 = Date.now();
  const silent = await rawPeer(server.wsUrl, 'rogue', () => {});
  const broken = await rawPeer(server.wsUrl, 'rogue', (ws, offer) => {
    ws.send(JSON.stringify({ type: 'answer', id: 9, negotiationId: offer.negotiationId,
                             sdp: 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=recvonly\r\n' }));
  });
  const killedProc = spawn(process.execPath, [fileURLToPath(new URL('../child-publisher.mjs', import.meta.url)), server.wsUrl, 'rogue'],
                           { stdio: ['ignore', 'pipe', 'inherit'] });
  let killedId = null;
  killedProc.stdout.on('data', (d) => { const m = /JOINED (\S+)/.exec(String(d)); if (m) killedId = m[1]; });
  await waitFor(() => killedId, { what: 'the child publisher joined', timeoutMs: 15000 });
  await waitFor(() => counter.counts.size >= 2, { what: 'B receiving the child publisher', timeoutMs: 10000 });
  const killAt = Date.now();
  killedProc.kill('SIGKILL');

  const goneWithin = (id, ms) => waitFor(() => left.find((e) => e.id === id), { what: `participant ${id} removed`, timeoutMs: ms });
  const killedLeft = await goneWithin(killedId, 5000);
  const silentLeft = await goneWithin(silent.id, 6000);
  const brokenLeft = await goneWithin(broken.id, 6000);
  const framesBefore = counter.counts.get(video);
  await waitFor(() => counter.counts.get(video) > framesBefore + 10, { what: 'B still decoding A afterwards' });
  return {
    silent: { reason: silentLeft.reason, afterMs: silentLeft.at - t0,
              disconnect: silent.received.find((m) => m.type === 'disconnect') ?? null },
    broken: { reason: brokenLeft.reason, afterMs: brokenLeft.at - t0,
              errors: broken.received.filter((m) => m.type === 'error').map((m) => m.code),
              answerOk: broken.received.some((m) => m.type === 'ok' && m.id === 9),
              disconnect: broken.received.find((m) => m.type === 'disconnect') ?? null },
    killed: { reason: killedLeft.reason, afterMs: killedLeft.at - killAt },
    bFramesOfA: counter.counts.get(video),
  };
});
