// client.test.mjs — the browser client library (signalling/client/manifold.js) in Node,
// over the `ws` package, against the real gateway binary.
//
// Run from the repository root (after building the gateway):
//   node --test tests/integration/client.test.mjs
//   MANIFOLD_BUILD_DIR=build-debug node --test tests/integration/
//
// The last suite drives the media half of the library (offer/answer, trickle ICE, mid
// mapping) with a scripted WebSocket server and a fake RTCPeerConnection: the gateway has
// no media plane yet, and the negotiation logic must not wait for one to be tested.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { ManifoldClient, ManifoldError, ErrorCode } from '../../signalling/client/manifold.js';
import { repoRoot, startManifold } from './lib/server.mjs';

const require = createRequire(import.meta.url);
const { WebSocket, WebSocketServer } = require('ws');

const EVENT_TIMEOUT_MS = 5000;

/**
 * The protocol's JSON Schemas (signalling/schema), when present: every frame the gateway
 * sends to the library, and every frame the library sends to the scripted server, must
 * validate. Returns {client(m), server(m)} -> error text or '' (always '' without schemas).
 */
function loadSchemas() {
  const dir = path.join(repoRoot, 'signalling/schema');
  if (!existsSync(path.join(dir, 'client.schema.json'))) return { client: () => '', server: () => '' };
  const Ajv2020 = require('ajv/dist/2020.js');
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  const files = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(path.join(d, e.name))
                      : e.name.endsWith('.schema.json') ? [path.join(d, e.name)] : []);
  for (const file of files(dir)) ajv.addSchema(JSON.parse(readFileSync(file, 'utf8')));
  const check = (direction) => (message) => {
    const validate = ajv.getSchema(`https://manifold.invalid/schema/v1/${direction}/${message.type}.schema.json`);
    if (!validate) return `no ${direction} schema for type ${JSON.stringify(message.type)}`;
    return validate(message) ? '' : `${JSON.stringify(message)}: ${ajv.errorsText(validate.errors)}`;
  };
  return { client: check('client'), server: check('server') };
}
const schemas = loadSchemas();

/**
 * Make a client, remember it, close it at the end. Every frame it receives is checked
 * against the server schemas; `make.invalid` lists the violations.
 */
function clientFactory() {
  const clients = [];
  const make = (url, options = {}) => {
    const c = new ManifoldClient(url, { WebSocket, requestTimeoutMs: 5000, ...options });
    c.on('message', (m) => {
      const problem = schemas.server(m);
      if (problem) make.invalid.push(problem);
    });
    clients.push(c);
    return c;
  };
  make.invalid = [];
  make.closeAll = () => { for (const c of clients) c.close(); };
  return make;
}

async function rejectsWith(promise, { code, reason, requestType }) {
  const err = await promise.then(
      (value) => assert.fail(`expected a rejection, got ${JSON.stringify(value)}`),
      (e) => e);
  assert.ok(err instanceof ManifoldError, `expected ManifoldError, got ${err}`);
  if (code !== undefined) assert.equal(err.code, code, `code of: ${err.message}`);
  if (reason !== undefined) assert.equal(err.reason, reason, `reason of: ${err.message}`);
  if (requestType !== undefined) assert.equal(err.requestType, requestType);
  assert.ok(err.message.length > 0, 'the error carries a message');
  return err;
}

let roomCounter = 0;
const freshRoom = (prefix = 'room') => `${prefix}-${process.pid}-${++roomCounter}`;

// ====================================================================== real gateway

