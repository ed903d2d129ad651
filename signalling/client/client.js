/**
 * client.js — ManifoldClient, the signalling half of the Manifold client library: the
 * WebSocket, hello/welcome and keepalive, requests and their replies, the room API
 * (join, publish, mute, ...), the server's events and the client's view of the room.
 *
 * Part of the client library; applications import it through manifold.js, whose header
 * documents the public API. The RTCPeerConnection (offers, answers, trickle ICE,
 * transceivers, stats) lives in media.js: this class owns one MediaSession, passes it the
 * `offer` and `candidate` messages and lends it what it needs (see MediaHost there).
 */

import { Emitter } from './emitter.js';
import { isMediaStreamTrack, MediaSession } from './media.js';
import { body, ErrorCode, ManifoldError, PROTOCOL_VERSIONS, VERSION } from './protocol.js';

const WS_OPEN = 1;

function defaultLabel(kind) {
  return kind === 'video' ? 'camera' : 'microphone';
}

export class ManifoldClient extends Emitter {
  // Passed by argument.
  #url;
  #WebSocket;
  #requestTimeoutMs;
  #keepaliveMs;
  #clientName;

  // Allocated by this.
  #ws = null;
  #state = 'new';
  #nextId = 1;
  #pending = new Map(); // id -> {resolve, reject, timer, type}
  #connectPromise = null;
  #closeEmitted = false;
  #lastDisconnect = null;
  #keepaliveTimer = null;
  #lastSentAt = 0;

  #version = 0;
  #server = '';
  #room = '';
  #participantId = '';
  #grants = null;
  #iceServers = [];
  #participants = new Map();
  #localTracks = new Map();
  #media; // MediaSession: the RTCPeerConnection and remoteTracks

