// A publishes a tone, then silence; B (and A itself) hear `speaking` true, then false.
import { scenario, syntheticTracks, newClient, waitFor } from '../peers.mjs';

await scenario([], async ({ server }) => {
  const a = newClient(server.wsUrl);
  const b = newClient(server.wsUrl);
  const heardByB = [];
  const heardByA = [];
  b.on('speaking', (e) => heardByB.push({ ...e, at: Date.now() }));
  a.on('speaking', (e) => heardByA.push({ ...e, at: Date.now() }));
  const media = syntheticTracks();
  media.setSilent(true);
  await a.join('talk', { name: 'A' });
  await b.join('talk', { name: 'B' });
  const audio = (await a.publish(media.audioTrack, { label: 'microphone' })).id;
  const toneAt = Date.now();
  media.setSilent(false);
  await waitFor(() => heardByB.some((e) => e.speaking), { what: 'speaking true at B', timeoutMs: 8000 });
  const silenceAt = Date.now();
  media.setSilent(true);
  await waitFor(() => heardByB.some((e) => !e.speaking), { what: 'speaking false at B', timeoutMs: 8000 });
  const start = heardByB.find((e) => e.speaking);
  const stop = heardByB.find((e) => !e.speaking);
  return {
    audio, eventsAtB: heardByB.map(({ participantId, trackId, speaking }) => ({ participantId, trackId, speaking })),
    eventsAtA: heardByA.length, startMs: start.at - toneAt, stopMs: stop.at - silenceAt, publisher: a.participantId,
  };
});
