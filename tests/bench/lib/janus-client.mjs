// A small Janus VideoRoom client (Janus API over WebSocket, subprotocol "janus-protocol")
// for the benchmark's load generator: create a session, attach janus.plugin.videoroom,
// create rooms, join as publisher and publish an SDP offer, and subscribe to feeds with the
// 1.x multistream API (one subscriber PeerConnection per participant: `join` as subscriber
// with `streams`, later feeds added with `subscribe`; Janus offers, we answer with `start`).
//
// Janus answers a request with `success`/`error` (session-level requests) or `ack` then an
// `event` with the same transaction (plugin messages); later plugin events (new publishers,
// renegotiation offers) come without a transaction, addressed by `sender` (the handle id).
import WebSocket from 'ws';

let nextTransaction = 1;

export class JanusSession {
  /** @param {string} url ws://host:port */
  static async connect(url, { timeoutMs = 10000 } = {}) {
    const ws = new WebSocket(url, 'janus-protocol');
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no WebSocket to ${url} within ${timeoutMs} ms`)), timeoutMs);
      ws.once('open', () => { clearTimeout(timer); resolve(); });
      ws.once('error', (e) => { clearTimeout(timer); reject(e); });
    });
    const session = new JanusSession(ws);
    const created = await session.#request({ janus: 'create' });
    session.id = created.data.id;
    // Janus refuses any request without a transaction (error 456) before it looks at the
    // session, so a keepalive without one does not keep the session (60 s timeout) alive.
    session.#keepalive = setInterval(() => session.#send({ janus: 'keepalive', session_id: session.id, transaction: `k${nextTransaction++}` }), 20000);
    session.#keepalive.unref?.();
    return session;
  }

  id = 0;
  #ws;
  #pending = new Map(); // transaction -> {resolve, reject, timer}
  #handles = new Map(); // handle id -> JanusHandle
  #keepalive = null;

  constructor(ws) {
    this.#ws = ws;
    ws.on('message', (data) => this.#onMessage(JSON.parse(String(data))));
    ws.on('error', () => {});
  }

  #send(msg) {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(msg));
  }

  /** Sends `msg` with a fresh transaction; resolves with the first non-ack reply. */
  #request(msg, { timeoutMs = 15000 } = {}) {
    const transaction = `t${nextTransaction++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(transaction);
        reject(new Error(`janus: no reply to ${msg.janus}${msg.body?.request ? `/${msg.body.request}` : ''} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(transaction, { resolve, reject, timer });
      this.#send({ ...msg, transaction, ...(this.id ? { session_id: this.id } : {}) });
    });
  }

  #onMessage(msg) {
    if (msg.janus === 'ack') return;
    const pending = msg.transaction && this.#pending.get(msg.transaction);
    if (pending) {
      this.#pending.delete(msg.transaction);
      clearTimeout(pending.timer);
      if (msg.janus === 'error') pending.reject(new Error(`janus error ${msg.error?.code}: ${msg.error?.reason}`));
      else if (msg.plugindata?.data?.error) {
        pending.reject(new Error(`videoroom error ${msg.plugindata.data.error_code}: ${msg.plugindata.data.error}`));
      } else pending.resolve(msg);
      return;
    }
    const handle = this.#handles.get(msg.sender);
    if (handle) handle.onEvent(msg);
  }

  async attach(plugin = 'janus.plugin.videoroom') {
    const reply = await this.#request({ janus: 'attach', plugin });
    const handle = new JanusHandle(this, reply.data.id);
    this.#handles.set(handle.id, handle);
    return handle;
  }

  /** Plugin message; resolves with the reply (event or success) and its jsep, if any. */
  async message(handleId, body, jsep) {
    const reply = await this.#request({ janus: 'message', handle_id: handleId, body, ...(jsep ? { jsep } : {}) });
    return { data: reply.plugindata?.data ?? {}, jsep: reply.jsep ?? null };
  }

  trickle(handleId, candidate) {
    this.#send({ janus: 'trickle', session_id: this.id, handle_id: handleId, transaction: `c${nextTransaction++}`,
                 candidate: candidate ? { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex }
                   : { completed: true } });
  }

  close() {
    clearInterval(this.#keepalive);
    try { this.#send({ janus: 'destroy' }); } catch { /* closing anyway */ }
    this.#ws.close();
  }
}

export class JanusHandle {
  /** Called with every event Janus sends this handle outside a request's reply. */
  listeners = new Set();

  constructor(session, id) {
    this.session = session;
    this.id = id;
  }

  message(body, jsep) { return this.session.message(this.id, body, jsep); }
  trickle(candidate) { this.session.trickle(this.id, candidate); }
  onEvent(msg) { for (const l of this.listeners) l(msg); }
}

/** Creates a VideoRoom room (numeric id) able to hold `publishers` publishers. */
export async function createRoom(handle, room, { publishers = 64, videocodec = 'vp8', audiocodec = 'opus', bitrate = 0 } = {}) {
  const { data } = await handle.message({
    request: 'create', room, publishers, videocodec, audiocodec, bitrate, notify_joining: false, permanent: false,
    description: `bench ${room}`,
  });
  if (data.videoroom !== 'created') throw new Error(`janus: room ${room} not created: ${JSON.stringify(data)}`);
}

/**
 * One participant on Janus's VideoRoom with @roamhq/wrtc PeerConnections: a publisher
 * handle (its own PeerConnection, sendonly) and a subscriber handle (one PeerConnection
 * receiving every feed). `onTrack({track, feed})` fires for each remote track.
 * `PublisherPeerConnection` / `SubscriberPeerConnection` replace wrtc's RTCPeerConnection
 * on either side (the counting peers of counting-peer.mjs).
 */
export class JanusParticipant {
  constructor(wrtc, url, room, { name, onTrack = () => {}, PublisherPeerConnection, SubscriberPeerConnection }) {
    this.wrtc = wrtc;
    this.PublisherPeerConnection = PublisherPeerConnection ?? wrtc.RTCPeerConnection;
    this.SubscriberPeerConnection = SubscriberPeerConnection ?? wrtc.RTCPeerConnection;
    this.url = url;
    this.room = room;
    this.name = name;
    this.onTrack = onTrack;
    this.session = null;
    this.pubHandle = null;
    this.subHandle = null;
    this.pubPc = null;
    this.subPc = null;
    this.feedId = null;
    this.privateId = null;
    this.subscribed = new Set(); // feed ids asked for
    this.#chain = Promise.resolve();
  }

  #chain;
  #queued = new Set();

  async connect() {
    this.session = await JanusSession.connect(this.url);
  }

  /** Joins as publisher and publishes `tracks`; subscribes to every feed there and every later one. */
  async joinAndPublish(tracks, { subscribe = true } = {}) {
    this.pubHandle = await this.session.attach();
    if (subscribe) {
      this.pubHandle.listeners.add((msg) => {
        const pubs = msg.plugindata?.data?.publishers;
        if (pubs?.length) this.subscribeTo(pubs.map((p) => p.id));
      });
    }
    const { data } = await this.pubHandle.message({ request: 'join', ptype: 'publisher', room: this.room, display: this.name });
    this.feedId = data.id;
    this.privateId = data.private_id;
    const existing = (data.publishers ?? []).map((p) => p.id);
    if (subscribe && existing.length) this.subscribeTo(existing);
    if (tracks.length) await this.#publish(tracks);
  }

  async #publish(tracks) {
    const pc = new this.PublisherPeerConnection({ iceServers: [] });
    this.pubPc = pc;
    pc.onicecandidate = (e) => this.pubHandle.trickle(e.candidate);
    for (const t of tracks) pc.addTransceiver(t, { direction: 'sendonly' });
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const { jsep } = await this.pubHandle.message({ request: 'publish' }, { type: 'offer', sdp: pc.localDescription.sdp });
    if (!jsep) throw new Error('janus: publish got no answer');
    await pc.setRemoteDescription(jsep);
  }

  /** Viewer: the feeds publishing in the room now (no publisher handle needed). */
  async listPublishers() {
    const handle = this.pubHandle ?? (this.pubHandle = await this.session.attach());
    const { data } = await handle.message({ request: 'listparticipants', room: this.room });
    return (data.participants ?? []).filter((p) => p.publisher).map((p) => p.id);
  }

  /** Adds feeds to the subscriber PeerConnection; negotiations run one at a time. */
  subscribeTo(feeds) {
    for (const f of feeds) if (!this.subscribed.has(f)) this.#queued.add(f);
    if (!this.#queued.size) return this.#chain;
    this.#chain = this.#chain.then(() => this.#flushSubscriptions()).catch((e) => { this.error = e; });
    return this.#chain;
  }

  async #flushSubscriptions() {
    const feeds = [...this.#queued];
    this.#queued.clear();
    if (!feeds.length) return;
    for (const f of feeds) this.subscribed.add(f);
    const streams = feeds.map((feed) => ({ feed }));
    let reply;
    if (!this.subHandle) {
      this.subHandle = await this.session.attach();
      // Offers Janus sends on its own (a feed went away, ...) are answered the same way.
      this.subHandle.listeners.add((msg) => {
        if (msg.jsep?.type === 'offer') this.#chain = this.#chain.then(() => this.#answer(msg.jsep)).catch((e) => { this.error = e; });
      });
      const pc = new this.SubscriberPeerConnection({ iceServers: [] });
      this.subPc = pc;
      pc.onicecandidate = (e) => this.subHandle.trickle(e.candidate);
      pc.ontrack = (e) => this.onTrack({ track: e.track, mid: e.transceiver?.mid });
      reply = await this.subHandle.message({ request: 'join', ptype: 'subscriber', room: this.room, streams,
                                             ...(this.privateId ? { private_id: this.privateId } : {}) });
    } else {
      reply = await this.subHandle.message({ request: 'subscribe', streams });
    }
    if (reply.jsep?.type === 'offer') await this.#answer(reply.jsep);
  }

  async #answer(offer) {
    const pc = this.subPc;
    await pc.setRemoteDescription(offer);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await this.subHandle.message({ request: 'start' }, { type: 'answer', sdp: pc.localDescription.sdp });
  }

  close() {
    try { this.pubPc?.close(); } catch { /* ignore */ }
    try { this.subPc?.close(); } catch { /* ignore */ }
    this.session?.close();
  }
}