  /**
   * @param {string} url the gateway's WebSocket URL, e.g. "ws://127.0.0.1:8080/ws"
   * @param {{WebSocket?: Function, RTCPeerConnection?: Function|null, requestTimeoutMs?: number,
   *          keepaliveMs?: number, clientName?: string, rtcConfiguration?: object}} [options]
   *   (see the top of manifold.js)
   */
  constructor(url, options = {}) {
    super();
    this.#url = url;
    this.#WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 10000;
    this.#keepaliveMs = options.keepaliveMs ?? 20000;
    this.#clientName = options.clientName ?? `manifold.js/${VERSION}`;
    if (typeof this.#WebSocket !== 'function') {
      throw new TypeError('ManifoldClient needs a WebSocket implementation ' +
                          '(pass options.WebSocket, e.g. the "ws" package in Node)');
    }
    this.#media = new MediaSession({
      RTCPeerConnection: options.RTCPeerConnection ?? globalThis.RTCPeerConnection,
      rtcConfiguration: options.rtcConfiguration ?? {},
      localTracks: this.#localTracks,
      iceServers: () => this.#iceServers,
      isJoined: () => this.#state === 'joined',
      request: (type, fields) => this.#request(type, fields),
      send: (message) => this.#send(message),
      emit: (type, event) => this.emit(type, event),
    });
  }

  get url() { return this.#url; }
  get state() { return this.#state; }
  get version() { return this.#version; }
  get server() { return this.#server; }
  get room() { return this.#room; }
  get participantId() { return this.#participantId; }
  get grants() { return this.#grants; }
  get iceServers() { return this.#iceServers; }
  get participants() { return this.#participants; }
  get localTracks() { return this.#localTracks; }
  get remoteTracks() { return this.#media.remoteTracks; }
  get peerConnection() { return this.#media.peerConnection; }

  // ------------------------------------------------------------------ connection

  /**
   * Open the WebSocket and negotiate the protocol version. Calling it again while
   * connecting or connected returns the same promise; after a close it opens a new
   * connection (the server closes the connection after `leave`, so rejoining needs this;
   * join() does it by itself).
   * @returns {Promise<{version: number, server: string}>}
   */
  connect() {
    if (this.#connectPromise && this.#state !== 'new' && this.#state !== 'closed') {
      return this.#connectPromise;
    }
    this.#closeEmitted = false;
    this.#lastDisconnect = null;
    this.#connectPromise = this.#doConnect();
    this.#connectPromise.catch(() => {}); // the caller sees the rejection; no unhandled noise
    return this.#connectPromise;
  }

  async #doConnect() {
    this.#setState('connecting');
    let ws;
    try {
      ws = new this.#WebSocket(this.#url);
    } catch (err) {
      this.#setState('closed');
      throw new ManifoldError(`cannot open WebSocket to ${this.#url}: ${err.message}`,
                              { reason: 'connection-closed', cause: err });
    }
    this.#ws = ws;
    await new Promise((resolve, reject) => {
      const cleanup = () => {
        ws.removeEventListener('open', onOpen);
        ws.removeEventListener('close', onEarlyClose);
      };
      const onOpen = () => { cleanup(); resolve(); };
      const onEarlyClose = (event) => {
        cleanup();
        reject(new ManifoldError(
            `could not connect to ${this.#url}` +
                (event?.code ? ` (WebSocket close code ${event.code}` +
                               `${event.reason ? `: ${event.reason}` : ''})` : ''),
            { reason: 'connection-closed' }));
      };
      ws.addEventListener('open', onOpen);
      ws.addEventListener('close', onEarlyClose);
      // Events of a socket this client has already let go of (close(), then connect())
      // must not touch the new connection.
      ws.addEventListener('message', (event) => {
        if (ws === this.#ws) this.#onSocketMessage(event);
      });
      ws.addEventListener('close', (event) => {
        if (ws !== this.#ws) return;
        this.#ws = null;
        this.#finishClose({ code: event?.code ?? 1006, reason: event?.reason ?? '',
                            wasClean: event?.wasClean ?? false });
      });
      // 'error' is always followed by 'close'; listening avoids unhandled errors in `ws`.
      ws.addEventListener('error', () => {});
    });

    let welcome;
    try {
      welcome = await this.#request('hello', {
        versions: [...PROTOCOL_VERSIONS],
        ...(this.#clientName ? { client: this.#clientName } : {}),
      });
    } catch (err) {
      this.close(1000, 'hello failed');
      throw err;
    }
    if (!PROTOCOL_VERSIONS.includes(welcome.version)) {
      this.close(1000, 'unsupported protocol version');
      throw new ManifoldError(`server chose protocol version ${welcome.version}, ` +
                              `this client speaks ${PROTOCOL_VERSIONS.join(', ')}`,
                              { reason: 'unsupported-version', requestType: 'hello' });
    }
    this.#version = welcome.version;
    this.#server = welcome.server ?? '';
    this.#startKeepalive(ws);
    this.#setState('connected');
    return { version: this.#version, server: this.#server };
  }

  /**
   * Close the socket (and the media connection) now: pending requests reject with reason
   * "connection-closed" and the `close` event is emitted before this returns.
   * @param {number} [code] WebSocket close code (1000 or 3000..4999)
   * @param {string} [reason]
   */
  close(code = 1000, reason = '') {
    const ws = this.#ws;
    if (!ws) return;
    this.#ws = null;
    if (ws.readyState === 0 || ws.readyState === WS_OPEN) {
      try { ws.close(code, reason); } catch { ws.close(); }
    }
    this.#finishClose({ code, reason, wasClean: true });
  }

  #finishClose({ code, reason, wasClean }) {
    clearInterval(this.#keepaliveTimer);
    this.#keepaliveTimer = null;
    this.#media.close();
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      const why = this.#lastDisconnect?.message ? `: ${this.#lastDisconnect.message}` : '';
      pending.reject(new ManifoldError(`connection closed before the reply to ` +
                                       `"${pending.type}" arrived${why}`,
                                       { reason: 'connection-closed', requestType: pending.type,
                                         requestId: id }));
    }
    this.#pending.clear();
    this.#room = '';
    this.#participantId = '';
    this.#participants.clear();
    this.#localTracks.clear();
    this.#setState('closed');
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    this.emit('close', { code, reason, wasClean, disconnect: this.#lastDisconnect });
  }

  #setState(state) {
    if (state === this.#state) return;
    const previous = this.#state;
    this.#state = state;
    this.emit('statechange', { state, previous });
  }

  // ------------------------------------------------------------------ requests

  /**
   * Send a request and wait for its reply. Resolves with the reply message (any type but
   * `error`); rejects with a ManifoldError carrying the server's code, reason and message.
   * @param {string} type
   * @param {object} [fields]
   * @param {{timeoutMs?: number}} [options]
   */
  request(type, fields = {}, { timeoutMs = this.#requestTimeoutMs } = {}) {
    return this.#request(type, fields, { timeoutMs });
  }

  /**
   * `onReply(message)` runs synchronously when the reply arrives, before any later message
   * is handled (state that later events build on must not wait for a promise continuation);
   * its return value resolves the promise.
   */
  #request(type, fields, { timeoutMs = this.#requestTimeoutMs, onReply = (m) => m } = {}) {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WS_OPEN) {
      return Promise.reject(new ManifoldError(`cannot send "${type}": not connected`,
                                              { reason: 'not-connected', requestType: type }));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = timeoutMs > 0 ? setTimeout(() => {
        this.#pending.delete(id);
        reject(new ManifoldError(`no reply to "${type}" within ${timeoutMs} ms`,
                                 { reason: 'timeout', requestType: type, requestId: id }));
      }, timeoutMs) : null;
      this.#pending.set(id, { resolve, reject, timer, type, onReply });
      try {
        ws.send(JSON.stringify({ type, id, ...fields }));
        this.#lastSentAt = Date.now();
      } catch (err) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(new ManifoldError(`cannot send "${type}": ${err.message}`,
                                 { reason: 'not-connected', requestType: type, requestId: id,
                                   cause: err }));
      }
    });
  }

  /** Send a message that has no reply (candidate). */
  #send(message) {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WS_OPEN) return false;
    ws.send(JSON.stringify(message));
    this.#lastSentAt = Date.now();
    return true;
  }

  /** `ping` whenever nothing was sent for keepaliveMs, so the gateway's idle timeout
   *  never closes a quiet but healthy connection. */
  #startKeepalive(ws) {
    clearInterval(this.#keepaliveTimer);
    this.#keepaliveTimer = null;
    if (!(this.#keepaliveMs > 0)) return;
    this.#lastSentAt = Date.now();
    const tick = Math.max(50, Math.min(1000, this.#keepaliveMs / 4));
    this.#keepaliveTimer = setInterval(() => {
      if (ws !== this.#ws || ws.readyState !== WS_OPEN) return;
      if (Date.now() - this.#lastSentAt < this.#keepaliveMs) return;
      this.#request('ping').catch((error) => {
        if (ws === this.#ws && error.reason === 'timeout') this.#emitError(error);
      });
    }, tick);
    // In Node, a keepalive alone must not keep the process running.
    this.#keepaliveTimer.unref?.();
  }

  #requireJoined(what) {
    if (this.#state !== 'joined') {
      throw new ManifoldError(`cannot ${what}: not in a room (join first)`,
                              { reason: 'not-joined', code: 0 });
    }
  }

  // ------------------------------------------------------------------ room API

  /**
   * Join a room. Connects first when needed.
   * @param {string} room 1..128 characters of [A-Za-z0-9._~-]
   * @param {{token?: string, name?: string, metadata?: object, autoSubscribe?: boolean}} [options]
   * @returns {Promise<{room: string, participantId: string, grants: object,
   *                    participants: object[], iceServers: object[]}>}
   */
  async join(room, { token, name, metadata, autoSubscribe } = {}) {
    if (this.#state === 'new' || this.#state === 'connecting' || this.#state === 'closed') {
      await this.connect();
    }
    const fields = { room };
    if (token) fields.token = token;
    if (name) fields.name = name;
    if (metadata && Object.keys(metadata).length > 0) fields.metadata = metadata;
    if (autoSubscribe !== undefined) fields.autoSubscribe = Boolean(autoSubscribe);
    return this.#request('join', fields, { onReply: (reply) => {
      const joined = body(reply);
      joined.participants ??= [];
      joined.iceServers ??= [];
      this.#room = joined.room ?? room;
      this.#participantId = joined.participantId ?? '';
      this.#grants = joined.grants ?? null;
      this.#iceServers = joined.iceServers;
      this.#participants.clear();
      this.#localTracks.clear();
      for (const p of joined.participants) {
        this.#participants.set(p.id, { ...p, tracks: [...(p.tracks ?? [])] });
      }
      this.#setState('joined');
      return joined;
    } });
  }

  /**
   * Leave the room. The v1 gateway ends the session after `leave` (it replies `ok`, then
   * closes the WebSocket), so the client closes the connection on the reply: the `close`
   * event (code 1000, reason "left") is emitted before this resolves, and a later join()
   * opens a new connection.
   */
  async leave() {
    if (this.#state === 'connected') { // not in a room: there is nothing to leave
      this.close(1000, 'left');
      return;
    }
    this.#requireJoined('leave');
    await this.#request('leave', {}, { onReply: () => {
      this.#media.close();
      this.#grants = null;
      this.close(1000, 'left');
    } });
  }

  /**
   * Publish a track. Either `publish(mediaStreamTrack, {label})` or
   * `publish({kind, label}, mediaStreamTrack?)`. Without a MediaStreamTrack only the
   * signalling happens (attach one later with replaceTrack).
   * @returns {Promise<{id: string, participantId: string, kind: string, label: string,
   *                    muted: boolean}>} the server's TrackInfo
   */
  async publish(trackOrSpec, second) {
    this.#requireJoined('publish');
    let mediaTrack = null;
    let kind;
    let label;
    let codec;
    if (isMediaStreamTrack(trackOrSpec)) {
      mediaTrack = trackOrSpec;
      kind = mediaTrack.kind;
      label = second?.label ?? defaultLabel(kind);
      codec = second?.codec;
    } else {
      kind = trackOrSpec?.kind;
      label = trackOrSpec?.label ?? '';
      codec = trackOrSpec?.codec;
      mediaTrack = second ?? null;
    }
    if (kind !== 'audio' && kind !== 'video') {
      throw new TypeError(`publish: kind must be "audio" or "video", got ${JSON.stringify(kind)}`);
    }
    const fields = { kind };
    if (label) fields.label = label;
    if (codec) fields.codec = codec; // "VP8" | "VP9" | "H264" | "AV1" | "OPUS": the server offers it first
    const info = await this.#request('publish', fields, { onReply: (reply) => {
      this.#localTracks.set(reply.track.id, { info: { ...reply.track }, track: mediaTrack });
      return reply.track;
    } });
    // If an offer already mapped this track (it can arrive before `published`), attach now.
    await this.#media.attachLocalTrack(info.id);
    return info;
  }

  /** Swap the local MediaStreamTrack behind a published track (no renegotiation). */
  async replaceTrack(trackId, mediaTrack) {
    const local = this.#localTracks.get(trackId);
    if (!local) {
      throw new ManifoldError(`replaceTrack: ${trackId} is not a track published here`,
                              { reason: 'unknown-track' });
    }
    local.track = mediaTrack ?? null;
    await this.#media.attachLocalTrack(trackId);
  }

  /** Stop publishing a track. */
  async unpublish(trackId) {
    this.#requireJoined('unpublish');
    const transceiver = await this.#request('unpublish', { trackId }, { onReply: () => {
      const t = this.#media.transceiverForTrack(trackId);
      this.#localTracks.delete(trackId);
      return t;
    } });
    if (transceiver) {
      try { await transceiver.sender.replaceTrack(null); } catch { /* pc closing */ }
    }
  }

  /** Subscribe to tracks; absent or empty = every track the grants allow. */
  async subscribe(trackIds) {
    this.#requireJoined('subscribe');
    const fields = Array.isArray(trackIds) && trackIds.length > 0 ? { trackIds } : {};
    await this.request('subscribe', fields);
  }

  /**
   * Stop receiving tracks (a track id or an array of them). Without ids (or with [])
   * auto-subscribe is turned off and the current subscriptions are kept.
   */
  async unsubscribe(trackIds = []) {
    this.#requireJoined('unsubscribe');
    const ids = Array.isArray(trackIds) ? trackIds : [trackIds];
    await this.request('unsubscribe', { trackIds: ids });
  }

  /**
   * Mute or unmute one of this participant's tracks. The local MediaStreamTrack (if any)
   * is disabled while muted, so nothing leaves the device either.
   */
  async mute(trackId, muted = true) {
    this.#requireJoined('mute');
    await this.#request('mute', { trackId, muted: Boolean(muted) }, { onReply: () => {
      const local = this.#localTracks.get(trackId);
      if (local) {
        local.info.muted = Boolean(muted);
        if (local.track) local.track.enabled = !muted;
      }
    } });
  }

  /** Pause or resume receiving a subscribed track. */
  async pause(trackId, paused = true) {
    this.#requireJoined('pause');
    await this.request('pause', { trackId, paused: Boolean(paused) });
  }

  /** @returns {Promise<number>} round-trip time in milliseconds */
  async ping() {
    const start = (globalThis.performance ?? Date).now();
    await this.request('ping');
    return (globalThis.performance ?? Date).now() - start;
  }

  /** @returns {Promise<RTCStatsReport|null>} of `trackId`'s sender or receiver (media.js) */
  getStats(trackId) {
    return this.#media.getStats(trackId);
  }

  // ------------------------------------------------------------------ incoming messages

  #onSocketMessage(event) {
    let data = event.data;
    if (typeof data !== 'string') {
      // Binary frames are not part of the protocol; tolerate Buffers from Node libraries.
      try { data = new TextDecoder().decode(data); } catch { return; }
    }
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      this.#emitError(new ManifoldError('the server sent a frame that is not JSON',
                                        { reason: 'malformed-json' }));
      return;
    }
    if (!message || typeof message !== 'object' || typeof message.type !== 'string') return;
    this.emit('message', message);

    if (message.id !== undefined && message.id !== null && this.#pending.has(message.id)) {
      this.#settle(message);
      return;
    }
    switch (message.type) {
      case 'error': this.#onServerError(message); break;
      case 'participant-joined': this.#onParticipantJoined(message); break;
      case 'participant-left': this.#onParticipantLeft(message); break;
      case 'track-published': this.#onTrackPublished(message); break;
      case 'track-unpublished': this.#onTrackUnpublished(message); break;
      case 'track-muted': this.#onTrackMuted(message); break;
      case 'speaking': this.emit('speaking', body(message)); break;
      case 'disconnect':
        this.#lastDisconnect = body(message);
        this.emit('disconnect', this.#lastDisconnect);
        break;
      case 'offer': this.#media.onOffer(message); break;
      case 'candidate': this.#media.onRemoteCandidate(message); break;
      default: break; // unknown or unsolicited replies: ignored (forward compatibility)
    }
  }

  #settle(message) {
    const pending = this.#pending.get(message.id);
    this.#pending.delete(message.id);
    clearTimeout(pending.timer);
    if (message.type === 'error') {
      pending.reject(new ManifoldError(message.message || message.reason || 'request failed', {
        code: message.code ?? 0, reason: message.reason ?? '',
        requestType: pending.type, requestId: message.id,
      }));
    } else {
      let value;
      try {
        value = pending.onReply(message);
      } catch (err) {
        pending.reject(err);
        return;
      }
      pending.resolve(value);
    }
  }

  #onServerError(message) {
    const error = new ManifoldError(message.message || message.reason || 'server error', {
      code: message.code ?? 0, reason: message.reason ?? '', requestId: message.id ?? undefined,
    });
    // One of our trickled candidates crossed a newer offer: the media side repairs it
    // (and emits `warning`), unless there is no media session to repair.
    if (error.code === ErrorCode.StaleNegotiation && message.id === undefined &&
        this.#media.repairStaleCandidate(error)) return;
    this.#emitError(error);
  }

  #emitError(error) {
    this.emit('error', { error });
  }

  #onParticipantJoined(message) {
    const p = message.participant;
    if (!p?.id) return;
    this.#participants.set(p.id, { ...p, tracks: [...(p.tracks ?? [])] });
    this.emit('participant-joined', { participant: p });
  }

  #onParticipantLeft(message) {
    const participant = this.#participants.get(message.participantId) ?? null;
    this.#participants.delete(message.participantId);
    this.#media.forgetParticipant(message.participantId);
    this.emit('participant-left', { participantId: message.participantId,
                                    reason: message.reason ?? '', participant });
  }

  #onTrackPublished(message) {
    const track = message.track;
    if (!track?.id) return;
    const p = this.#participants.get(track.participantId);
    if (p) {
      p.tracks = p.tracks.filter((t) => t.id !== track.id);
      p.tracks.push({ ...track });
    }
    this.emit('track-published', { track });
  }

  #onTrackUnpublished(message) {
    const p = this.#participants.get(message.participantId);
    const track = p?.tracks.find((t) => t.id === message.trackId) ?? null;
    if (p) p.tracks = p.tracks.filter((t) => t.id !== message.trackId);
    this.#media.forgetTrack(message.trackId);
    this.emit('track-unpublished', { trackId: message.trackId,
                                     participantId: message.participantId, track });
  }

  #onTrackMuted(message) {
    const p = this.#participants.get(message.participantId);
    const track = p?.tracks.find((t) => t.id === message.trackId);
    if (track) track.muted = Boolean(message.muted);
    const local = this.#localTracks.get(message.trackId);
    if (local) local.info.muted = Boolean(message.muted);
    this.emit('track-muted', { trackId: message.trackId, participantId: message.participantId,
                               muted: Boolean(message.muted) });
  }
}
