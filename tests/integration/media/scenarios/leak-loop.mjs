// CYCLES times: a peer joins, publishes video+audio, a steady subscriber receives it,
// the peer leaves. Afterwards the gateway's threads and memory are compared with the
// baseline taken after one warm-up cycle; the gateway is then stopped so the sanitizer
// build can report leaks (its exit status is in the result).
import { readFileSync, readdirSync } from 'node:fs';
import { scenario, syntheticTracks, newClient, countFrames, sleep, waitFor } from '../peers.mjs';

const CYCLES = Number(process.env.CYCLES || 100);

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
  return { threads: field('Threads'), rssKb: field('VmRSS'), names };
}

await scenario(['--room-empty-timeout', '0'], async ({ server }) => {
  const pid = server.process.pid;
  const watcher = newClient(server.wsUrl);
  const counter = countFrames(watcher);
  await watcher.join('leak', { name: 'watcher' });
  const media = syntheticTracks();

  async function cycle(i) {
    const peer = newClient(server.wsUrl);
    await peer.join('leak', { name: `p${i}` });
    const video = (await peer.publish(media.videoTrack, { label: 'camera' })).id;
    await peer.publish(media.audioTrack, { label: 'microphone' });
    await waitFor(() => (counter.counts.get(video) ?? 0) > 0, { what: `cycle ${i}: the watcher decoding`, timeoutMs: 10000 });
    await peer.leave();
    peer.close();
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
  const t0 = Date.now();
  for (let i = 1; i <= CYCLES; i++) await cycle(i);
  const loopMs = Date.now() - t0;
  await settle(baseline.threads);
  const after = usage(pid);
  counter.stop();
  watcher.close();
  media.stop();
  return { cycles: CYCLES, loopMs, baseline, after, decodedTracks: counter.counts.size };
});