describe('client library against the gateway', () => {
  let server;
  const client = clientFactory();

  before(async () => {
    server = await startManifold(['--auth', 'none']);
  });
  after(async () => {
    client.closeAll();
    if (server) await server.stop();
  });

  test('connect negotiates protocol version 1', async () => {
    const alice = client(server.wsUrl);
    const states = [];
    alice.on('statechange', ({ state }) => states.push(state));
    const welcome = await alice.connect();
    assert.equal(welcome.version, 1);
    assert.equal(typeof welcome.server, 'string');
    assert.ok(welcome.server.length > 0, 'welcome names the server');
    assert.equal(alice.state, 'connected');
    assert.deepEqual(states, ['connecting', 'connected']);
    assert.equal(alice.connect(), alice.connect(), 'connect() while connected is idempotent');
  });

  test('two clients join a room and see each other', async () => {
    const room = freshRoom();
    const alice = client(server.wsUrl);
    const bob = client(server.wsUrl);
    await alice.connect();
    const aliceJoined = await alice.join(room, { name: 'Alice', metadata: { color: 'red' } });
    assert.equal(aliceJoined.room, room);
    assert.equal(typeof aliceJoined.participantId, 'string');
    assert.ok(aliceJoined.participantId.length > 0);
    assert.deepEqual(aliceJoined.participants, [], 'Alice is alone');
    assert.equal(aliceJoined.grants.join, true);
    assert.ok(Array.isArray(aliceJoined.iceServers));
    assert.equal(alice.state, 'joined');
    assert.equal(alice.room, room);
    assert.equal(alice.participantId, aliceJoined.participantId);

    const seen = alice.once('participant-joined', () => true, EVENT_TIMEOUT_MS);
    // join() connects by itself.
    const bobJoined = await bob.join(room, { name: 'Bob' });
    assert.notEqual(bobJoined.participantId, aliceJoined.participantId);
    assert.equal(bobJoined.participants.length, 1, 'Bob sees Alice');
    const aliceSeenByBob = bobJoined.participants[0];
    assert.equal(aliceSeenByBob.id, aliceJoined.participantId);
    assert.equal(aliceSeenByBob.name, 'Alice');
    assert.deepEqual(aliceSeenByBob.metadata, { color: 'red' });
    assert.deepEqual(aliceSeenByBob.tracks, []);
    assert.ok(bob.participants.has(aliceJoined.participantId), 'client.participants is filled');

    const { participant } = await seen;
    assert.equal(participant.id, bobJoined.participantId);
    assert.equal(participant.name, 'Bob');
    assert.equal(participant.metadata, undefined, 'no metadata: field omitted');
    assert.ok(alice.participants.has(bobJoined.participantId));
    assert.equal(alice.participants.get(bobJoined.participantId).name, 'Bob');
  });

  test('participant-left on leave (reason "left") and on a dropped connection', async () => {
    const room = freshRoom();
    const alice = client(server.wsUrl);
    const bob = client(server.wsUrl);
    const carol = client(server.wsUrl);
    await alice.join(room, { name: 'Alice' });
    const bobInfo = await bob.join(room, { name: 'Bob' });
    const carolInfo = await carol.join(room, { name: 'Carol' });
    assert.equal(alice.participants.size, 2);

    const bobLeft = alice.once('participant-left',
                               (e) => e.participantId === bobInfo.participantId, EVENT_TIMEOUT_MS);
    const bobClosed = bob.once('close', () => true, EVENT_TIMEOUT_MS);
    await bob.leave();
    const left = await bobLeft;
    assert.equal(left.reason, 'left');
    assert.equal(left.participant?.name, 'Bob', 'the event carries the last known info');
    assert.ok(!alice.participants.has(bobInfo.participantId));
    // The v1 gateway closes the connection after leave.
    const closed = await bobClosed;
    assert.equal(closed.code, 1000);
    assert.equal(bob.state, 'closed');

    const carolGone = alice.once('participant-left',
                                 (e) => e.participantId === carolInfo.participantId, EVENT_TIMEOUT_MS);
    carol.close(); // no leave: the socket just goes away
    const gone = await carolGone;
    assert.equal(gone.reason, 'disconnected');
    assert.equal(alice.participants.size, 0);
  });

  test('a client can rejoin after leaving (new connection)', async () => {
    const room = freshRoom();
    const alice = client(server.wsUrl);
    const bob = client(server.wsUrl);
    await alice.join(room, { name: 'Alice' });
    const first = await bob.join(room, { name: 'Bob' });
    await bob.leave();
    const back = alice.once('participant-joined', () => true, EVENT_TIMEOUT_MS);
    const second = await bob.join(room, { name: 'Bob' });
    assert.equal(bob.state, 'joined');
    assert.notEqual(second.participantId, first.participantId, 'a new participant id');
    assert.equal((await back).participant.id, second.participantId);
  });

  test('request errors reject with the server code, reason and message', async () => {
    const room = freshRoom();
    const alice = client(server.wsUrl);
    await alice.connect();

    // Before joining.
    await rejectsWith(alice.ping().then(() => alice.unpublish('nope')),
                      { code: 0, reason: 'not-joined' }); // refused on this side
    const notJoined = await rejectsWith(alice.request('unpublish', { trackId: 'x' }),
                                        { code: ErrorCode.NotJoined, reason: 'not-joined',
                                          requestType: 'unpublish' });
    assert.equal(typeof notJoined.requestId, 'number');

    // Decode errors name the field.
    const bad = await rejectsWith(alice.join('no spaces allowed!', { name: 'Alice' }),
                                  { code: ErrorCode.InvalidMessage, reason: 'invalid-message',
                                    requestType: 'join' });
    assert.match(bad.message, /room/);
    assert.equal(alice.state, 'connected', 'a refused join leaves the client connected');

    await rejectsWith(alice.request('frobnicate'),
                      { code: ErrorCode.UnknownType, reason: 'unknown-type' });

    await alice.join(room, { name: 'Alice' });
    await rejectsWith(alice.join(room, { name: 'Alice' }),
                      { code: ErrorCode.AlreadyJoined, reason: 'already-joined' });
    await rejectsWith(alice.unpublish('no-such-track'),
                      { code: ErrorCode.UnknownTrack, reason: 'unknown-track' });
    await rejectsWith(alice.mute('no-such-track', true),
                      { code: ErrorCode.UnknownTrack, reason: 'unknown-track' });
    await rejectsWith(alice.pause('no-such-track', true),
                      { code: ErrorCode.UnknownTrack, reason: 'unknown-track' });
    await rejectsWith(alice.subscribe(['no-such-track']),
                      { code: ErrorCode.UnknownTrack, reason: 'unknown-track' });
    await alice.subscribe(); // everything: nothing there yet, still fine
    await alice.unsubscribe(); // [] = auto-subscribe off
    await assert.rejects(alice.publish({ kind: 'text' }), TypeError);

    // The connection survives all of that.
    assert.equal(alice.state, 'joined');
    assert.ok((await alice.ping()) >= 0);
  });

  test('publish: a TrackInfo, or 4001 media-unavailable without a media plane', async () => {
    const room = freshRoom();
    const alice = client(server.wsUrl);
    const bob = client(server.wsUrl);
    await alice.join(room, { name: 'Alice' });
    await bob.join(room, { name: 'Bob' });
    let track;
    try {
      track = await alice.publish({ kind: 'audio', label: 'microphone' });
    } catch (err) {
      assert.ok(err instanceof ManifoldError, String(err));
      assert.equal(err.code, ErrorCode.MediaUnavailable, err.message);
      assert.equal(err.reason, 'media-unavailable');
      assert.equal(err.requestType, 'publish');
      assert.equal(alice.localTracks.size, 0);
      return;
    }
    // A gateway with a media plane.
    assert.equal(track.kind, 'audio');
    assert.equal(track.label, 'microphone');
    assert.equal(track.participantId, alice.participantId);
    assert.equal(track.muted, false);
    assert.ok(alice.localTracks.has(track.id));
  });

  test('ping answers, and concurrent requests are matched by id', async () => {
    const alice = client(server.wsUrl);
    await alice.connect();
    const rtt = await alice.ping();
    assert.equal(typeof rtt, 'number');
    assert.ok(rtt >= 0 && rtt < 5000, `round trip ${rtt} ms`);
    const replies = await Promise.all(Array.from({ length: 20 }, () => alice.request('ping')));
    assert.deepEqual(replies.map((r) => r.type), Array(20).fill('pong'));
    const ids = replies.map((r) => r.id);
    assert.equal(new Set(ids).size, 20, 'every reply answers its own request');
  });

  test('a request without reply times out; an error without id becomes an error event', async () => {
    const alice = client(server.wsUrl);
    await alice.connect();
    // `candidate` has no reply; before join the server answers `error` without an id.
    const errorEvent = alice.once('error', () => true, EVENT_TIMEOUT_MS);
    await rejectsWith(alice.request('candidate', { candidate: '', sdpMLineIndex: 0 },
                                    { timeoutMs: 300 }),
                      { code: 0, reason: 'timeout', requestType: 'candidate' });
    const { error } = await errorEvent;
    assert.ok(error instanceof ManifoldError);
    assert.equal(error.code, ErrorCode.NotJoined);
    assert.equal(error.requestId, undefined);
    assert.ok(await alice.ping() >= 0, 'a timed-out request does not break the client');
  });

  test('close() rejects pending requests and emits close once', async () => {
    const alice = client(server.wsUrl);
    await alice.join(freshRoom(), { name: 'Alice' });
    let closes = 0;
    alice.on('close', () => { closes++; });
    const pending = alice.request('candidate', { candidate: '', sdpMLineIndex: 0 },
                                  { timeoutMs: 0 }); // never answered
    alice.close();
    await rejectsWith(pending, { reason: 'connection-closed' });
    assert.equal(alice.state, 'closed');
    assert.equal(alice.room, '');
    await rejectsWith(alice.ping(), { reason: 'not-connected' });
    await sleep(200);
    assert.equal(closes, 1);
  });

  test('connecting to a closed port rejects', async () => {
    const probe = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => probe.on('listening', resolve));
    const { port } = probe.address();
    await new Promise((resolve) => probe.close(resolve));
    const alice = client(`ws://127.0.0.1:${port}/ws`);
    await rejectsWith(alice.connect(), { reason: 'connection-closed' });
    assert.equal(alice.state, 'closed');
  });

  test('leave() before join just closes the connection', async () => {
    const alice = client(server.wsUrl);
    await alice.connect();
    const closed = alice.once('close', () => true, EVENT_TIMEOUT_MS);
    await alice.leave();
    assert.equal((await closed).code, 1000);
    assert.equal(alice.state, 'closed');
  });

  test('every frame the gateway sent matched signalling/schema', () => {
    assert.deepEqual(client.invalid, []);
  });
});

