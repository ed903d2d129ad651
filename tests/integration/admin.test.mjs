// admin.test.mjs — the HTTP side of the real gateway: the admin REST API (auth=jwt),
// event notifications (--events-url), /healthz, /metrics and the built-in demo page.
//
//   node --test tests/integration/admin.test.mjs

import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { withManifold } from './lib/server.mjs';
import {
  assertEventEnvelope, freshRoom, httpRequest, nowSeconds, openPeer, signJwt, startHookServer, STEP_MS, waitFor,
} from './lib/wire.mjs';

const SECRET = 'admin-test-secret-0123456789abcdefghijkl';
const JWT = ['--auth', 'jwt', '--jwt-secret', SECRET];

const token = (claims = {}) => signJwt({ sub: 'user', room: '*', exp: nowSeconds() + 3600, ...claims }, SECRET);
const adminToken = (room = '*') => token({ sub: 'ops', room, grants: { admin: true } });
const joinToken = (room, sub) => token({ sub, room });

function assertHttpError(res, status, code) {
  assert.equal(res.status, status, `${status} expected: ${res.status} ${res.text}`);
  assert.match(res.headers['content-type'], /^application\/json/);
  assert.equal(res.json?.code, code, res.text);
  assert.equal(typeof res.json.reason, 'string');
  assert.ok(res.json.message.length > 0);
}

