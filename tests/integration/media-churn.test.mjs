// Churn through the real gateway with real WebRTC peers (@roamhq/wrtc), in a network
// namespace of its own: an anchor publisher and an anchor subscriber stay connected while
// peers join, publish audio and video, receive media and leave, two at a time
// (media/scenarios/churn.mjs). This is the load under which GStreamer 1.22 printed
// CRITICALs (rtpsession's sources walk, srtpdec's stream-id; see
// subprojects/gst-rtpmanager-patched and Workarounds.hpp, 10): the gateway runs with
// G_DEBUG=fatal-criticals and any CRITICAL/WARNING line fails the test (lib/server.mjs).
//
// 300 cycles against the regular build (tests/run.sh's second phase, about 2 minutes);
// under sanitizers, where media set-up is several times slower, 40 cycles, for the
// sanitizers' sake. CHURN_CYCLES overrides both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { namespaceUnavailable, runScenario } from './media/netns.mjs';

const why = namespaceUnavailable();
const opts = why ? { skip: why } : {};
const sanitized = process.env.MANIFOLD_SANITIZED === '1';
const CYCLES = Number(process.env.CHURN_CYCLES || (sanitized ? 40 : 300));
const LANES = 2;
// Bounds generous enough not to flake: measured growth is in the commit message of this
// test; a leak of one pipeline per cycle would pass them within the first 100 cycles.
const MAX_EXTRA_THREADS = 4;
const MAX_EXTRA_FDS = 16;
const MAX_RSS_GROWTH_MB = 64;

const mb = (kb) => (kb / 1024).toFixed(1);

test(`${CYCLES} join/publish/media/leave cycles around an anchor publisher and subscriber: ` +
     'no CRITICAL, anchors decoding throughout, threads/fds/RSS bounded',
     { ...opts, timeout: 60000 + CYCLES * 3000 }, async (t) => {
  const r = await runScenario('churn', {
    env: { CYCLES: String(CYCLES), LANES: String(LANES), SCENARIO_STDERR: '1' },
    timeoutMs: 50000 + CYCLES * 3000,
  });
  const { baseline: b, after: a } = r;
  t.diagnostic(`${r.cycles} cycles in ${r.lanes} lanes in ${(r.loopMs / 1000).toFixed(1)} s ` +
               `(${(r.loopMs / r.cycles).toFixed(0)} ms per cycle); anchor subscriber decoded ${r.anchorFrames} frames ` +
               `and ${r.anchorAudioChunks} x 10 ms of audio of the anchor, and the video of ${r.churnVideoDecoded} churn peers`);
  t.diagnostic(`gateway after warm-up -> after the loop: RSS ${mb(b.rssKb)} -> ${mb(a.rssKb)} MB, ` +
               `threads ${b.threads} -> ${a.threads}, fds ${b.fds} -> ${a.fds}`);
  t.diagnostic(`every 50 cycles (cycle: RSS MB/threads/fds): ${r.samples.map((s) => `${s.cycle}: ${mb(s.rssKb)}/${s.threads}/${s.fds}`).join(', ')}`);
  assert.equal(r.cycles, CYCLES, 'every cycle ran');
  assert.deepEqual(r.anchorsLost, [], 'no anchor was disconnected');
  assert.deepEqual(r.stalls, [], `the anchor subscriber decoded the anchor's video and audio in every ${r.windowMs} ms window`);
  assert.equal(r.churnVideoDecoded, CYCLES + 1, "the anchor subscriber decoded every churn peer's video");
  assert.ok(a.threads <= b.threads + MAX_EXTRA_THREADS, `threads ${b.threads} -> ${a.threads}: ${JSON.stringify(a.names)}`);
  assert.ok(a.fds <= b.fds + MAX_EXTRA_FDS, `fds ${b.fds} -> ${a.fds}`);
  // Under AddressSanitizer freed memory sits in quarantine, so RSS says little there;
  // LeakSanitizer checks for leaks when the gateway exits (serverExit below).
  if (!sanitized) {
    const grown = (a.rssKb - b.rssKb) / 1024;
    assert.ok(grown < MAX_RSS_GROWTH_MB, `RSS grew by ${grown.toFixed(1)} MB in ${r.cycles} cycles`);
  }
  const report = (r.stderr ?? '').indexOf('ERROR: ');
  assert.equal(r.serverExit, 0, `clean exit (with sanitizers: no leak reported); the gateway said:\n` +
               `${report >= 0 ? r.stderr.slice(report, report + 4000) : (r.stderr ?? '').slice(-4000)}`);
});
