// Synthetic WebRTC peers for media tests: @roamhq/wrtc (Google's libwebrtc in Node)
// publishing a moving I420 test pattern and a tone, and receiving through the gateway.
import { writeSync } from 'node:fs';
import wrtc from '@roamhq/wrtc';
import WebSocket from 'ws';
import { ManifoldClient } from '../../../signalling/client/manifold.js';
import { startManifold } from '../lib/server.mjs';

const { RTCVideoSource, RTCAudioSource, RTCVideoSink } = wrtc.nonstandard;

/**
 * A video track fed with 320x240 frames at `fps` and an audio track fed with 10 ms chunks.
 * The picture is one flat grey that changes every frame (about 100 bytes and one RTP
 * packet a frame). With `noise` (0..1) that fraction of the rows gets fresh random luma
 * each frame, so frames span several packets, as a camera's do (0.1: about 4 packets
 * a frame at libwebrtc's start bitrate, without the encoder dropping frames).
 */
export function syntheticTracks({ fps = 15, width = 320, height = 240, noise = 0 } = {}) {
  const video = new RTCVideoSource();
  const audio = new RTCAudioSource();
  const frame = { width, height, data: new Uint8ClampedArray(width * height * 1.5) };
  const noisy = new Uint32Array(frame.data.buffer, 0, (width * Math.round(height * noise)) >> 2);
  let n = 0;
  let seed = 0x9e3779b9;
  const videoTimer = setInterval(() => {
    frame.data.fill(16 + (n++ * 7) % 200, 0, width * height); // luma changes every frame
    for (let i = 0; i < noisy.length; i++) { // xorshift32, 4 luma samples at a time
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      noisy[i] = seed;
    }
    frame.data.fill(128, width * height);
    video.onFrame(frame);
  }, 1000 / fps);
  const samples = new Int16Array(480);
  let phase = 0;
  let amplitude = 8000;
  const audioTimer = setInterval(() => {
    for (let i = 0; i < samples.length; i++) samples[i] = Math.round(amplitude * Math.sin((phase++ * 2 * Math.PI * 440) / 48000));
    audio.onData({ samples, sampleRate: 48000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 });
  }, 10);
  const videoTrack = video.createTrack();
  const audioTrack = audio.createTrack();
  return {
    videoTrack,
    audioTrack,
    /** Silence (true) or a 440 Hz tone at about -12 dBFS (false). */
    setSilent(silent) { amplitude = silent ? 0 : 8000; },
    stop() {
      clearInterval(videoTimer);
      clearInterval(audioTimer);
      videoTrack.stop();
      audioTrack.stop();
    },
  };
}

export function newClient(wsUrl, opts = {}) {
  return new ManifoldClient(wsUrl, { WebSocket, RTCPeerConnection: wrtc.RTCPeerConnection, ...opts });
}

/** Counts decoded frames of every remote video track the client receives. */
export function countFrames(client) {
  const counts = new Map(); // trackId -> frames
  const sinks = [];
  client.on('track', ({ track, trackId }) => {
    if (track.kind !== 'video') return;
    counts.set(trackId, 0);
    const sink = new RTCVideoSink(track);
    sink.onframe = () => counts.set(trackId, (counts.get(trackId) || 0) + 1);
    sinks.push(sink);
  });
  return { counts, stop: () => sinks.forEach((s) => s.stop()) };
}

/** inbound-rtp stats of the client's peer connection, by kind. */
export async function inbound(client) {
  const pc = client.peerConnection ?? client.pc;
  const out = [];
  if (!pc) return out;
  const report = await pc.getStats();
  report.forEach((s) => {
    if (s.type === 'inbound-rtp') out.push(s);
  });
  return out;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(fn, { timeoutMs = 10000, intervalMs = 50, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * Ends a scenario: writes its one-line JSON result synchronously, then kills the
 * process. @roamhq/wrtc (every version, 0.8 to 0.10) crashes with SIGSEGV in its native
 * destructors when a Node process exits normally; the result is already out by then,
 * so the scenario ends with SIGKILL instead and the runner reads the result line.
 */
export function finish(result) {
  writeSync(1, `${RESULT_PREFIX}${JSON.stringify(result)}\n`);
  process.kill(process.pid, 'SIGKILL');
}

async function stopAndFinish(server, result) {
  // SIGKILL skips exit hooks, so stop the gateway explicitly first. Its GLib/GStreamer
  // CRITICAL and WARNING lines travel in the result (`glibProblems`): runScenario fails
  // the scenario on them, whatever else it found.
  if (server) {
    const stopping = Date.now();
    let status = null;
    try {
      status = await server.stop();
    } catch (e) {
      status = e.status ?? null;
      if (e.glibProblems && result) result.glibProblems = e.glibProblems;
    }
    if (result && !result.error) {
      result.serverExit = status;
      result.serverStopMs = Date.now() - stopping;
    }
    // After the stop: a sanitizer build reports at exit.
    if (result && !result.error && process.env.SCENARIO_STDERR) result.stderr = server.stderr().slice(-20000);
  }
  finish(result);
}
export const RESULT_PREFIX = 'SCENARIO-RESULT ';

/**
 * Runs `body(ctx)`; ctx.server is a started gateway. Reports errors as {error}.
 * `startOptions` go to startManifold (e.g. {netns, host} for a gateway in a veth namespace).
 */
export async function scenario(args, body, startOptions = {}) {
  let server;
  try {
    server = await startManifold(['--auth', 'none', ...args],
                                 { ...startOptions, env: { GST_DEBUG: process.env.GST_DEBUG || 'manifold*:3', ...startOptions.env } });
    const result = await body({ server });
    await stopAndFinish(server, result);
  } catch (e) {
    const stderr = server ? server.stderr().slice(-3000) : '';
    await stopAndFinish(server, { error: `${e?.stack ?? e}`, stderr });
  }
}

/** Frames decoded so far per remote track id, as a plain object. */
export function frameCounts(counter) {
  return Object.fromEntries(counter.counts);
}
