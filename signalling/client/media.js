/**
 * media.js — the media half of the Manifold client library: the RTCPeerConnection of a
 * joined room and its negotiation with the gateway.
 *
 * Part of the client library (see manifold.js); internal, not exported. ManifoldClient
 * (client.js) owns one MediaSession for its whole life, hands it the `offer` and
 * `candidate` messages, and forwards the media parts of its API (getStats, the
 * peerConnection and remoteTracks properties, attaching published tracks) to it.
 *
 * Media (the server is always the SDP offerer): on `offer` the client applies it, sends the
 * local track of every "send" mid (replaceTrack + direction 'sendonly'), answers with the
 * offer's negotiationId, and trickles candidates both ways (remote candidates that arrive
 * before a remote description are queued; local ones carry the negotiationId). Offers are
 * handled one at a time, in order. A local candidate that crosses a newer offer is refused
 * by the server (1012 without id); the client then sends all its candidates again, tagged
 * with the newest negotiationId, once that offer is answered (the ICE session outlives
 * negotiations, so they are still valid).
 *
 * The offer's `mids` list says what each m-line carries: "send" m-lines carry this
 * participant's tracks, "recv" ones bring remote tracks (announced with a `track` event),
 * entries without a trackId are idle m-lines the server keeps for reuse, and m-lines the
 * list does not mention are answered inactive. Errors the server reports about media
 * (codec mismatch, negotiation failed) arrive as ordinary `error` messages; client.js
 * emits them.
 */

import { ErrorCode, ManifoldError } from './protocol.js';

/**
 * What a MediaSession borrows from its ManifoldClient (all set once, at construction):
 * @typedef {object} MediaHost
 * @property {Function|null|undefined} RTCPeerConnection the class; absent = offers are
 *   refused with one `error` event (reason "media-unsupported")
 * @property {object} rtcConfiguration extra RTCConfiguration fields
 * @property {Map<string, {info: object, track: MediaStreamTrack|null}>} localTracks the
 *   client's published tracks (read only here)
 * @property {() => object[]} iceServers the iceServers of the `joined` reply
 * @property {() => boolean} isJoined false once the client left or closed: offers still
 *   queued are then stale
 * @property {(type: string, fields: object) => Promise<object>} request a request; the
 *   promise settles with the reply
 * @property {(message: object) => boolean} send a message without reply
 * @property {(type: string, event: object) => void} emit an event of the client
 */

/** Whether `value` is a MediaStreamTrack, or looks like one (Node WebRTC packages define no global). */
export function isMediaStreamTrack(value) {
  if (!value || typeof value !== 'object') return false;
  if (typeof globalThis.MediaStreamTrack === 'function' &&
      value instanceof globalThis.MediaStreamTrack) return true;
  return typeof value.kind === 'string' && typeof value.stop === 'function' &&
         'enabled' in value;
}

export class MediaSession {
  // Passed by argument.
  /** @type {MediaHost} */
  #host;

  // Allocated by this. One RTCPeerConnection per joined room, created at the first offer.
  #pc = null;
  #remoteTracks = new Map(); // trackId -> {track, trackId, participantId, mid}
  #negotiationChain = Promise.resolve();
  #negotiationId = 0;      // of the last offer applied
  #answered = false;       // the answer for #negotiationId has been sent
  #midMap = new Map();     // mid -> {mid, trackId, participantId, direction}
  #announced = new Map();  // mid -> {trackId, track} last `track` event per mid
  #remoteCandidates = [];  // received before a remote description existed
  #localCandidates = [];   // gathered before the answer was sent
  #gathered = [];          // every local candidate of this RTCPeerConnection, in order
  #resendCandidates = false; // a candidate was refused as stale: send all after the answer
  #mediaUnsupportedReported = false;

  /** @param {MediaHost} host */
  constructor(host) {
    this.#host = host;
  }

