/**
 * manifold.js — the Manifold signalling client (protocol version 1).
 *
 * A plain ES module with no dependencies and no build step. It runs in browsers and in
 * Node 20 (give it a WebSocket implementation such as the `ws` package; media needs an
 * RTCPeerConnection implementation too, e.g. `@roamhq/wrtc`).
 *
 * The gateway serves this file at `/lib/manifold.js`:
 *
 *     import { ManifoldClient } from '/lib/manifold.js';
 *     const client = new ManifoldClient('wss://gateway.example/ws');
 *     await client.connect();                       // WebSocket + hello/welcome
 *     const joined = await client.join('lobby', { name: 'Alice' });
 *     client.on('participant-joined', ({ participant }) => console.log(participant.name));
 *     client.on('track', ({ track, trackId, participantId }) => attach(track));
 *     const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
 *     for (const t of stream.getTracks()) await client.publish(t);
 *
 * Constructor
 *   new ManifoldClient(url, {
 *     WebSocket,          // WebSocket class; default globalThis.WebSocket
 *     RTCPeerConnection,  // RTCPeerConnection class; default globalThis.RTCPeerConnection
 *                         // (absent = signalling only: offers are refused with an `error` event)
 *     requestTimeoutMs,   // per-request timeout, default 10000
 *     keepaliveMs,        // send `ping` after this long without sending anything, default
 *                         // 20000 (the gateway closes connections silent for idle-timeout,
 *                         // 60 s by default); 0 = never
 *     clientName,         // sent in hello as `client`, default "manifold.js/<version>"
 *     rtcConfiguration,   // extra RTCConfiguration fields (iceServers come from `joined`)
 *   })
 *
 * Methods (all requests return promises; they reject with a ManifoldError)
 *   connect()                         -> {version, server}   opens the socket, hello/welcome;
 *                                        after a close it opens a new connection
 *   join(room, {token, name, metadata, autoSubscribe})
 *                                     -> {room, participantId, grants, participants, iceServers}
 *                                        (connects first when not connected, or again after
 *                                        a close)
 *   publish(mediaStreamTrack, {label, codec}?) or publish({kind, label, codec}, mediaStreamTrack?)
 *                                     -> TrackInfo {id, participantId, kind, label, muted}
 *                                        `codec` ("VP8", "VP9", "H264", "AV1"; "OPUS" for audio)
 *                                        asks the server to offer that codec first: browsers
 *                                        send the first codec of the offer they support
 *                                        The local track is attached to the transceiver the
 *                                        server's next offer marks "send" for this track id.
 *   replaceTrack(trackId, mediaStreamTrack|null) -> void  swap the local source, no renegotiation
 *   unpublish(trackId)                -> void
 *   subscribe(trackIds?)              -> void               absent/empty = every track allowed
 *   unsubscribe(trackIds?)            -> void               absent/[] = auto-subscribe off,
 *                                        current subscriptions kept
 *   mute(trackId, muted = true)       -> void               also sets the local track's `enabled`
 *   pause(trackId, paused = true)     -> void               pause receiving a subscribed track
 *   ping()                            -> round-trip time in milliseconds
 *   leave()                           -> void               leaves the room (if joined), closes media
 *                                        and the connection (the v1 gateway ends the session
 *                                        after leave; `close` is emitted with code 1000,
 *                                        reason "left"); join() again reconnects
 *   close(code = 1000, reason = '')   -> void               closes socket and media now;
 *                                        the `close` event is emitted before it returns
 *   getStats(trackId)                 -> RTCStatsReport|null (sender or receiver of that track)
 *   request(type, fields)             -> the raw reply message (for messages not wrapped here)
 *
 * Properties (read-only)
 *   state            'new' | 'connecting' | 'connected' | 'joined' | 'closed'
 *   version, server  from welcome
 *   room, participantId, grants, iceServers   from joined ('' / null when not joined)
 *   participants     Map participantId -> ParticipantInfo of everyone else, kept up to date
 *                    by the events below (tracks included)
 *   localTracks      Map trackId -> {info: TrackInfo, track: MediaStreamTrack|null}
 *   remoteTracks     Map trackId -> {track, trackId, participantId, mid}
 *   peerConnection   the RTCPeerConnection once the first offer arrived, else null
 *
 * Events: client.on(type, listener) / client.off(type, listener) / client.once(type, pred?, ms?)
 * (a Promise of the next matching event). Listeners get one object argument:
 *   statechange             {state, previous}
 *   participant-joined      {participant}
 *   participant-left        {participantId, reason, participant}
 *   track-published         {track}
 *   track-unpublished       {trackId, participantId, track}
 *   track-muted             {trackId, participantId, muted}
 *   speaking                {participantId, trackId, speaking}
 *   disconnect              {reason, message}          the server is about to close
 *   error                   {error: ManifoldError}      errors not tied to a request
 *                                                       (server `error` without id, media failures)
 *   warning                 {error: ManifoldError}      expected races the client repairs by
 *                                                       itself (1012 for a trickled candidate
 *                                                       that crossed a new offer)
 *   close                   {code, reason, wasClean, disconnect}  socket closed (once per
 *                                                       connection; `disconnect` is the server's
 *                                                       disconnect message before it, or null)
 *   track                   {track, trackId, participantId, mid, streams, transceiver}
 *   connectionstatechange   {state}                     RTCPeerConnection.connectionState
 *   message                 the raw server message, for every message (debugging)
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
 * Errors: ManifoldError extends Error with `code` (the server's numeric code, 0 for errors
 * made on this side), `reason` ("token-expired", or for local errors "timeout",
 * "not-connected", "connection-closed", "unsupported-version", "negotiation-failed",
 * "media-unsupported"), `requestType` and `requestId`.
 */

