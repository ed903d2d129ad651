#!/usr/bin/env node
// The benchmark's load generator: @roamhq/wrtc peers (synthetic VP8 320x240 + Opus, from
// tests/integration/media/peers.mjs) that join rooms on Manifold or on Janus VideoRoom,
// publish and subscribe. Run by run.mjs inside the client namespace of a veth pair; not
// meant to be run by hand.
//
//   node loadgen.mjs '<json config>'
//   config: {server: 'manifold'|'janus', url, rooms: [{name, participants: [{name, audio, video, subscribe, viewer, counting, synthetic}]}],
//            fps, noise, joinWaitMs}
//
// Talks to run.mjs over stdin/stdout, one line each:
//   -> "READY <json>"    every participant joined (join times inside)
//   <- "START"           snapshot of every receiver's stats  -> "STARTED"
//   <- "STOP"            second snapshot                      -> "RESULT <json>", then SIGKILL (see peers.mjs finish)
//
// Participants join one at a time; each one's join time runs from the moment its WebSocket
// is opened to the first decoded frame (video) or first received packet (audio only) of
// the publishers already there ("first"), and of all of them ("all").
//
// Receivers are wrtc PeerConnections unless the spec says `counting`: libwebrtc
// depacketizes and decodes every video stream it receives whether or not a sink is
// attached, so a wrtc viewer costs the load generator a participant's receive side.
// A video sink is attached only until the first frame (for the join time): the frame
// rate comes from getStats' framesDecoded, which avoids copying every I420 frame into JS.
//
// Counting receivers (`counting: true`, lib/counting-peer.mjs: libdatachannel, no
// decoding) only read RTP headers; their join time ends at the first packet of a VP8
// keyframe instead of a decoded frame, and their frame rate counts marker bits.
//   - counting, publishes nothing: one counting PeerConnection (a cheap viewer);
//   - counting + synthetic (audio only): one counting PeerConnection that also sends
//     synthetic Opus (Manifold: one session, as a wrtc participant; Janus: publisher and
//     subscriber PeerConnections, both counting);
//   - counting + wrtc publishing (video): the participant is split in two legs, a wrtc
//     publisher and a counting receiver. Janus: the same session, publisher handle on
//     wrtc, subscriber handle counting (the two PeerConnections it always has).
//     Manifold: two sessions (a Manifold participant has one PeerConnection): the
//     publisher joins with autoSubscribe false, the receiver `PNAME-rx` subscribes to
//     every track in the room but its publisher's. Manifold then holds 2N sessions for N.
//     The join time runs from the publisher's WebSocket open (the receiver joins after
//     the publisher has published) to the receiver's first keyframe packets.
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import wrtc from '@roamhq/wrtc';
import { newClient, syntheticTracks, finish, sleep } from '../integration/media/peers.mjs';
import WebSocket from 'ws';
import { ManifoldClient } from '../../signalling/client/manifold.js';
import { JanusParticipant, JanusSession, createRoom } from './lib/janus-client.mjs';
import { CountingPeerConnection, syntheticOpusTrack } from './lib/counting-peer.mjs';

const { RTCVideoSink, RTCAudioSource } = wrtc.nonstandard;
const cfg = JSON.parse(process.argv[2]);
const fps = cfg.fps ?? 15;
const joinWaitMs = cfg.joinWaitMs ?? 10000;

function out(line) { process.stdout.write(`${line}\n`); }
function log(line) { process.stderr.write(`[loadgen] ${line}\n`); }
const verbose = Boolean(process.env.BENCH_VERBOSE);

// Candidates a client would not have on a real network: the client namespace's own `lo`
// (127.0.0.1, ::1). libnice (both servers) checks them too and, as the controlling agent,
// nominated only after ~2 s when they were trickled. Only candidates on the veth address
// are sent when cfg.clientAddress is set.
const keepCandidate = (c) => !c || !cfg.clientAddress || !c.candidate || c.candidate.includes(` ${cfg.clientAddress} `);