  /** The RTCPeerConnection once the first offer arrived, else null. */
  get peerConnection() { return this.#pc; }

  /** trackId -> {track, trackId, participantId, mid} of the remote tracks received. */
  get remoteTracks() { return this.#remoteTracks; }

  // ------------------------------------------------------------------ from the client

  /** A server `offer`. Chained: one negotiation at a time, in arrival order. */
  onOffer(message) {
    this.#negotiationChain = this.#negotiationChain
        .then(() => this.#negotiate(message))
        .catch((err) => {
          this.#emitError(err instanceof ManifoldError ? err : new ManifoldError(
              `media negotiation ${message.negotiationId} failed: ${err?.message ?? err}`,
              { code: ErrorCode.NegotiationFailed, reason: 'negotiation-failed', cause: err }));
        });
  }

  /** A server `candidate`: added now, or queued until a remote description exists. */
  onRemoteCandidate(message) {
    const init = { candidate: message.candidate ?? '' };
    if (message.sdpMid !== undefined) init.sdpMid = message.sdpMid;
    if (message.sdpMLineIndex !== undefined) init.sdpMLineIndex = message.sdpMLineIndex;
    if (!this.#pc || !this.#pc.remoteDescription) {
      this.#remoteCandidates.push(init);
      return;
    }
    this.#addRemoteCandidate(this.#pc, init);
  }

  /**
   * The server refused one of our trickled candidates as stale (1012 without id): it
   * crossed a newer offer. Repairs (every candidate is sent again once that offer is
   * answered) and emits `warning`. Returns false, doing nothing, when there is no
   * RTCPeerConnection: then the error is not a race and the client reports it.
   */
  repairStaleCandidate(error) {
    if (!this.#pc) return false;
    this.#host.emit('warning', { error });
    if (this.#answered) this.#resendAllCandidates();
    else this.#resendCandidates = true;
    return true;
  }

  /** A remote participant left: forget the tracks it sent. */
  forgetParticipant(participantId) {
    for (const [trackId, remote] of this.#remoteTracks) {
      if (remote.participantId === participantId) this.#remoteTracks.delete(trackId);
    }
  }

  /** A remote track was unpublished. */
  forgetTrack(trackId) {
    this.#remoteTracks.delete(trackId);
  }

  /** Send the local source of published `trackId` on its transceiver, if one carries it. */
  async attachLocalTrack(trackId) {
    const transceiver = this.transceiverForTrack(trackId);
    if (!transceiver) return;
    await transceiver.sender.replaceTrack(this.#host.localTracks.get(trackId)?.track ?? null);
  }

  /** The transceiver whose m-line the last offer mapped to `trackId`, or null. */
  transceiverForTrack(trackId) {
    if (!this.#pc) return null;
    for (const [mid, mapping] of this.#midMap) {
      if (mapping.trackId !== trackId) continue;
      return this.#pc.getTransceivers().find((t) => t.mid === mid) ?? null;
    }
    return null;
  }

  /**
   * getStats() of the sender (own track) or receiver (remote track) of `trackId`,
   * or null when no transceiver carries it.
   */
  async getStats(trackId) {
    const transceiver = this.transceiverForTrack(trackId);
    if (!transceiver) return null;
    const side = this.#host.localTracks.has(trackId) ? transceiver.sender : transceiver.receiver;
    return side.getStats();
  }

  /** Close the RTCPeerConnection and forget everything negotiated; the next offer starts anew. */
  close() {
    const pc = this.#pc;
    this.#pc = null;
    this.#midMap = new Map();
    this.#announced.clear();
    this.#remoteTracks.clear();
    this.#remoteCandidates = [];
    this.#localCandidates = [];
    this.#gathered = [];
    this.#resendCandidates = false;
    this.#answered = false;
    this.#negotiationChain = Promise.resolve();
    if (pc) {
      try { pc.close(); } catch { /* already closed */ }
      this.#host.emit('connectionstatechange', { state: 'closed' });
    }
  }

  // ------------------------------------------------------------------ negotiation

  #emitError(error) {
    this.#host.emit('error', { error });
  }

  #ensurePeerConnection() {
    if (this.#pc) return this.#pc;
    const RTCPeerConnection = this.#host.RTCPeerConnection;
    if (typeof RTCPeerConnection !== 'function') return null;
    const iceServers = (this.#host.iceServers() ?? []).map((s) => ({
      urls: s.urls,
      ...(s.username ? { username: s.username } : {}),
      ...(s.credential ? { credential: s.credential } : {}),
    }));
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', ...this.#host.rtcConfiguration,
                                       iceServers });
    this.#pc = pc;
    pc.addEventListener('icecandidate', (event) => {
      if (this.#pc !== pc) return;
      this.#onLocalCandidate(event.candidate);
    });
    pc.addEventListener('track', (event) => {
      if (this.#pc !== pc) return;
      const mid = event.transceiver?.mid;
      if (mid != null) this.#announceTrack(mid, event.track, event.streams ?? [], event.transceiver);
    });
    pc.addEventListener('connectionstatechange', () => {
      if (this.#pc !== pc) return;
      this.#host.emit('connectionstatechange', { state: pc.connectionState });
    });
    return pc;
  }

  /** The m-line `mid` no longer carries the remote track it announced. */
  #forgetRemote(mid) {
    this.#announced.delete(mid);
    for (const [trackId, remote] of this.#remoteTracks) {
      if (remote.mid === mid) this.#remoteTracks.delete(trackId);
    }
  }

  async #negotiate(offer) {
    if (!this.#host.isJoined()) return; // left or closed meanwhile: stale offer
    const pc = this.#ensurePeerConnection();
    if (!pc) {
      if (!this.#mediaUnsupportedReported) {
        this.#mediaUnsupportedReported = true;
        this.#emitError(new ManifoldError(
            'the server offered media but no RTCPeerConnection implementation is available',
            { reason: 'media-unsupported' }));
      }
      return;
    }
    const negotiationId = offer.negotiationId;
    this.#negotiationId = negotiationId;
    this.#answered = false;
    this.#localCandidates = [];
    // An entry without a mid or trackId describes no track: treat its m-line as unused,
    // like one the list does not mention.
    // Entries without trackId are idle m-lines the server keeps for reuse.
    this.#midMap = new Map((offer.mids ?? []).filter((m) => m.mid).map((m) => [m.mid, { ...m }]));

    await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    if (this.#pc !== pc) return;
    await this.#flushRemoteCandidates(pc);

    // The mids list is authoritative: "send" m-lines carry our tracks, "recv" ones bring
    // remote tracks. An idle entry (no trackId) keeps its direction with no track: the
    // server reuses it later and cannot revive an m-line answered inactive. An m-line the
    // list does not mention at all is answered inactive.
    for (const transceiver of pc.getTransceivers()) {
      if (transceiver.mid == null || transceiver.currentDirection === 'stopped' ||
          transceiver.stopped) continue;
      const mapping = this.#midMap.get(transceiver.mid);
      if (mapping && !mapping.trackId) {
        if (transceiver.sender.track) await transceiver.sender.replaceTrack(null);
        const direction = mapping.direction === 'send' ? 'sendonly' : 'recvonly';
        if (transceiver.direction !== direction) transceiver.direction = direction;
        this.#forgetRemote(transceiver.mid);
      } else if (mapping?.direction === 'send') {
        const local = this.#host.localTracks.get(mapping.trackId);
        await transceiver.sender.replaceTrack(local?.track ?? null);
        transceiver.direction = 'sendonly';
      } else if (mapping) {
        if (transceiver.sender.track) await transceiver.sender.replaceTrack(null);
        if (transceiver.direction !== 'recvonly') transceiver.direction = 'recvonly';
        // `track` fires for new receivers; a recycled mid carrying another track does not
        // fire it again, so announce what the mapping now says.
        if (transceiver.receiver?.track) {
          this.#announceTrack(transceiver.mid, transceiver.receiver.track, [], transceiver);
        }
      } else {
        if (transceiver.sender.track) await transceiver.sender.replaceTrack(null);
        if (transceiver.direction !== 'inactive') transceiver.direction = 'inactive';
        this.#forgetRemote(transceiver.mid);
      }
    }

    const answer = await pc.createAnswer();
    if (this.#pc !== pc) return;
    await pc.setLocalDescription(answer);
    if (this.#pc !== pc) return;
    const reply = this.#host.request('answer', { negotiationId, sdp: pc.localDescription.sdp });
    this.#answered = true;
    const buffered = this.#localCandidates.splice(0);
    if (this.#resendCandidates) this.#resendAllCandidates();
    else for (const candidate of buffered) this.#sendCandidate(candidate);
    try {
      await reply;
    } catch (err) {
      if (err.code === ErrorCode.StaleNegotiation) return; // a newer offer is on its way
      throw err;
    }
  }

  #announceTrack(mid, track, streams, transceiver) {
    const mapping = this.#midMap.get(mid);
    if (!mapping || mapping.direction !== 'recv' || !mapping.trackId || !track) return;
    const previous = this.#announced.get(mid);
    if (previous && previous.trackId === mapping.trackId && previous.track === track) return;
    this.#announced.set(mid, { trackId: mapping.trackId, track });
    const remote = { track, trackId: mapping.trackId, participantId: mapping.participantId, mid };
    this.#remoteTracks.set(mapping.trackId, remote);
    this.#host.emit('track', { ...remote, streams, transceiver });
  }

  // ------------------------------------------------------------------ trickle ICE

  async #flushRemoteCandidates(pc) {
    for (const init of this.#remoteCandidates.splice(0)) await this.#addRemoteCandidate(pc, init);
  }

  async #addRemoteCandidate(pc, init) {
    try {
      await pc.addIceCandidate(init);
    } catch (err) {
      if (init.candidate === '') return; // end-of-candidates is optional to understand
      this.#emitError(new ManifoldError(`could not add the server's ICE candidate: ${err.message}`,
                                        { reason: 'negotiation-failed', cause: err }));
    }
  }

  #onLocalCandidate(candidate) {
    // Chromium also reports an empty candidate at the end of each generation; the `null`
    // that ends gathering is the one end-of-candidates we send.
    if (candidate && !candidate.candidate) return;
    const message = candidate
        ? { candidate: candidate.candidate, sdpMid: candidate.sdpMid,
            sdpMLineIndex: candidate.sdpMLineIndex }
        : { candidate: '', sdpMid: null, sdpMLineIndex: 0 }; // end of candidates
    this.#gathered.push(message);
    if (!this.#answered) {
      this.#localCandidates.push(message);
      return;
    }
    this.#sendCandidate(message);
  }

  #resendAllCandidates() {
    this.#resendCandidates = false;
    for (const candidate of this.#gathered) this.#sendCandidate(candidate);
  }

  #sendCandidate({ candidate, sdpMid, sdpMLineIndex }) {
    const message = { type: 'candidate', candidate: candidate ?? '',
                      sdpMLineIndex: sdpMLineIndex ?? 0, negotiationId: this.#negotiationId };
    if (sdpMid !== null && sdpMid !== undefined && sdpMid !== '') message.sdpMid = sdpMid;
    this.#host.send(message);
  }
}