describe('keepalive', () => {
  const client = clientFactory();
  after(() => client.closeAll());

  test('pings keep a quiet connection open past the idle timeout', async (t) => {
    const server = await startManifold(['--auth', 'none', '--idle-timeout', '1']);
    t.after(() => server.stop());
    const quiet = client(server.wsUrl, { keepaliveMs: 300 });
    const silent = client(server.wsUrl, { keepaliveMs: 0 });
    await quiet.join(freshRoom(), { name: 'Quiet' });
    await silent.connect();
    const { reason } = await silent.once('disconnect', () => true, EVENT_TIMEOUT_MS);
    assert.equal(reason, 'timeout', 'without keepalive the gateway closes an idle connection');
    await sleep(1500);
    assert.equal(quiet.state, 'joined', 'with keepalive it stays');
    assert.ok(await quiet.ping() >= 0);
  });

  test('every frame the gateway sent matched signalling/schema', () => {
    assert.deepEqual(client.invalid, []);
  });
});

describe('server going away', () => {
  const client = clientFactory();
  after(() => client.closeAll());

  test('SIGTERM: disconnect (shutdown) then close; the gateway exits 0', async () => {
    const server = await startManifold(['--auth', 'none']);
    try {
      const alice = client(server.wsUrl);
      const joined = await alice.join(freshRoom(), { name: 'Alice' });
      assert.ok(joined.participantId);
      const idle = client(server.wsUrl);
      await idle.connect(); // connected, not in a room
      const disconnect = alice.once('disconnect', () => true, EVENT_TIMEOUT_MS);
      const closed = alice.once('close', () => true, EVENT_TIMEOUT_MS);
      const idleClosed = idle.once('close', () => true, EVENT_TIMEOUT_MS);
      const status = await server.stop('SIGTERM');
      const d = await disconnect;
      assert.equal(d.reason, 'shutdown');
      assert.ok(d.message.length > 0);
      const c = await closed;
      assert.deepEqual(c.disconnect, d, 'the close event carries the disconnect');
      assert.equal(c.code, 1001, 'close code "going away" (PROTOCOL.md)');
      assert.equal(alice.state, 'closed');
      await idleClosed;
      assert.equal(status, 0, `exit status after SIGTERM\n${server.stderr()}`);
    } finally {
      await server.stop('SIGKILL');
    }
  });

  test('SIGKILL: close event, pending requests reject', async () => {
    const server = await startManifold(['--auth', 'none']);
    try {
      const alice = client(server.wsUrl);
      await alice.join(freshRoom(), { name: 'Alice' });
      const closed = alice.once('close', () => true, EVENT_TIMEOUT_MS);
      const pending = alice.request('candidate', { candidate: '', sdpMLineIndex: 0 },
                                    { timeoutMs: 0 });
      pending.catch(() => {});
      await server.stop('SIGKILL');
      const c = await closed;
      assert.notEqual(c.code, 1000);
      assert.equal(c.disconnect, null);
      await rejectsWith(pending, { reason: 'connection-closed' });
    } finally {
      await server.stop('SIGKILL');
    }
  });

  test('every frame the gateway sent matched signalling/schema', () => {
    assert.deepEqual(client.invalid, []);
  });
});