/** An RTCPeerConnection that hides the candidates keepCandidate() drops. */
class PeerConnection extends wrtc.RTCPeerConnection {
  constructor(...args) {
    super(...args);
    if (verbose) {
      const t0 = performance.now();
      const at = () => `${(performance.now() - t0).toFixed(1)} ms`;
      super.addEventListener('iceconnectionstatechange', () => log(`pc ice ${this.iceConnectionState} ${at()}`));
      super.addEventListener('icegatheringstatechange', () => log(`pc gathering ${this.iceGatheringState} ${at()}`));
      super.addEventListener('connectionstatechange', () => log(`pc connection ${this.connectionState} ${at()}`));
      super.addEventListener('icecandidate', (e) => log(`pc candidate ${e.candidate?.candidate ?? 'end'} ${at()}`));
    }
  }

  addEventListener(type, listener, ...rest) {
    if (type !== 'icecandidate') return super.addEventListener(type, listener, ...rest);
    return super.addEventListener(type, (e) => { if (keepCandidate(e.candidate)) listener(e); }, ...rest);
  }

  set onicecandidate(listener) {
    super.onicecandidate = listener ? (e) => { if (keepCandidate(e.candidate)) listener(e); } : null;
  }

  get onicecandidate() { return super.onicecandidate; }
}
const rtc = { ...wrtc, RTCPeerConnection: PeerConnection };

// A counting PeerConnection class gathering on the client's veth address only.
// BENCH_COUNTING_PLI=never: counting receivers never ask for keyframes (default auto);
// BENCH_COUNTING_DTLS=client: they answer as DTLS client (default server). See counting-peer.mjs.
const countingPc = (name) => CountingPeerConnection.with({
  bindAddress: cfg.clientAddress, name, log: verbose ? log : null,
  pli: process.env.BENCH_COUNTING_PLI || 'auto', dtls: process.env.BENCH_COUNTING_DTLS || 'server',
});

/**
 * Opus source: a 440 Hz tone plus noise whose level changes at random every 20 ms, so
 * Opus (VBR) packets vary in size as a microphone's do. A pure tone (peers.mjs) gives
 * packets of one size, and then the forwarding-delay matcher (lib/delay.mjs) could not
 * tell one publisher's audio stream from another's.
 */
function varyingAudio() {
  const source = new RTCAudioSource();
  const samples = new Int16Array(480);
  let phase = 0;
  let level = 0;
  let n = 0;
  let seed = (Math.random() * 0xffffffff) >>> 0 || 1;
  const rand = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) / 0x100000000; };
  const start = performance.now();
  // Node's 10 ms timers run late; push every chunk that is due so the source keeps real time.
  const timer = setInterval(() => {
    const due = Math.floor((performance.now() - start) / 10);
    for (let c = 0; n < due && c < 5; c++) {
      if (n++ % 2 === 0) level = rand();
      for (let i = 0; i < samples.length; i++) {
        samples[i] = Math.round(6000 * Math.sin((phase++ * 2 * Math.PI * 440) / 48000) + level * 12000 * (rand() - 0.5));
      }
      source.onData({ samples, sampleRate: 48000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 });
    }
    if (due - n > 50) n = due; // hopelessly behind (an overloaded load generator): drop, do not burst
  }, 10);
  const track = source.createTrack();
  return { track, stop() { clearInterval(timer); track.stop(); } };
}

class Participant {
  constructor(spec, room, roomIndex) {
    Object.assign(this, spec);
    this.room = room;
    this.roomIndex = roomIndex;
    this.firstFrames = new Map(); // remote key -> ms after start (decoded frame, or first keyframe packet when counting)
    this.firstPackets = new Map(); // counting video: remote key -> ms after start of its first packet
    this.sinks = [];
    this.media = null;
    this.startedAt = 0;
  }

  get publishes() { return this.audio || this.video; }

  /** Publishes with wrtc (encoders) while receiving with a counting leg. */
  get split() { return this.counting && this.publishes && !this.synthetic; }

  /** Tracks the first decoded frame of a remote video track (then drops the sink). */
  mark(what) {
    if (verbose) log(`${this.name} +${(performance.now() - this.startedAt).toFixed(1)} ms ${what}`);
  }