export const VERSION = '0.1.0';

/** Protocol versions this client speaks. */
export const PROTOCOL_VERSIONS = Object.freeze([1]);

/** The server's error codes (signalling/protocol/Messages.hpp). */
export const ErrorCode = Object.freeze({
  MalformedJson: 1001,
  InvalidMessage: 1002,
  UnknownType: 1003,
  UnsupportedVersion: 1004,
  NotNegotiated: 1005,
  NotJoined: 1006,
  AlreadyJoined: 1007,
  MessageTooLarge: 1008,
  RateLimited: 1009,
  UnknownTrack: 1010,
  UnknownParticipant: 1011,
  StaleNegotiation: 1012,
  Busy: 1013,
  UnknownRoom: 1014,
  TokenMissing: 2001,
  TokenMalformed: 2002,
  TokenBadSignature: 2003,
  TokenAlgorithm: 2004,
  TokenExpired: 2005,
  TokenNotYetValid: 2006,
  TokenWrongRoom: 2007,
  PermissionDenied: 2008,
  WebhookDenied: 2009,
  WebhookUnavailable: 2010,
  RoomFull: 3001,
  TooManyRooms: 3002,
  TooManyTracks: 3003,
  MediaUnavailable: 4001,
  NegotiationFailed: 4002,
  CodecMismatch: 4003,
  InternalError: 5001,
  ShuttingDown: 5002,
});

/** An error reply from the server, or a failure on the client side (code 0). */
export class ManifoldError extends Error {
  /**
   * @param {string} message human-readable text (the server's `message` when it sent one)
   * @param {{code?: number, reason?: string, requestType?: string, requestId?: number,
   *          cause?: unknown}} [details]
   */
  constructor(message, { code = 0, reason = '', requestType = '', requestId, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ManifoldError';
    this.code = code;
    this.reason = reason;
    this.requestType = requestType;
    this.requestId = requestId;
  }
}

const WS_OPEN = 1;

/** A small event emitter: on/off/once/emit; a throwing listener does not stop the others. */
class Emitter {
  #listeners = new Map();

  /** @param {string} type @param {(event: object) => void} listener */
  on(type, listener) {
    if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
    this.#listeners.get(type).add(listener);
    return this;
  }

  off(type, listener) {
    this.#listeners.get(type)?.delete(listener);
    return this;
  }

  /**
   * Promise of the next `type` event for which `predicate` returns true.
   * @param {string} type
   * @param {(event: object) => boolean} [predicate]
   * @param {number} [timeoutMs] reject with a ManifoldError (reason "timeout") after this long
   */
  once(type, predicate = () => true, timeoutMs = 0) {
    return new Promise((resolve, reject) => {
      let timer = null;
      const listener = (event) => {
        if (!predicate(event)) return;
        this.off(type, listener);
        if (timer) clearTimeout(timer);
        resolve(event);
      };
      this.on(type, listener);
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          this.off(type, listener);
          reject(new ManifoldError(`no "${type}" event within ${timeoutMs} ms`,
                                   { reason: 'timeout' }));
        }, timeoutMs);
      }
    });
  }

  emit(type, event) {
    const set = this.#listeners.get(type);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (err) {
        // A listener's bug must not break message handling; report it asynchronously.
        setTimeout(() => { throw err; });
      }
    }
  }
}

function isMediaStreamTrack(value) {
  if (!value || typeof value !== 'object') return false;
  if (typeof globalThis.MediaStreamTrack === 'function' &&
      value instanceof globalThis.MediaStreamTrack) return true;
  return typeof value.kind === 'string' && typeof value.stop === 'function' &&
         'enabled' in value;
}

function defaultLabel(kind) {
  return kind === 'video' ? 'camera' : 'microphone';
}

/** Copy a message without `type` and `id`. */
function body(message) {
  const { type: _type, id: _id, ...rest } = message;
  return rest;
}

export class ManifoldClient extends Emitter {
  // Passed by argument.
  #url;
  #WebSocket;
  #RTCPeerConnection;
  #requestTimeoutMs;
  #keepaliveMs;
  #clientName;
  #rtcConfiguration;

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
  #remoteTracks = new Map();

  // Media state. One RTCPeerConnection per joined room, created at the first offer.
  #pc = null;
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