// ====================================================================== media negotiation

/**
 * A fake RTCPeerConnection, just enough of the W3C API for the client's answerer logic.
 * SDP here is a fake text format: one line "m=<kind> <mid>" per m-line.
 */
class FakeTrack extends EventTarget {
  constructor(kind, id) {
    super();
    this.kind = kind;
    this.id = id;
    this.enabled = true;
    this.muted = false;
    this.readyState = 'live';
  }
  stop() { this.readyState = 'ended'; }
}

class FakePeerConnection extends EventTarget {
  static instances = [];
  constructor(config) {
    super();
    this.config = config;
    this.transceivers = [];
    this.remoteDescription = null;
    this.localDescription = null;
    this.connectionState = 'new';
    this.addedCandidates = [];
    this.log = [];
    this.closed = false;
    FakePeerConnection.instances.push(this);
  }
  getTransceivers() { return this.transceivers; }
  async setRemoteDescription(description) {
    await sleep(5); // really asynchronous, as in browsers
    this.log.push(`srd ${description.type}`);
    const added = [];
    for (const line of description.sdp.split('\n')) {
      const m = /^m=(\w+) (\S+)/.exec(line);
      if (!m || this.transceivers.some((t) => t.mid === m[2])) continue;
      const transceiver = {
        mid: m[2],
        direction: 'recvonly',
        sender: { track: null, async replaceTrack(t) { this.track = t; },
                  async getStats() { return new Map(); } },
        receiver: { track: new FakeTrack(m[1], `remote-${m[2]}`),
                    async getStats() { return new Map([['x', { type: 'inbound-rtp' }]]); } },
      };
      this.transceivers.push(transceiver);
      added.push(transceiver);
    }
    this.remoteDescription = description;
    for (const transceiver of added) {
      this.dispatchEvent(Object.assign(new Event('track'),
                                       { track: transceiver.receiver.track, transceiver,
                                         streams: [] }));
    }
  }
  async createAnswer() {
    this.log.push('createAnswer');
    const lines = this.transceivers.map((t) => `m=${t.receiver.track.kind} ${t.mid} ${t.direction}` +
                                                (t.sender.track ? ` track=${t.sender.track.id}` : ''));
    return { type: 'answer', sdp: lines.join('\n') };
  }
  async setLocalDescription(description) {
    await sleep(5);
    this.log.push('sld');
    this.localDescription = description;
    // Gathering starts now; the first candidate comes before the promise resolves.
    this.dispatchEvent(Object.assign(new Event('icecandidate'),
                                     { candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host',
                                                    sdpMid: '0', sdpMLineIndex: 0 } }));
    setTimeout(() => {
      this.dispatchEvent(Object.assign(new Event('icecandidate'), { candidate: null }));
      this.connectionState = 'connected';
      this.dispatchEvent(new Event('connectionstatechange'));
    }, 20);
  }
  async addIceCandidate(candidate) {
    if (!this.remoteDescription) throw new Error('InvalidStateError: no remote description');
    this.addedCandidates.push(candidate);
    this.log.push(`candidate ${candidate.candidate || '(end)'}`);
  }
  close() { this.closed = true; this.connectionState = 'closed'; }
}