  watchTrack(track, key) {
    this.mark(`track ${track.kind} ${key}`);
    if (track.kind !== 'video' || this.firstFrames.has(key)) return;
    if (track.counting) {
      track.onfirstpacket = () => { if (!this.firstPackets.has(key)) this.firstPackets.set(key, performance.now() - this.startedAt); };
      track.onfirstkeyframe = () => {
        if (!this.firstFrames.has(key)) this.firstFrames.set(key, performance.now() - this.startedAt);
        this.mark(`first keyframe ${key}`);
      };
      return;
    }
    const sink = new RTCVideoSink(track);
    this.sinks.push(sink);
    sink.onframe = () => {
      if (!this.firstFrames.has(key)) this.firstFrames.set(key, performance.now() - this.startedAt);
      this.mark(`first frame ${key}`);
      sink.onframe = null;
      setImmediate(() => sink.stop());
    };
  }

  async start() {
    if (this.synthetic && this.video) throw new Error(`${this.name}: synthetic sources are audio only`);
    if (this.video) this.media = syntheticTracks({ fps, noise: cfg.noise ?? 0.1 });
    if (this.audio) this.audioSource = this.synthetic ? { track: syntheticOpusTrack(), stop() {} } : varyingAudio();
    this.startedAt = performance.now();
    if (cfg.server === 'manifold') await this.#startManifold();
    else await this.#startJanus();
  }

  async #startManifold() {
    const RTC = this.counting && !this.split ? countingPc(this.name) : PeerConnection;
    const client = this.counting && !this.split ? new ManifoldClient(cfg.url, { WebSocket, RTCPeerConnection: RTC })
      : newClient(cfg.url, { RTCPeerConnection: PeerConnection });
    this.client = client;
    client.on('track', ({ track, trackId }) => this.watchTrack(track, trackId));
    client.on('error', ({ error }) => { this.error = `${error.message}`; });
    client.on('connectionstatechange', ({ state }) => this.mark(`pc ${state}`));
    await client.join(this.room, { name: this.name, autoSubscribe: this.subscribe && !this.split });
    this.mark('joined');
    if (this.video) await client.publish(this.media.videoTrack, { label: 'camera', codec: 'VP8' });
    if (this.audio) await client.publish(this.audioSource.track, { label: 'microphone', codec: 'OPUS' });
    this.mark('published');
    if (this.split && this.subscribe) await this.#startManifoldReceiver(client.participantId);
  }

  /** The counting receive leg of a split participant: every track of the room but `own`'s. */
  async #startManifoldReceiver(own) {
    const rx = new ManifoldClient(cfg.url, { WebSocket, RTCPeerConnection: countingPc(`${this.name}-rx`) });
    this.rxClient = rx;
    rx.on('track', ({ track, trackId }) => this.watchTrack(track, trackId));
    rx.on('error', ({ error }) => { this.error = `rx: ${error.message}`; });
    const want = (t) => t.participantId !== own;
    rx.on('track-published', ({ track }) => {
      if (want(track)) rx.subscribe([track.id]).catch((e) => { this.error = `rx subscribe: ${e.message}`; });
    });
    const joined = await rx.join(this.room, { name: `${this.name}-rx`, autoSubscribe: false });
    const ids = joined.participants.flatMap((p) => (p.tracks ?? []).filter(want).map((t) => t.id));
    if (ids.length) await rx.subscribe(ids);
    this.mark('receiver joined');
  }

  async #startJanus() {
    let n = 0;
    const p = new JanusParticipant(rtc, cfg.url, Number(this.room), {
      name: this.name,
      onTrack: ({ track, mid }) => this.watchTrack(track, mid ?? `t${n++}`),
      ...(this.counting ? { SubscriberPeerConnection: countingPc(`${this.name}-sub`) } : {}),
      ...(this.synthetic ? { PublisherPeerConnection: countingPc(`${this.name}-pub`) } : {}),
    });
    this.janus = p;
    await p.connect();
    const tracks = [];
    if (this.video) tracks.push(this.media.videoTrack);
    if (this.audio) tracks.push(this.audioSource.track);
    if (this.viewer) {
      // A pure subscriber hears of no new publisher: wait until the ones already in the
      // room are listed (a feed is listed once its PeerConnection is up).
      let feeds = await p.listPublishers();
      const end = performance.now() + joinWaitMs;
      while (feeds.length < this.expectFeeds && performance.now() < end) {
        await sleep(20);
        feeds = await p.listPublishers();
      }
      if (this.subscribe && feeds.length) await p.subscribeTo(feeds);
    } else {
      await p.joinAndPublish(tracks, { subscribe: this.subscribe });
    }
  }

  /** The PeerConnections that receive media. */
  receivers() {
    if (this.rxClient) return [this.rxClient.peerConnection].filter(Boolean);
    if (this.client) return [this.client.peerConnection].filter(Boolean);
    return [this.janus?.subPc].filter(Boolean);
  }

  senders() {
    if (this.client) return [this.client.peerConnection].filter(Boolean);
    return [this.janus?.pubPc].filter(Boolean);
  }

  /** inbound-rtp entries of every receiving PeerConnection, by SSRC. */
  inbound() {
    return rtpStats(this.receivers(), 'inbound-rtp', (s) => ({
      ssrc: s.ssrc, kind: s.kind ?? s.mediaType, packetsReceived: s.packetsReceived ?? 0, packetsLost: s.packetsLost ?? 0,
      bytesReceived: s.bytesReceived ?? 0, nackCount: s.nackCount ?? 0, pliCount: s.pliCount ?? 0,
      // counting peers: frames received (marker bits), not decoded
      framesDecoded: s.counting ? s.framesReceived ?? 0 : s.framesDecoded ?? 0,
      counting: Boolean(s.counting), keyframes: s.keyframesReceived ?? 0 }));
  }

  /** outbound-rtp entries of every sending PeerConnection, by SSRC. */
  outbound() {
    return rtpStats(this.senders(), 'outbound-rtp', (s) => ({
      ssrc: s.ssrc, kind: s.kind ?? s.mediaType, packetsSent: s.packetsSent ?? 0, bytesSent: s.bytesSent ?? 0,
      framesEncoded: s.framesEncoded ?? 0,
      // libwebrtc's reason for sending less than it could: none, cpu, bandwidth, other
      limitation: s.qualityLimitationReason ?? null }));
  }
}

