// Cheap WebRTC peers for the benchmark's load generator: libdatachannel (npm
// `node-datachannel`, native ICE + DTLS-SRTP, no codecs) behind the small part of the
// RTCPeerConnection API that signalling/client/manifold.js and lib/janus-client.mjs use.
//
// What they do with media:
// - receive: every RTP packet is decrypted by libdatachannel (libsrtp) and handed to JS,
//   where only its header is read: packets, payload bytes, sequence-number gaps (loss),
//   frames (video packets with the marker bit) and, for VP8, the first packet of each
//   keyframe (payload descriptor S=1, PID=0, then the VP8 payload header's P bit = 0).
//   Nothing is depacketized or decoded. RTCP: libdatachannel's RtcpReceivingSession
//   answers each sender report with a receiver report; no NACK, no REMB. Keyframes:
//   with pli 'auto' (default) a video stream whose first packet is not a keyframe gets
//   a PLI at once and every 200 ms until one arrives (a decoding receiver, libwebrtc
//   included, also asks for a keyframe when it has none to start from);
//   with pli 'never' the peer relies on the server's own keyframe request at join
//   (README.md says what each server does then).
// - DTLS: libdatachannel answers an actpass offer as the DTLS client, and its OpenSSL
//   retransmits a lost first ClientHello after 1 s; Janus drops the one sent before its
//   own ICE side is up, which added 1 s to every join on Janus. By default (dtls
//   'server') the peer answers setup:passive instead and the server starts the handshake.
// - send (audio only): a "synthetic Opus" source, 50 packets/s of 20 ms, each a valid
//   Opus TOC byte (CELT-only, fullband, 20 ms, mono, one frame) and random bytes whose
//   count varies every packet (payloads of 31..130 bytes), so sizes vary as a microphone's do
//   (lib/delay.mjs tells streams apart by size). It is not decodable audio; neither
//   server decodes Opus (Manifold reads the audio-level header extension, which these
//   packets do not carry, so it sees silence).
//
//   import { CountingPeerConnection, syntheticOpusTrack } from './counting-peer.mjs';
//   new ManifoldClient(url, { WebSocket, RTCPeerConnection: CountingPeerConnection.with({ bindAddress }) })
//
// Remote tracks are plain objects {kind, id, counting: true, stream, onfirstkeyframe,
// onfirstpacket}; getStats() gives inbound-rtp / outbound-rtp entries in the shape
// libwebrtc's getStats has (packetsReceived, packetsLost, bytesReceived, pliCount, ...),
// with framesReceived (marker bits) instead of framesDecoded. Loss is counted as in an
// RTCP receiver report (RFC 3550 A.3: expected from the extended highest sequence number,
// minus received). Packets of an RTX payload type are not counted (nothing here asks for
// retransmissions).
import { performance } from 'node:perf_hooks';
import { randomBytes, randomUUID } from 'node:crypto';
import ndc from 'node-datachannel';

const noop = () => {};

/** The m-sections of an SDP: [{mid, kind, direction, payloads: Map pt -> {codec, clock}, ssrcs: Set, rtx: Set pt}]. */
export function parseSdp(sdp) {
  const sections = [];
  let cur = null;
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('m=')) {
      const [kind, , , ...fmts] = line.slice(2).split(' ');
      cur = { kind, mid: null, direction: 'sendrecv', payloads: new Map(), rtx: new Set(), ssrcs: new Set(), fmts: fmts.map(Number), port: Number(line.split(' ')[1]) };
      sections.push(cur);
      continue;
    }
    if (!cur) continue;
    if (line.startsWith('a=mid:')) cur.mid = line.slice(6);
    else if (/^a=(sendrecv|sendonly|recvonly|inactive)$/.test(line)) cur.direction = line.slice(2);
    else if (line.startsWith('a=rtpmap:')) {
      const m = /^a=rtpmap:(\d+) ([^/]+)\/(\d+)/.exec(line);
      if (m) {
        const codec = m[2].toUpperCase();
        cur.payloads.set(Number(m[1]), { codec, clock: Number(m[3]) });
        if (codec === 'RTX') cur.rtx.add(Number(m[1]));
      }
    } else if (line.startsWith('a=ssrc:')) {
      cur.ssrcs.add(Number(/^a=ssrc:(\d+)/.exec(line)?.[1]));
    }
  }
  return sections;
}