/** Metrics text -> Map of "name{labels}" -> number. */
function parseMetrics(text) {
  const values = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

async function metrics(server) {
  const res = await httpRequest(`${server.url}/metrics`);
  assert.equal(res.status, 200);
  return parseMetrics(res.text);
}

/**
 * A request through `agent` (127.0.0.1 only). Resolves with {status, reusedSocket} once
 * the body is read: whether the request went out on a connection kept from an earlier one.
 */
function agentRequest(agent, url, { method = 'GET', token } = {}) {
  assert.equal(new URL(url).hostname, '127.0.0.1');
  return new Promise((resolve, reject) => {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const req = http.request(url, { method, headers, agent, timeout: STEP_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, reusedSocket: req.reusedSocket }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within ${STEP_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

// ====================================================================== admin API

describe('admin API (auth=jwt)', () => {
  test('no token: 401 with WWW-Authenticate; bad tokens and missing admin grant: 403', async (t) => {
    const server = await withManifold(t, JWT);
    const rooms = `${server.url}/api/v1/rooms`;
    const none = await httpRequest(rooms);
    assertHttpError(none, 401, 2001);
    assert.match(none.headers['www-authenticate'], /^Bearer/);
    assertHttpError(await httpRequest(rooms, { headers: { Authorization: 'Basic dXNlcjpwdw==' } }), 401, 2001);
    assertHttpError(await httpRequest(rooms, { token: 'garbage' }), 403, 2002);
    assertHttpError(await httpRequest(rooms, { token: token() }), 403, 2008); // join-only grants
    assertHttpError(await httpRequest(rooms, { token: token({ grants: { join: true, publish: true } }) }), 403, 2008);
    assertHttpError(await httpRequest(rooms, { token: token({ exp: nowSeconds() - 60, grants: { admin: true } }) }), 403, 2005);
    assertHttpError(await httpRequest(rooms, {
      token: signJwt({ sub: 'x', room: '*', exp: nowSeconds() + 60, grants: { admin: true } }, 'y'.repeat(40)),
    }), 403, 2003);
    // A token for one room administers that room only; the list spans rooms.
    assertHttpError(await httpRequest(rooms, { token: adminToken('lobby') }), 403, 2007);
    assertHttpError(await httpRequest(`${rooms}/other`, { token: adminToken('lobby') }), 403, 2007);
    assertHttpError(await httpRequest(`${rooms}/lobby`, { token: adminToken('lobby') }), 404, 1014);
  });

  test('list rooms, get one room, 404 for an unknown room', async (t) => {
    const server = await withManifold(t, JWT);
    const auth = { token: adminToken() };
    const room = freshRoom();
    let res = await httpRequest(`${server.url}/api/v1/rooms`, auth);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^application\/json/);
    assert.deepEqual(res.json, { rooms: [] });

    const alice = await openPeer(t, server, { room, join: { token: joinToken(room, 'alice'), name: 'Alice' } });
    const bob = await openPeer(t, server, { room, join: { token: joinToken(room, 'bob') } });
    const other = freshRoom();
    await openPeer(t, server, { room: other, join: { token: joinToken(other, 'carol') } });

    res = await httpRequest(`${server.url}/api/v1/rooms`, auth);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.rooms.map((r) => r.name).sort(), [room, other].sort());

    res = await httpRequest(`${server.url}/api/v1/rooms/${room}`, auth);
    assert.equal(res.status, 200);
    assert.equal(res.json.name, room);
    const byId = Object.fromEntries(res.json.participants.map((p) => [p.id, p]));
    assert.deepEqual(Object.keys(byId).sort(), [alice.joined.participantId, bob.joined.participantId].sort());
    assert.equal(byId[alice.joined.participantId].identity, 'alice');
    assert.equal(byId[alice.joined.participantId].name, 'Alice');
    assert.deepEqual(byId[bob.joined.participantId].tracks, []);

    assertHttpError(await httpRequest(`${server.url}/api/v1/rooms/no-such-room`, auth), 404, 1014);
    assertHttpError(await httpRequest(`${server.url}/api/v1/rooms/no-such-room`, { ...auth, method: 'DELETE' }), 404, 1014);
    assertHttpError(await httpRequest(`${server.url}/api/v1/rooms/${room}/participants/P-nobody`,
                                      { ...auth, method: 'DELETE' }), 404, 1011);
    assertHttpError(await httpRequest(`${server.url}/api/v2/rooms`, auth), 404, 1002);
    assertHttpError(await httpRequest(`${server.url}/api/v1/rooms/${room}/tracks`, auth), 404, 1002);
  });

  test('kick: the participant gets disconnect "kicked", the others participant-left "kicked"', async (t) => {
    const server = await withManifold(t, JWT);
    const room = freshRoom();
    const alice = await openPeer(t, server, { room, join: { token: joinToken(room, 'alice') } });
    const bob = await openPeer(t, server, { room, join: { token: joinToken(room, 'bob') } });
    const carol = await openPeer(t, server, { room, join: { token: joinToken(room, 'carol') } });

    const res = await httpRequest(`${server.url}/api/v1/rooms/${room}/participants/${bob.joined.participantId}`,
                                  { method: 'DELETE', token: adminToken(room) });
    assert.equal(res.status, 204, res.text);

    const disconnect = await bob.next('disconnect');
    assert.equal(disconnect.reason, 'kicked');
    assert.equal(typeof disconnect.message, 'string');
    const closed = await bob.waitClosed();
    assert.equal(closed.code, 1000);
    for (const peer of [alice, carol]) {
      const left = await peer.next('participant-left');
      assert.deepEqual(left, { type: 'participant-left', participantId: bob.joined.participantId, reason: 'kicked' });
      assert.ok(peer.isOpen);
    }
    const after = await httpRequest(`${server.url}/api/v1/rooms/${room}`, { token: adminToken() });
    assert.equal(after.json.participants.length, 2);
    // Kicking again: gone.
    assertHttpError(await httpRequest(`${server.url}/api/v1/rooms/${room}/participants/${bob.joined.participantId}`,
                                      { method: 'DELETE', token: adminToken() }), 404, 1011);
  });

  test('a 204 answer keeps the HTTP connection open for the next request', async (t) => {
    // libsoup closes the connection after a 204 unless the server works around it, and says
    // nothing: a client reusing the connection (Node's default agent does) then got
    // "socket hang up" on its next request, or, when the close came first, a new socket.
    const server = await withManifold(t, JWT);
    const room = freshRoom();
    await openPeer(t, server, { room, join: { token: joinToken(room, 'alice') } });
    const bob = await openPeer(t, server, { room, join: { token: joinToken(room, 'bob') } });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    const token = adminToken();
    const rooms = `${server.url}/api/v1/rooms`;

    assert.equal((await agentRequest(agent, rooms, { token })).status, 200);
    const kick = await agentRequest(agent, `${rooms}/${room}/participants/${bob.joined.participantId}`,
                                    { method: 'DELETE', token });
    assert.deepEqual(kick, { status: 204, reusedSocket: true });
    await sleep(100); // a server that closes after the 204 has done so by now
    assert.deepEqual(await agentRequest(agent, `${rooms}/${room}`, { token }), { status: 200, reusedSocket: true });
    assert.deepEqual(await agentRequest(agent, `${rooms}/${room}`, { method: 'DELETE', token }),
                     { status: 204, reusedSocket: true });
    await sleep(100);
    assert.deepEqual(await agentRequest(agent, rooms, { token }), { status: 200, reusedSocket: true });
  });

  test('close a room: everyone gets disconnect "room-closed"; the room is gone', async (t) => {
    const server = await withManifold(t, JWT);
    const room = freshRoom();
    const other = freshRoom();
    const peers = [];
    for (const who of ['alice', 'bob', 'carol']) {
      peers.push(await openPeer(t, server, { room, join: { token: joinToken(room, who) } }));
    }
    const bystander = await openPeer(t, server, { room: other, join: { token: joinToken(other, 'dave') } });

    const res = await httpRequest(`${server.url}/api/v1/rooms/${room}`, { method: 'DELETE', token: adminToken() });
    assert.equal(res.status, 204, res.text);
    for (const peer of peers) {
      const disconnect = await peer.next('disconnect');
      assert.equal(disconnect.reason, 'room-closed');
      assert.equal((await peer.waitClosed()).code, 1000);
      for (const left of peer.received.filter((m) => m.type === 'participant-left')) {
        assert.equal(left.reason, 'room-closed');
      }
    }
    assertHttpError(await httpRequest(`${server.url}/api/v1/rooms/${room}`, { token: adminToken() }), 404, 1014);
    assert.ok(bystander.isOpen, 'other rooms are not touched');
    assert.deepEqual(await bystander.call({ type: 'ping', id: 1 }), { type: 'pong', id: 1 });
    const list = await httpRequest(`${server.url}/api/v1/rooms`, { token: adminToken() });
    assert.deepEqual(list.json.rooms.map((r) => r.name), [other]);
  });

  test('wrong method: 405', async (t) => {
    const server = await withManifold(t, JWT);
    const room = freshRoom();
    await openPeer(t, server, { room, join: { token: joinToken(room, 'alice') } });
    const auth = { token: adminToken() };
    for (const [method, p] of [
      ['POST', '/api/v1/rooms'],
      ['DELETE', '/api/v1/rooms'],
      ['PUT', `/api/v1/rooms/${room}`],
      ['POST', `/api/v1/rooms/${room}`],
      ['GET', `/api/v1/rooms/${room}/participants/P1`],
      ['PATCH', `/api/v1/rooms/${room}/participants/P1`],
    ]) {
      const res = await httpRequest(`${server.url}${p}`, { ...auth, method });
      assert.equal(res.status, 405, `${method} ${p}: ${res.status} ${res.text}`);
      // Without a token the method is refused all the same (before authorization).
      const anonymous = await httpRequest(`${server.url}${p}`, { method });
      assert.equal(anonymous.status, 405, `${method} ${p} without a token`);
    }
    const post = await httpRequest(`${server.url}/`, { method: 'POST' });
    assert.equal(post.status, 405);
  });
});

describe('admin API (auth=webhook)', () => {
  test('the webhook decides admin calls (action "admin", the bearer token, no room for the list)',
       async (t) => {
    const hook = await startHookServer(t, (req, res, record) => {
      const allow = record.json?.action !== 'admin' || record.json?.token === 'ops-token';
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(allow ? { allow: true } : { allow: false, reason: 'not an operator' }));
    });
    const server = await withManifold(t, ['--auth', 'webhook', '--webhook-url', hook.url]);
    const room = freshRoom();
    await openPeer(t, server, { room, join: { token: 'anyone' } });

    const list = await httpRequest(`${server.url}/api/v1/rooms`, { token: 'ops-token' });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.json.rooms.map((r) => r.name), [room]);
    const asked = hook.requests.at(-1).json;
    assert.equal(asked.action, 'admin');
    assert.equal(asked.token, 'ops-token');
    assert.equal(asked.remoteAddress, '127.0.0.1');
    assert.equal('room' in asked, false, 'the list spans rooms: no room');

    const one = await httpRequest(`${server.url}/api/v1/rooms/${room}`, { token: 'ops-token' });
    assert.equal(one.status, 200);
    assert.equal(hook.requests.at(-1).json.room, room);

    const denied = await httpRequest(`${server.url}/api/v1/rooms`, { token: 'someone' });
    assertHttpError(denied, 403, 2009);
    assert.equal(denied.json.message, 'not an operator');
  });
});

// ====================================================================== events

describe('events', () => {
  test('--events-url receives room-created, participant-joined/left, room-closed as JSON', async (t) => {
    const hook = await startHookServer(t);
    const server = await withManifold(t, ['--auth', 'none', '--events-url', `${hook.url}/events`,
                                          '--events-token', 'ev-secret', '--room-empty-timeout', '0']);
    const room = freshRoom();
    const alice = await openPeer(t, server, { room, join: { name: 'Alice' } });
    const bob = await openPeer(t, server, { room, join: { name: 'Bob' } });
    await bob.call({ type: 'leave' });
    alice.close();
    await waitFor(() => hook.requests.some((r) => r.json?.event === 'room-closed'),
                  { what: 'the room-closed event' });

    for (const r of hook.requests) {
      assertEventEnvelope(r, { room, token: 'ev-secret' });
      assert.equal(typeof r.json.timeMs, 'number');
    }
    const events = hook.requests.map((r) => r.json);
    assert.deepEqual(events.map((e) => e.event), [
      'room-created', 'participant-joined', 'participant-joined',
      'participant-left', 'participant-left', 'room-closed',
    ], 'in order, one POST each');
    assert.equal(events[1].participant.id, alice.joined.participantId);
    assert.equal(events[1].participant.name, 'Alice');
    assert.equal(events[2].participant.id, bob.joined.participantId);
    assert.equal(events[3].participant.id, bob.joined.participantId);
    assert.equal(events[3].reason, 'left');
    assert.equal(events[4].participant.id, alice.joined.participantId);
    assert.equal(events[4].reason, 'disconnected');

    // The hook records a POST before it answers; the gateway counts a delivery when the
    // answer arrives, so the last one may still be on its way.
    const m = await waitFor(async () => {
      const now = await metrics(server);
      assert.equal(now.get('manifold_events_delivered_total'), 6); // on timeout, says what it was
      return now;
    }, { what: 'manifold_events_delivered_total to reach 6' });
    assert.equal(m.get('manifold_events_failed_total'), 0);
  });

  test('room-closed carries its reason: empty after the grace period, closed by an admin', async (t) => {
    const hook = await startHookServer(t);
    const server = await withManifold(t, ['--auth', 'none', '--events-url', hook.url, '--room-empty-timeout', '0']);
    const room = freshRoom();
    const alice = await openPeer(t, server, { room });
    await alice.call({ type: 'leave' });
    const closed = await waitFor(() => hook.requests.find((r) => r.json?.event === 'room-closed'),
                                 { what: 'the room-closed event' });
    assert.equal(closed.json.reason, 'empty', JSON.stringify(closed.json));
  });

  test('a failing events endpoint does not disturb signalling', async (t) => {
    const hook = await startHookServer(t, (req, res) => { res.writeHead(500); res.end(); });
    const server = await withManifold(t, ['--auth', 'none', '--events-url', hook.url]);
    const room = freshRoom();
    const alice = await openPeer(t, server, { room });
    await openPeer(t, server, { room });
    await alice.next('participant-joined');
    await waitFor(async () => (await metrics(server)).get('manifold_events_failed_total') >= 3,
                  { what: 'three failed events' });
  });
});

// ====================================================================== plain HTTP

describe('HTTP endpoints', () => {
  test('/healthz answers 200 "ok"', async (t) => {
    const server = await withManifold(t, ['--auth', 'none']);
    const res = await httpRequest(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(res.text.trim(), 'ok');
    assert.match(res.headers['content-type'], /^text\/plain/);
  });

  test('/metrics: gauges follow connections, rooms and participants; counters rise', async (t) => {
    const server = await withManifold(t, JWT);
    let m = await metrics(server);
    for (const name of ['manifold_connections', 'manifold_rooms', 'manifold_participants',
                        'manifold_messages_received_total']) {
      assert.ok(m.has(name), `${name} is exported`);
    }
    assert.equal(m.get('manifold_connections'), 0);
    assert.equal(m.get('manifold_rooms'), 0);
    assert.equal(m.get('manifold_participants'), 0);
    const received0 = m.get('manifold_messages_received_total');
    const deniedJoin0 = m.get('manifold_auth_denials_total{action="join"}');
    assert.equal(deniedJoin0, 0);

    const room = freshRoom();
    const alice = await openPeer(t, server, { room, join: { token: joinToken(room, 'alice') } });
    await openPeer(t, server, { room, join: { token: joinToken(room, 'bob') } });
    const loner = await openPeer(t, server);
    await loner.hello();
    const denied = await loner.call({ type: 'join', room });
    assert.equal(denied.code, 2001);
    const wrongRoom = await loner.call({ type: 'join', room, token: joinToken('elsewhere', 'x') });
    assert.equal(wrongRoom.code, 2007);
    await alice.call({ type: 'bogus', id: 99 });

    m = await metrics(server);
    assert.equal(m.get('manifold_connections'), 3);
    assert.equal(m.get('manifold_rooms'), 1);
    assert.equal(m.get('manifold_participants'), 2);
    assert.ok(m.get('manifold_messages_received_total') >= received0 + 8,
              `messages received: ${m.get('manifold_messages_received_total')}`);
    assert.equal(m.get('manifold_auth_denials_total{action="join"}'), deniedJoin0 + 2);
    assert.equal(m.get('manifold_errors_total{code="2001",reason="token-missing"}'), 1);
    assert.equal(m.get('manifold_errors_total{code="2007",reason="token-wrong-room"}'), 1);
    assert.equal(m.get('manifold_errors_total{code="1003",reason="unknown-type"}'), 1);

    alice.close();
    loner.close();
    await waitFor(async () => {
      const now = await metrics(server);
      return now.get('manifold_connections') === 1 && now.get('manifold_participants') === 1;
    }, { what: 'gauges to drop after two sockets closed' });
  });

  test('GET / serves the demo page (text/html), /lib/manifold.js is JavaScript; 404 and /ws', async (t) => {
    const server = await withManifold(t, ['--auth', 'none']);
    const page = await httpRequest(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /^text\/html/);
    assert.match(page.text, /<html/i);
    const index = await httpRequest(`${server.url}/index.html`);
    assert.equal(index.text, page.text);
    const lib = await httpRequest(`${server.url}/lib/manifold.js`);
    assert.equal(lib.status, 200);
    assert.match(lib.headers['content-type'], /^text\/javascript/);
    assert.match(lib.text, /ManifoldClient/);
    assert.equal((await httpRequest(`${server.url}/no/such/file.js`)).status, 404);
    assert.equal((await httpRequest(`${server.url}/../../etc/passwd`)).status, 404);
    assert.equal((await httpRequest(`${server.url}/ws`)).status, 400, 'plain GET on the WebSocket endpoint');
  });
});