/** `pick(s)` of every getStats() entry of type `type` of every PeerConnection in `pcs`. */
async function rtpStats(pcs, type, pick) {
  const out = [];
  for (const pc of pcs) {
    const report = await pc.getStats();
    report.forEach((s) => { if (s.type === type) out.push(pick(s)); });
  }
  return out;
}

// Warm-up: one PeerConnection that gathers until it has a candidate on the client's veth
// address (libwebrtc's first network scan may miss a veth made a moment ago) and pays for
// libwebrtc's first certificate, so the first participant's join time does not.
{
  const pc = new wrtc.RTCPeerConnection();
  const found = new Promise((resolve) => {
    pc.onicecandidate = (e) => { if (!cfg.clientAddress || e.candidate?.candidate?.includes(` ${cfg.clientAddress} `)) resolve(true); };
    setTimeout(() => resolve(false), 5000);
  });
  pc.createDataChannel('warm-up');
  await pc.setLocalDescription(await pc.createOffer());
  if (!(await found)) log(`warm-up: no candidate on ${cfg.clientAddress} within 5 s`);
  pc.close();
}

const participants = [];
const rooms = cfg.rooms;

// Janus rooms are created through the API first (Manifold creates a room at its first join).
if (cfg.server === 'janus') {
  const admin = await JanusSession.connect(cfg.url);
  const handle = await admin.attach();
  for (const r of rooms) await createRoom(handle, Number(r.name), { publishers: Math.max(8, r.participants.length + 2) });
}