/** Per-SSRC receive counters (RFC 3550 A.1 style sequence tracking). */
class InboundStream {
  constructor(ssrc, kind, mid, t0) {
    this.ssrc = ssrc;
    this.kind = kind;
    this.mid = mid;
    this.t0 = t0;
    this.packets = 0;
    this.bytes = 0; // payload bytes: without RTP header, header extensions and padding (as getStats' bytesReceived)
    this.frames = 0; // video: packets with the marker bit (the last packet of a frame)
    this.keyframes = 0; // VP8: first packets of keyframes
    this.base = -1;
    this.maxSeq = -1;
    this.cycles = 0;
    this.firstPacketMs = null; // ms after t0
    this.firstKeyframeMs = null;
    this.plis = 0; // PLIs sent (keyframe requests)
    this.lastPli = -Infinity;
  }

  get expected() { return this.base < 0 ? 0 : this.cycles + this.maxSeq - this.base + 1; }
  get lost() { return Math.max(0, this.expected - this.packets); }
}

/**
 * Reads one RTP packet's header (and the VP8 payload descriptor when `vp8`):
 * returns -1 (not RTP), else payload length; sets hdr.keyframe.
 */
const hdr = { seq: 0, ssrc: 0, pt: 0, marker: false, payload: 0, keyframe: false };
function readRtp(buf, vp8) {
  const n = buf.length;
  if (n < 12 || (buf[0] & 0xc0) !== 0x80) return false;
  const b1 = buf[1];
  if (b1 >= 192 && b1 <= 223) return false; // RTCP (packet types 192..223)
  const cc = buf[0] & 0x0f;
  let off = 12 + cc * 4;
  if (buf[0] & 0x10) {
    if (off + 4 > n) return false;
    off += 4 + ((buf[off + 2] << 8) | buf[off + 3]) * 4;
  }
  let end = n;
  if (buf[0] & 0x20) end -= buf[n - 1];
  if (end < off) return false;
  hdr.pt = b1 & 0x7f;
  hdr.marker = (b1 & 0x80) !== 0;
  hdr.seq = (buf[2] << 8) | buf[3];
  hdr.ssrc = buf.readUInt32BE(8);
  hdr.payload = end - off;
  hdr.keyframe = false;
  if (vp8 && end > off) {
    // RFC 7741: X R N S R PID, [I L T K RSV], [PictureID 1-2], [TL0PICIDX], [TID/KEYIDX]
    const d = buf[off];
    let h = off + 1;
    if (d & 0x80) {
      const e = buf[h++];
      if (e & 0x80) h += buf[h] & 0x80 ? 2 : 1;
      if (e & 0x40) h += 1;
      if (e & 0x30) h += 1;
    }
    // Start of partition 0: the VP8 payload header follows; its P bit is 0 on a keyframe.
    if ((d & 0x10) && (d & 0x07) === 0 && h < end) hdr.keyframe = (buf[h] & 0x01) === 0;
  }
  return true;
}

/** Senders of synthetic Opus, all driven by one 5 ms timer (each keeps its own 20 ms phase). */
const opusSenders = new Set();
let opusTimer = null;
function tickOpus() {
  const now = performance.now();
  for (const s of opusSenders) s.pump(now);
}

class SyntheticOpusSender {
  constructor(track, pt, ssrc) {
    this.track = track; // node-datachannel Track
    this.pt = pt;
    this.ssrc = ssrc;
    this.seq = Math.floor(Math.random() * 0x10000);
    this.ts = Math.floor(Math.random() * 0x100000000);
    this.start = performance.now() + Math.random() * 20;
    this.n = 0;
    this.packets = 0;
    this.bytes = 0;
    this.seed = (Math.random() * 0xffffffff) >>> 0 || 1;
    this.noise = randomBytes(256);
    opusSenders.add(this);
    if (!opusTimer) opusTimer = setInterval(tickOpus, 5);
  }