  /**
   * @param {string} url the gateway's WebSocket URL, e.g. "ws://127.0.0.1:8080/ws"
   * @param {{WebSocket?: Function, RTCPeerConnection?: Function|null, requestTimeoutMs?: number,
   *          keepaliveMs?: number, clientName?: string, rtcConfiguration?: object}} [options]
   *   (see the top of this file)
   */
  constructor(url, options = {}) {
    super();
    this.#url = url;
    this.#WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.#RTCPeerConnection = options.RTCPeerConnection ?? globalThis.RTCPeerConnection;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 10000;
    this.#keepaliveMs = options.keepaliveMs ?? 20000;
    this.#clientName = options.clientName ?? `manifold.js/${VERSION}`;
    this.#rtcConfiguration = options.rtcConfiguration ?? {};
    if (typeof this.#WebSocket !== 'function') {
      throw new TypeError('ManifoldClient needs a WebSocket implementation ' +
                          '(pass options.WebSocket, e.g. the "ws" package in Node)');
    }
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
  get remoteTracks() { return this.#remoteTracks; }
  get peerConnection() { return this.#pc; }

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
    this.#closeMedia();
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
      this.#closeMedia();
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
    await this.#attachLocalTrack(info.id);
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
    await this.#attachLocalTrack(trackId);
  }

  /** Stop publishing a track. */
  async unpublish(trackId) {
    this.#requireJoined('unpublish');
    const transceiver = await this.#request('unpublish', { trackId }, { onReply: () => {
      const t = this.#transceiverForTrack(trackId);
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

  /**
   * getStats() of the sender (own track) or receiver (remote track) of `trackId`,
   * or null when no transceiver carries it.
   */
  async getStats(trackId) {
    const transceiver = this.#transceiverForTrack(trackId);
    if (!transceiver) return null;
    const side = this.#localTracks.has(trackId) ? transceiver.sender : transceiver.receiver;
    return side.getStats();
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
      case 'offer': this.#onOffer(message); break;
      case 'candidate': this.#onRemoteCandidate(message); break;
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
    if (error.code === ErrorCode.StaleNegotiation && message.id === undefined && this.#pc) {
      // One of our trickled candidates crossed a newer offer. Repair, do not alarm.
      this.emit('warning', { error });
      if (this.#answered) this.#resendAllCandidates();
      else this.#resendCandidates = true;
      return;
    }
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
    for (const [trackId, remote] of this.#remoteTracks) {
      if (remote.participantId === message.participantId) this.#remoteTracks.delete(trackId);
    }
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
    this.#remoteTracks.delete(message.trackId);
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

  // ------------------------------------------------------------------ media

  #onOffer(message) {
    // Chain: one negotiation at a time, in arrival order.
    this.#negotiationChain = this.#negotiationChain
        .then(() => this.#negotiate(message))
        .catch((err) => {
          this.#emitError(err instanceof ManifoldError ? err : new ManifoldError(
              `media negotiation ${message.negotiationId} failed: ${err?.message ?? err}`,
              { code: ErrorCode.NegotiationFailed, reason: 'negotiation-failed', cause: err }));
        });
  }

  #ensurePeerConnection() {
    if (this.#pc) return this.#pc;
    if (typeof this.#RTCPeerConnection !== 'function') return null;
    const iceServers = (this.#iceServers ?? []).map((s) => ({
      urls: s.urls,
      ...(s.username ? { username: s.username } : {}),
      ...(s.credential ? { credential: s.credential } : {}),
    }));
    const pc = new this.#RTCPeerConnection({ bundlePolicy: 'max-bundle', ...this.#rtcConfiguration,
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
      this.emit('connectionstatechange', { state: pc.connectionState });
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
    if (this.#state !== 'joined') return; // left or closed meanwhile: stale offer
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
        const local = this.#localTracks.get(mapping.trackId);
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
    const reply = this.#request('answer', { negotiationId, sdp: pc.localDescription.sdp });
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
    this.emit('track', { ...remote, streams, transceiver });
  }

  async #attachLocalTrack(trackId) {
    const transceiver = this.#transceiverForTrack(trackId);
    if (!transceiver) return;
    await transceiver.sender.replaceTrack(this.#localTracks.get(trackId)?.track ?? null);
  }

  #transceiverForTrack(trackId) {
    if (!this.#pc) return null;
    for (const [mid, mapping] of this.#midMap) {
      if (mapping.trackId !== trackId) continue;
      return this.#pc.getTransceivers().find((t) => t.mid === mid) ?? null;
    }
    return null;
  }

  #onRemoteCandidate(message) {
    const init = { candidate: message.candidate ?? '' };
    if (message.sdpMid !== undefined) init.sdpMid = message.sdpMid;
    if (message.sdpMLineIndex !== undefined) init.sdpMLineIndex = message.sdpMLineIndex;
    if (!this.#pc || !this.#pc.remoteDescription) {
      this.#remoteCandidates.push(init);
      return;
    }
    this.#addRemoteCandidate(this.#pc, init);
  }

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
    this.#send(message);
  }

  #closeMedia() {
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
      this.emit('connectionstatechange', { state: 'closed' });
    }
  }
}

export default ManifoldClient;