/** Schema violations in frames the library sent to, or the script sent from, a scripted server. */
const scriptedFrameProblems = [];

/** A scripted signalling server: answers hello/join/publish, lets the test push frames. */
async function scriptedServer() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.on('listening', resolve));
  const received = [];
  const waiters = [];
  let socket = null;
  let trackCounter = 0;
  let currentNegotiation = 0;
  const send = (message) => {
    if (message.type === 'offer') currentNegotiation = message.negotiationId;
    const problem = schemas.server(message);
    if (problem) scriptedFrameProblems.push(`script sent ${problem}`);
    socket.send(JSON.stringify(message));
  };
  wss.on('connection', (ws) => {
    socket = ws;
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      const problem = schemas.client(m);
      if (problem) scriptedFrameProblems.push(`library sent ${problem}`);
      received.push(m);
      api.hook?.(m);
      for (const w of [...waiters]) {
        if (w.predicate(m)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
      }
      switch (m.type) {
        case 'hello': send({ type: 'welcome', id: m.id, version: 1, server: 'scripted' }); break;
        case 'join':
          send({ type: 'joined', id: m.id, room: m.room, participantId: 'me',
                 grants: { join: true, publish: true, subscribe: true, record: false, admin: false },
                 participants: [{ id: 'bob', identity: 'bob', name: 'Bob',
                                  tracks: [{ id: 'bob-mic', participantId: 'bob', kind: 'audio',
                                             label: 'microphone', muted: false }] }],
                 iceServers: [{ urls: ['stun:127.0.0.1:3478'] }] });
          break;
        case 'publish':
          send({ type: 'published', id: m.id,
                 track: { id: `my-${m.kind}-${++trackCounter}`, participantId: 'me', kind: m.kind,
                          label: m.label ?? '', muted: false } });
          break;
        case 'answer': case 'mute':
          send({ type: 'ok', id: m.id });
          break;
        case 'candidate': // as the gateway does: only the current negotiation's
          if (m.negotiationId !== currentNegotiation) {
            send({ type: 'error', code: 1012, reason: 'stale-negotiation',
                   message: `candidate for negotiation ${m.negotiationId}, but the current one ` +
                            `is ${currentNegotiation}` });
          }
          break;
        default: break;
      }
    });
  });
  const api = {
    /** Called synchronously for every frame received, before the scripted reply. */
    hook: null,
    /** Send without the schema check (for deliberately malformed frames). */
    socketSendRaw: (message) => socket.send(JSON.stringify(message)),
    url: `ws://127.0.0.1:${wss.address().port}/ws`,
    received,
    send,
    next(predicate, timeoutMs = EVENT_TIMEOUT_MS) {
      const found = received.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error('scripted server: expected frame not received'));
        }, timeoutMs);
        const w = { predicate, resolve: (m) => { clearTimeout(timer); resolve(m); } };
        waiters.push(w);
      });
    },
    close: () => new Promise((resolve) => {
      for (const c of wss.clients) c.terminate();
      wss.close(resolve);
    }),
  };
  return api;
}