  rand() { let s = this.seed; s ^= s << 13; s ^= s >>> 17; s ^= s << 5; this.seed = s >>> 0; return this.seed / 0x100000000; }

  pump(now) {
    const due = Math.floor((now - this.start) / 20);
    if (due - this.n > 50) this.n = due; // hopelessly behind: drop, do not burst
    while (this.n < due) {
      this.n++;
      const size = 30 + Math.floor(this.rand() * 100);
      const pkt = Buffer.allocUnsafe(12 + 1 + size);
      pkt[0] = 0x80;
      pkt[1] = this.pt;
      pkt.writeUInt16BE(this.seq, 2);
      pkt.writeUInt32BE(this.ts >>> 0, 4);
      pkt.writeUInt32BE(this.ssrc, 8);
      pkt[12] = 0xf8; // TOC: config 31 (CELT FB 20 ms), mono, one frame
      const at = Math.floor(this.rand() * (256 - size));
      this.noise.copy(pkt, 13, at, at + size);
      this.seq = (this.seq + 1) & 0xffff;
      this.ts = (this.ts + 960) >>> 0;
      try {
        if (this.track.isOpen() && this.track.sendMessageBinary(pkt)) { this.packets++; this.bytes += 1 + size; }
      } catch { /* closed meanwhile */ }
    }
  }

  stop() {
    opusSenders.delete(this);
    if (!opusSenders.size && opusTimer) { clearInterval(opusTimer); opusTimer = null; }
  }
}

/** A stand-in for a local audio MediaStreamTrack: publishing it sends synthetic Opus. */
export function syntheticOpusTrack() {
  return { kind: 'audio', id: randomUUID(), enabled: true, synthetic: true, stop() {} };
}

const DIRECTION = { SendOnly: 'sendonly', RecvOnly: 'recvonly', SendRecv: 'sendrecv', Inactive: 'inactive' };

/**
 * The subset of RTCPeerConnection the benchmark's clients use, over node-datachannel.
 * Answers offers (Manifold and Janus subscribers: the server offers) and makes offers
 * with sendonly synthetic audio (Janus publishers).
 */
export class CountingPeerConnection {
  /** A subclass bound to options (bindAddress: gather on that address only; t0: ms origin of first-packet times). */
  static with(options) {
    return class extends CountingPeerConnection { constructor(config) { super(config, options); } };
  }

  #pc;
  #listeners = new Map();
  #sections = []; // parsed remote description
  #localSections = [];
  #remoteDesc = null;
  #localDesc = null;
  #pendingDesc = null; // {resolve} waiting for onLocalDescription
  #tracks = new Map(); // mid -> node-datachannel Track
  #transceivers = new Map(); // mid -> transceiver stand-in
  #inbound = new Map(); // ssrc -> InboundStream
  #senders = new Map(); // mid -> SyntheticOpusSender
  #offerTracks = []; // addTransceiver before createOffer
  #closed = false;

  connectionState = 'new';
  iceConnectionState = 'new';
  iceGatheringState = 'new';
  signalingState = 'stable';
  onicecandidate = null;
  ontrack = null;
  onconnectionstatechange = null;