const joins = [];
for (const [ri, r] of rooms.entries()) {
  for (const spec of r.participants) {
    const p = new Participant(spec, r.name, ri);
    // What this joiner should receive: the publishers already in its room.
    const present = participants.filter((o) => o.room === r.name && o.publishes);
    const expectVideo = p.subscribe ? present.filter((o) => o.video).length : 0;
    const expectAudio = p.subscribe ? present.filter((o) => o.audio && !o.video).length : 0;
    p.expectFeeds = present.length;
    participants.push(p);
    const t0 = performance.now();
    let error = null;
    try {
      await p.start();
      if (expectVideo) {
        const end = t0 + joinWaitMs;
        while (p.firstFrames.size < expectVideo && performance.now() < end) await sleep(5);
      } else if (expectAudio) {
        // Audio only: the first packet of each publisher already there, by polling getStats.
        const end = t0 + joinWaitMs;
        const firsts = [];
        for (;;) {
          const got = (await p.inbound()).filter((s) => s.kind === 'audio' && s.packetsReceived > 0).length;
          while (firsts.length < got) firsts.push(performance.now() - p.startedAt);
          if (got >= expectAudio || performance.now() > end) break;
          await sleep(10);
        }
        firsts.forEach((t, i) => p.firstFrames.set(`a${i}`, t));
      }
    } catch (e) {
      error = `${e?.message ?? e}`;
      log(`${p.name}: ${error}`);
    }
    const times = [...p.firstFrames.values()].sort((a, b) => a - b);
    const packets = [...p.firstPackets.values()].sort((a, b) => a - b);
    const expected = expectVideo || expectAudio;
    joins.push({
      name: p.name, room: r.name, expected, got: times.length, error,
      firstMs: expected && times.length ? times[0] : null,
      allMs: expected && times.length >= expected ? times[expected - 1] : null,
      kind: expectVideo ? 'video' : expectAudio ? 'audio' : null,
      // what ends the join time: libwebrtc's first decoded frame, a counting peer's first keyframe packet, or the first audio packet
      measure: !expected ? null : expectVideo ? (p.counting ? 'keyframe' : 'decoded') : 'audio',
      counting: Boolean(p.counting),
      // counting video receivers: the first video packet of any kind (keyframe or not)
      firstPacketMs: expectVideo && packets.length ? packets[0] : null,
    });
  }
}
out(`READY ${JSON.stringify({ participants: participants.length, joins })}`);

async function snapshot() {
  const at = performance.now();
  const peers = [];
  for (const p of participants) peers.push({ inbound: await p.inbound(), outbound: await p.outbound() });
  return { at, peers };
}

let before = null;
const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  const cmd = line.trim();
  if (cmd === 'START') {
    before = await snapshot();
    out('STARTED');
  } else if (cmd === 'STOP') {
    const after = await snapshot();
    const windowS = (after.at - before.at) / 1000;
    const subs = [];
    const pubs = [];
    for (const [i, p] of participants.entries()) {
      const b = new Map(before.peers[i].inbound.map((s) => [s.ssrc, s]));
      for (const s of after.peers[i].inbound) {
        const s0 = b.get(s.ssrc) ?? { packetsReceived: 0, packetsLost: 0, bytesReceived: 0, framesDecoded: 0, nackCount: 0, pliCount: 0, keyframes: 0 };
        const rx = s.packetsReceived - s0.packetsReceived;
        const lost = Math.max(0, s.packetsLost - s0.packetsLost);
        if (rx === 0 && s.packetsReceived === 0) continue; // an idle m-line
        subs.push({ peer: p.name, kind: s.kind, fps: (s.framesDecoded - s0.framesDecoded) / windowS,
                    kbps: ((s.bytesReceived - s0.bytesReceived) * 8) / windowS / 1000, packets: rx,
                    loss: rx + lost > 0 ? lost / (rx + lost) : 0, nacks: s.nackCount - s0.nackCount, plis: s.pliCount - s0.pliCount,
                    counting: s.counting, keyframes: s.keyframes - s0.keyframes });
      }
      const bo = new Map(before.peers[i].outbound.map((s) => [s.ssrc, s]));
      for (const s of after.peers[i].outbound) {
        const s0 = bo.get(s.ssrc) ?? { packetsSent: 0, bytesSent: 0, framesEncoded: 0 };
        if (s.packetsSent === s0.packetsSent) continue;
        pubs.push({ peer: p.name, kind: s.kind, fps: (s.framesEncoded - s0.framesEncoded) / windowS,
                    kbps: ((s.bytesSent - s0.bytesSent) * 8) / windowS / 1000, pps: (s.packetsSent - s0.packetsSent) / windowS,
                    limitation: s.limitation });
      }
    }
    const errors = participants.filter((p) => p.error || p.janus?.error).map((p) => `${p.name}: ${p.error ?? p.janus.error}`);
    finish({ windowS, subs, pubs, errors });
  }
});