const offerSdp = (...mlines) => mlines.map(([kind, mid]) => `m=${kind} ${mid}`).join('\n');

describe('media negotiation (scripted server, fake RTCPeerConnection)', () => {
  const client = clientFactory();
  after(() => client.closeAll());

  test('answers an offer: send mids get the local tracks, recv mids become track events',
       async (t) => {
    const server = await scriptedServer();
    t.after(() => server.close());
    const alice = client(server.url, { RTCPeerConnection: FakePeerConnection });
    await alice.join('media', { name: 'Alice' });
    const mic = new FakeTrack('audio', 'local-mic');
    const info = await alice.publish(mic);
    assert.equal(info.label, 'microphone', 'default label from the kind');
    const publishFrame = server.received.find((m) => m.type === 'publish');
    assert.deepEqual({ kind: publishFrame.kind, label: publishFrame.label },
                     { kind: 'audio', label: 'microphone' });

    // A server candidate before the offer must wait for the remote description.
    server.send({ type: 'candidate', candidate: 'candidate:9 1 udp 9 127.0.0.1 6000 typ host',
                  sdpMid: '0', sdpMLineIndex: 0 });
    const tracks = [];
    alice.on('track', (e) => tracks.push(e));
    const states = [];
    alice.on('connectionstatechange', ({ state }) => states.push(state));
    server.send({ type: 'offer', negotiationId: 7, sdp: offerSdp(['audio', '0'], ['audio', '1']),
                  mids: [{ mid: '0', trackId: info.id, participantId: 'me', direction: 'send' },
                         { mid: '1', trackId: 'bob-mic', participantId: 'bob', direction: 'recv' }] });

    const answer = await server.next((m) => m.type === 'answer');
    assert.equal(answer.negotiationId, 7);
    assert.equal(typeof answer.id, 'number');
    assert.match(answer.sdp, /^m=audio 0 sendonly track=local-mic$/m);
    assert.match(answer.sdp, /^m=audio 1 recvonly$/m);

    const pc = FakePeerConnection.instances.at(-1);
    assert.equal(alice.peerConnection, pc);
    assert.deepEqual(pc.config.iceServers, [{ urls: ['stun:127.0.0.1:3478'] }]);
    assert.equal(pc.config.bundlePolicy, 'max-bundle');
    assert.deepEqual(pc.log.slice(0, 4),
                     ['srd offer', 'candidate candidate:9 1 udp 9 127.0.0.1 6000 typ host',
                      'createAnswer', 'sld']);

    // Local candidates: after the answer, with the negotiation id; then end-of-candidates.
    const first = await server.next((m) => m.type === 'candidate' && m.candidate);
    const end = await server.next((m) => m.type === 'candidate' && m.candidate === '');
    assert.ok(server.received.indexOf(first) > server.received.indexOf(answer),
              'candidates follow the answer');
    assert.deepEqual(first, { type: 'candidate', candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host',
                              sdpMid: '0', sdpMLineIndex: 0, negotiationId: 7 });
    assert.deepEqual(end, { type: 'candidate', candidate: '', sdpMLineIndex: 0, negotiationId: 7 });

    assert.equal(tracks.length, 1, 'only the recv mid is a remote track');
    assert.equal(tracks[0].trackId, 'bob-mic');
    assert.equal(tracks[0].participantId, 'bob');
    assert.equal(tracks[0].mid, '1');
    assert.equal(tracks[0].track.kind, 'audio');
    assert.equal(alice.remoteTracks.get('bob-mic').track, tracks[0].track);

    // Candidates after the remote description are added at once.
    server.send({ type: 'candidate', candidate: '', sdpMid: '0', sdpMLineIndex: 0 });
    await sleep(50);
    assert.equal(pc.addedCandidates.at(-1).candidate, '');
    assert.ok(states.includes('connected'));

    // Stats of a remote track come from its receiver.
    const stats = await alice.getStats('bob-mic');
    assert.equal([...stats.values()][0].type, 'inbound-rtp');
    assert.equal(await alice.getStats('unknown'), null);

    // Mute disables the local track too.
    await alice.mute(info.id, true);
    assert.equal(mic.enabled, false);
    await alice.mute(info.id, false);
    assert.equal(mic.enabled, true);
  });

  test('offers are handled one at a time, in order; a recycled mid announces its new track',
       async (t) => {
    const server = await scriptedServer();
    t.after(() => server.close());
    const alice = client(server.url, { RTCPeerConnection: FakePeerConnection });
    await alice.join('media', { name: 'Alice' });
    const tracks = [];
    alice.on('track', (e) => tracks.push(`${e.mid}:${e.trackId}`));
    server.send({ type: 'offer', negotiationId: 1, sdp: offerSdp(['video', '0']),
                  mids: [{ mid: '0', trackId: 'bob-cam', participantId: 'bob', direction: 'recv' }] });
    server.send({ type: 'offer', negotiationId: 2, sdp: offerSdp(['video', '0'], ['audio', '1']),
                  mids: [{ mid: '0', trackId: 'carol-cam', participantId: 'carol', direction: 'recv' },
                         { mid: '1', trackId: 'carol-mic', participantId: 'carol', direction: 'recv' }] });
    const a1 = await server.next((m) => m.type === 'answer' && m.negotiationId === 1);
    const a2 = await server.next((m) => m.type === 'answer' && m.negotiationId === 2);
    assert.ok(server.received.indexOf(a1) < server.received.indexOf(a2));
    const pc = FakePeerConnection.instances.at(-1);
    const order = pc.log.filter((l) => !l.startsWith('candidate'));
    assert.deepEqual(order, ['srd offer', 'createAnswer', 'sld', 'srd offer', 'createAnswer', 'sld']);
    // mid 1 is new (a `track` event while applying offer 2); mid 0 is recycled (announced
    // after applying it).
    assert.deepEqual(tracks, ['0:bob-cam', '1:carol-mic', '0:carol-cam']);
    assert.equal(alice.remoteTracks.get('carol-cam').participantId, 'carol');

    // Offer 3 no longer maps mid 1 (Carol unpublished her microphone): answered inactive.
    server.send({ type: 'offer', negotiationId: 3, sdp: offerSdp(['video', '0'], ['audio', '1']),
                  mids: [{ mid: '0', trackId: 'carol-cam', participantId: 'carol', direction: 'recv' }] });
    const a3 = await server.next((m) => m.type === 'answer' && m.negotiationId === 3);
    assert.match(a3.sdp, /^m=video 0 recvonly$/m);
    assert.match(a3.sdp, /^m=audio 1 inactive$/m);
    assert.equal(alice.remoteTracks.has('carol-mic'), false);
    assert.equal(tracks.length, 3, 'nothing new to announce');

    // An idle entry (no trackId: the track went away, the server keeps the m-line for
    // reuse) keeps its direction with no track; it is never answered inactive, which
    // webrtcbin could not undo.
    server.send({ type: 'offer', negotiationId: 4, sdp: offerSdp(['video', '0'], ['audio', '1']),
                  mids: [{ mid: '0', direction: 'recv' }] });
    const a4 = await server.next((m) => m.type === 'answer' && m.negotiationId === 4);
    assert.match(a4.sdp, /^m=video 0 recvonly$/m);
    assert.equal(alice.remoteTracks.size, 0);
    assert.equal(tracks.length, 3, 'an idle m-line announces no track');
  });

  test('candidates refused as stale (crossed a new offer) are sent again with the new id',
       async (t) => {
    const server = await scriptedServer();
    t.after(() => server.close());
    const alice = client(server.url, { RTCPeerConnection: FakePeerConnection });
    await alice.join('media', { name: 'Alice' });
    const errors = [];
    const warnings = [];
    alice.on('error', ({ error }) => errors.push(error));
    alice.on('warning', ({ error }) => warnings.push(error));
    // Offer 2 goes out the moment answer 1 arrives, so the candidate the client sends
    // right after answer 1 (tagged 1) reaches the server after offer 2: stale.
    server.hook = (m) => {
      if (m.type !== 'answer' || m.negotiationId !== 1) return;
      server.send({ type: 'offer', negotiationId: 2, sdp: offerSdp(['audio', '0'], ['video', '1']),
                    mids: [{ mid: '0', trackId: 'bob-mic', participantId: 'bob', direction: 'recv' },
                           { mid: '1', trackId: 'bob-cam', participantId: 'bob', direction: 'recv' }] });
    };
    server.send({ type: 'offer', negotiationId: 1, sdp: offerSdp(['audio', '0']),
                  mids: [{ mid: '0', trackId: 'bob-mic', participantId: 'bob', direction: 'recv' }] });
    await server.next((m) => m.type === 'answer' && m.negotiationId === 2);
    assert.ok(server.received.some((m) => m.type === 'candidate' && m.negotiationId === 1),
              'the race happened: a candidate tagged 1 was sent');
    const resent = await server.next((m) => m.type === 'candidate' && m.negotiationId === 2 &&
                                            m.candidate === '');
    assert.ok(resent);
    const tagged2 = server.received.filter((m) => m.type === 'candidate' && m.negotiationId === 2);
    // What matters: the candidate refused as stale comes again tagged 2, and so does the
    // end of candidates.
    assert.equal(tagged2[0].candidate, 'candidate:1 1 udp 1 127.0.0.1 5000 typ host');
    assert.ok(tagged2.some((m) => m.candidate === ''));
    assert.ok(warnings.length >= 1 && warnings.every((w) => w.code === ErrorCode.StaleNegotiation));
    assert.deepEqual(errors, [], 'an expected race is not an error');
  });

  test('a failed negotiation is an error event and the next offer still works', async (t) => {
    const server = await scriptedServer();
    t.after(() => server.close());
    class Flaky extends FakePeerConnection {
      async setRemoteDescription(d) {
        if (d.sdp.includes('broken')) throw new Error('OperationError: bad sdp');
        return super.setRemoteDescription(d);
      }
    }
    const alice = client(server.url, { RTCPeerConnection: Flaky });
    await alice.join('media', { name: 'Alice' });
    const failed = alice.once('error', () => true, EVENT_TIMEOUT_MS);
    server.send({ type: 'offer', negotiationId: 1, sdp: 'broken', mids: [] });
    const { error } = await failed;
    assert.equal(error.code, ErrorCode.NegotiationFailed);
    assert.match(error.message, /bad sdp/);
    server.send({ type: 'offer', negotiationId: 2, sdp: offerSdp(['audio', '0']),
                  mids: [{ mid: '0', trackId: 'x', participantId: 'bob', direction: 'recv' }] });
    const answer = await server.next((m) => m.type === 'answer');
    assert.equal(answer.negotiationId, 2);
  });

  test('without an RTCPeerConnection an offer is reported, not answered', async (t) => {
    const server = await scriptedServer();
    t.after(() => server.close());
    const alice = client(server.url, { RTCPeerConnection: null });
    await alice.join('media', { name: 'Alice' });
    const reported = alice.once('error', () => true, EVENT_TIMEOUT_MS);
    server.send({ type: 'offer', negotiationId: 1, sdp: offerSdp(['audio', '0']), mids: [] });
    assert.equal((await reported).error.reason, 'media-unsupported');
    await sleep(50);
    assert.equal(server.received.filter((m) => m.type === 'answer').length, 0);
  });

  test('room events keep client.participants up to date', async (t) => {
    const server = await scriptedServer();
    t.after(() => server.close());
    const alice = client(server.url);
    await alice.join('media', { name: 'Alice' });
    assert.deepEqual(alice.participants.get('bob').tracks.map((x) => x.id), ['bob-mic']);
    const events = [];
    for (const type of ['track-published', 'track-muted', 'track-unpublished', 'speaking']) {
      alice.on(type, (e) => events.push([type, e]));
    }
    server.send({ type: 'track-published',
                  track: { id: 'bob-cam', participantId: 'bob', kind: 'video', label: 'camera',
                           muted: false } });
    server.send({ type: 'track-muted', trackId: 'bob-mic', participantId: 'bob', muted: true });
    server.send({ type: 'speaking', participantId: 'bob', trackId: 'bob-mic', speaking: true });
    server.send({ type: 'track-unpublished', trackId: 'bob-cam', participantId: 'bob' });
    await alice.once('track-unpublished', () => true, EVENT_TIMEOUT_MS);
    assert.deepEqual(events.map(([type]) => type),
                     ['track-published', 'track-muted', 'speaking', 'track-unpublished']);
    assert.equal(events[3][1].track.label, 'camera', 'track-unpublished carries the last info');
    const bob = alice.participants.get('bob');
    assert.deepEqual(bob.tracks.map((x) => [x.id, x.muted]), [['bob-mic', true]]);
  });

  test('every frame of these conversations matched signalling/schema', () => {
    assert.deepEqual(scriptedFrameProblems, []);
  });
});