  constructor(config = {}, { bindAddress, t0 = performance.now(), name = 'counting', pli = 'auto', log = null, dtls = 'server' } = {}) {
    this.t0 = t0;
    this.dtls = dtls; // DTLS role when answering: 'server' (default) or 'client' (libdatachannel's own choice), see setRemoteDescription
    this.pli = pli; // 'auto': PLI while a video stream has had no keyframe; 'never'
    const pc = new ndc.PeerConnection(name, { iceServers: [], disableAutoNegotiation: true, ...(bindAddress ? { bindAddress } : {}) });
    this.#pc = pc;
    pc.onLocalDescription((sdp, type) => {
      this.#localDesc = { type: String(type).toLowerCase(), sdp };
      const p = this.#pendingDesc;
      this.#pendingDesc = null;
      p?.resolve(this.#localDesc);
    });
    pc.onLocalCandidate((candidate, mid) => {
      if (this.#closed) return;
      const c = candidate.startsWith('a=') ? candidate.slice(2) : candidate;
      const index = Math.max(0, (this.#localSections.length ? this.#localSections : this.#sections).findIndex((s) => s.mid === mid));
      this.#emit('icecandidate', { candidate: { candidate: c, sdpMid: mid, sdpMLineIndex: index } });
    });
    pc.onGatheringStateChange((state) => {
      this.iceGatheringState = state;
      if (state === 'complete' && !this.#closed) this.#emit('icecandidate', { candidate: null });
    });
    const at = () => `+${(performance.now() - this.t0).toFixed(1)} ms`;
    if (log) {
      log(`${name} created ${at()}`);
      pc.onSignalingStateChange((state) => log(`${name} signaling ${state} ${at()}`));
    }
    pc.onStateChange((state) => {
      log?.(`${name} connection ${state} ${at()}`);
      this.connectionState = state;
      this.#emit('connectionstatechange', {});
    });
    pc.onIceStateChange((state) => {
      log?.(`${name} ice ${state} ${at()}`);
      this.iceConnectionState = state;
      this.#emit('iceconnectionstatechange', {});
    });
    pc.onTrack((track) => this.#onTrack(track));
  }

  addEventListener(type, fn) {
    if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
    this.#listeners.get(type).add(fn);
  }

  removeEventListener(type, fn) { this.#listeners.get(type)?.delete(fn); }

  #emit(type, event) {
    const prop = this[`on${type}`];
    if (typeof prop === 'function') prop.call(this, event);
    for (const fn of this.#listeners.get(type) ?? []) fn(event);
  }

  get localDescription() { return this.#localDesc; }
  get remoteDescription() { return this.#remoteDesc; }

  #section(mid) { return this.#sections.find((s) => s.mid === mid) ?? this.#localSections.find((s) => s.mid === mid); }

  #transceiver(mid) {
    let t = this.#transceivers.get(mid);
    if (!t) {
      const self = this;
      const section = this.#section(mid);
      t = {
        mid,
        kind: section?.kind,
        direction: 'recvonly',
        currentDirection: null,
        stopped: false,
        sender: { track: null, async replaceTrack(track) { this.track = track; self.#startSending(mid); } },
        receiver: { track: null },
      };
      this.#transceivers.set(mid, t);
    }
    return t;
  }

  getTransceivers() {
    return [...this.#transceivers.values()];
  }

  /** Janus publisher: a sendonly transceiver for `track` (a syntheticOpusTrack()). */
  addTransceiver(track, { direction = 'sendonly' } = {}) {
    if (track.kind !== 'audio' || direction !== 'sendonly') throw new Error('CountingPeerConnection sends synthetic audio only');
    const mid = String(this.#offerTracks.length);
    const ssrc = (Math.random() * 0xfffffffe + 1) >>> 0;
    const audio = new ndc.Audio(mid, 'SendOnly');
    audio.addOpusCodec(111);
    audio.addSSRC(ssrc, `c${ssrc}`, 'synthetic', track.id);
    this.#offerTracks.push({ mid, track, ssrc, pt: 111 });
    const nt = this.#pc.addTrack(audio);
    this.#tracks.set(mid, nt);
    this.#localSections.push({ mid, kind: 'audio', direction: 'sendonly', payloads: new Map([[111, { codec: 'OPUS', clock: 48000 }]]), rtx: new Set(), ssrcs: new Set([ssrc]) });
    const t = this.#transceiver(mid);
    t.direction = 'sendonly';
    t.sender.track = track;
    t.ssrc = ssrc;
    nt.onOpen(() => this.#startSending(mid));
    return t;
  }

  async createOffer() {
    const p = new Promise((resolve) => { this.#pendingDesc = { resolve }; });
    this.#pc.setLocalDescription('offer');
    return p;
  }

  async createAnswer() {
    const p = new Promise((resolve) => { this.#pendingDesc = { resolve }; });
    this.#pc.setLocalDescription('answer');
    const answer = await p;
    // libdatachannel's answer declares no SSRC for m-lines it sends on; add ours.
    return { type: 'answer', sdp: this.#addSendSsrcs(answer.sdp) };
  }

  async setLocalDescription(desc) {
    if (desc?.sdp) this.#localDesc = { type: desc.type, sdp: desc.sdp };
    this.signalingState = 'stable';
  }

  async setRemoteDescription({ type, sdp }) {
    this.#remoteDesc = { type, sdp };
    if (type === 'offer') {
      this.#sections = parseSdp(sdp);
      for (const s of this.#sections) {
        const t = this.#transceiver(s.mid);
        t.kind = s.kind;
        // The server sends what it offers sendonly/sendrecv; we send on recvonly m-lines.
        t.direction = s.direction === 'recvonly' ? 'sendonly' : s.direction === 'inactive' || s.port === 0 ? 'inactive' : 'recvonly';
        if (t.direction === 'sendonly' && t.ssrc === undefined) t.ssrc = (Math.random() * 0xfffffffe + 1) >>> 0;
      }
      this.signalingState = 'have-remote-offer';
    } else {
      // Answer to our offer (Janus publisher): the payload type it accepted for Opus.
      for (const s of parseSdp(sdp)) {
        const local = this.#offerTracks.find((o) => o.mid === s.mid);
        const opus = [...s.payloads].find(([, p]) => p.codec === 'OPUS');
        if (local && opus) local.pt = opus[0];
      }
      this.signalingState = 'stable';
    }
    // libdatachannel answers an actpass offer as the DTLS client, and OpenSSL retransmits a
    // lost first ClientHello only after 1 s (libwebrtc after 50 ms). A ClientHello sent the
    // moment our ICE side is connected, before the server's side is, is lost. With
    // dtls 'server' the offer is given to libdatachannel as setup:active, so it answers
    // setup:passive and the server starts the handshake once its ICE is up.
    const given = type === 'offer' && this.dtls === 'server' ? sdp.replace(/a=setup:actpass/g, 'a=setup:active') : sdp;
    this.#pc.setRemoteDescription(given, type);
  }

  #addSendSsrcs(sdp) {
    const out = [];
    let mid = null;
    let pending = null;
    const flush = () => { if (pending) out.push(...pending); pending = null; };
    for (const line of sdp.split('\r\n')) {
      if (line.startsWith('m=')) { flush(); mid = null; }
      if (line.startsWith('a=mid:')) {
        mid = line.slice(6);
        const t = this.#transceivers.get(mid);
        if (t?.direction === 'sendonly' && t.ssrc) pending = [`a=ssrc:${t.ssrc} cname:c${t.ssrc}`, `a=ssrc:${t.ssrc} msid:synthetic ${mid}`];
      }
      if (line === '') { flush(); }
      out.push(line);
    }
    flush();
    return out.join('\r\n');
  }

  async addIceCandidate(init) {
    if (!init || !init.candidate) return; // end of candidates
    let mid = init.sdpMid;
    if (mid === undefined || mid === null || mid === '') mid = this.#sections[init.sdpMLineIndex ?? 0]?.mid ?? '0';
    this.#pc.addRemoteCandidate(init.candidate.startsWith('a=') ? init.candidate.slice(2) : init.candidate, mid);
  }

  #onTrack(track) {
    const mid = track.mid();
    this.#tracks.set(mid, track);
    const section = this.#section(mid);
    const t = this.#transceiver(mid);
    const dir = DIRECTION[track.direction()] ?? t.direction;
    t.currentDirection = dir;
    track.onOpen(() => this.#startSending(mid));
    if (dir === 'sendonly' || dir === 'inactive') {
      track.onMessage(noop); // RTCP for what we send: not read
      return;
    }
    const kind = section?.kind ?? 'video';
    const vp8 = new Set([...(section?.payloads ?? [])].filter(([, p]) => p.codec === 'VP8').map(([pt]) => pt));
    const rtx = section?.rtx ?? new Set();
    const remote = { kind, id: `${mid}`, counting: true, mid, stream: null, onfirstkeyframe: null, onfirstpacket: null, enabled: true, stop() {} };
    t.receiver.track = remote;
    // RTCP receiver side of libdatachannel: a receiver report for every sender report, and
    // the PLI below (it consumes incoming RTCP; what reaches onMessage is RTP only).
    track.setMediaHandler(new ndc.RtcpReceivingSession());
    const pli = this.pli === 'auto' && kind === 'video';
    let last = null;
    track.onMessage((buf) => {
      if (!readRtp(buf, vp8.size > 0)) return;
      if (rtx.has(hdr.pt)) return; // retransmissions are not what we count
      let s = last;
      if (!s || s.ssrc !== hdr.ssrc) {
        s = this.#inbound.get(hdr.ssrc);
        if (!s) {
          s = new InboundStream(hdr.ssrc, kind, mid, this.t0);
          this.#inbound.set(hdr.ssrc, s);
          remote.stream = s;
        }
        last = s;
      }
      const seq = hdr.seq;
      if (s.base < 0) {
        s.base = seq;
        s.maxSeq = seq;
        s.firstPacketMs = performance.now() - this.t0;
        remote.onfirstpacket?.(s.firstPacketMs);
      } else {
        const delta = (seq - s.maxSeq) & 0xffff;
        if (delta !== 0 && delta < 0x8000) {
          if (seq < s.maxSeq) s.cycles += 0x10000;
          s.maxSeq = seq;
        }
      }
      s.packets++;
      s.bytes += hdr.payload;
      if (hdr.marker && kind === 'video') s.frames++;
      if (hdr.keyframe && vp8.has(hdr.pt)) {
        s.keyframes++;
        if (s.firstKeyframeMs === null) {
          s.firstKeyframeMs = performance.now() - this.t0;
          remote.onfirstkeyframe?.(s.firstKeyframeMs);
        }
      } else if (pli && s.firstKeyframeMs === null) {
        // As libwebrtc does: a stream that starts without a keyframe cannot be decoded, so
        // ask for one at once and again every 200 ms until it comes.
        const now = performance.now();
        if (now - s.lastPli >= 200) {
          s.lastPli = now;
          try { if (track.requestKeyframe()) s.plis++; } catch { /* closed */ }
        }
      }
    });
    this.#emit('track', { track: remote, transceiver: t, streams: [] });
  }

  #startSending(mid) {
    const t = this.#transceivers.get(mid);
    const nt = this.#tracks.get(mid);
    if (!t || !nt || this.#senders.has(mid) || !t.sender.track?.synthetic || t.direction !== 'sendonly') return;
    if (!nt.isOpen()) return; // onOpen calls again
    const offered = this.#offerTracks.find((o) => o.mid === mid);
    let pt = offered?.pt;
    if (pt === undefined) pt = [...(this.#section(mid)?.payloads ?? [])].find(([, p]) => p.codec === 'OPUS')?.[0];
    if (pt === undefined) return;
    this.#senders.set(mid, new SyntheticOpusSender(nt, pt, t.ssrc ?? offered.ssrc));
  }

  /** inbound-rtp and outbound-rtp entries, as getStats() of libwebrtc names them. */
  async getStats() {
    const report = new Map();
    for (const s of this.#inbound.values()) {
      report.set(`in-${s.ssrc}`, {
        type: 'inbound-rtp', ssrc: s.ssrc, kind: s.kind, mid: s.mid, packetsReceived: s.packets, packetsLost: s.lost,
        bytesReceived: s.bytes, framesReceived: s.frames, keyframesReceived: s.keyframes, pliCount: s.plis, counting: true,
        firstPacketMs: s.firstPacketMs, firstKeyframeMs: s.firstKeyframeMs,
      });
    }
    for (const [mid, s] of this.#senders) {
      report.set(`out-${s.ssrc}`, { type: 'outbound-rtp', ssrc: s.ssrc, kind: 'audio', mid, packetsSent: s.packets, bytesSent: s.bytes, synthetic: true });
    }
    return report;
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#senders.values()) s.stop();
    this.#senders.clear();
    try { this.#pc.close(); } catch { /* closed */ }
    this.connectionState = 'closed';
  }
}

export { ndc };
