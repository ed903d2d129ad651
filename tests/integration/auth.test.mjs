// auth.test.mjs — authorization of joins (and publish) against the real gateway:
// --auth jwt (HS256 tokens signed here with node:crypto) and --auth webhook (a node HTTP
// server on 127.0.0.1 playing the authorization service).
//
//   node --test tests/integration/auth.test.mjs

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { withManifold } from './lib/server.mjs';
import {
  b64url, freshRoom, nowSeconds, openPeer, runManifold, signJwt, startHookServer, tempDir,
} from './lib/wire.mjs';

const SECRET = 'integration-test-secret-0123456789abcdef'; // 40 bytes
const jwtArgs = (secret = SECRET) => ['--auth', 'jwt', '--jwt-secret', secret];

/** A valid token for `room` (1 hour), with extra/overridden claims. */
function token(room, claims = {}, secret = SECRET, options) {
  return signJwt({ sub: 'user-1', room, exp: nowSeconds() + 3600, ...claims }, secret, options);
}

function assertError(message, { id, code, reason }) {
  assert.equal(message.type, 'error', `expected an error, got ${JSON.stringify(message)}`);
  assert.equal(message.code, code, `code of ${JSON.stringify(message)}`);
  if (reason !== undefined) assert.equal(message.reason, reason);
  if (id !== undefined) assert.equal(message.id, id);
  assert.ok(typeof message.message === 'string' && message.message.length > 0);
}

/** An authorized publish: `published`, or 4001 when the gateway has no media plane. */
function assertPublishAllowed(reply, id) {
  if (reply.type === 'error') assertError(reply, { id, code: 4001, reason: 'media-unavailable' });
  else assert.equal(reply.type, 'published', JSON.stringify(reply));
  assert.equal(reply.id, id);
}

// ====================================================================== jwt

describe('auth=jwt', () => {
  test('a valid token joins; identity is the sub, grants are the token\'s', async (t) => {
    const server = await withManifold(t, jwtArgs());
    assert.match(server.stdout(), /\(auth jwt\)/);
    const room = freshRoom();
    const grants = { join: true, publish: true, subscribe: true, record: false, admin: false };
    const alice = await openPeer(t, server, { room, join: { token: token(room, { sub: 'alice', grants }) } });
    assert.deepEqual(alice.joined.grants, grants);
    // A token without a grants claim gets join, publish and subscribe.
    const bob = await openPeer(t, server, { room, join: { token: token(room, { sub: 'bob' }) } });
    assert.deepEqual(bob.joined.grants, { join: true, publish: true, subscribe: true, record: false, admin: false });
    assert.equal(bob.joined.participants[0].identity, 'alice');
    assert.equal((await alice.next('participant-joined')).participant.identity, 'bob');
    // room "*" is good for any room; a future nbf within the leeway (5 s) is accepted.
    const carol = await openPeer(t, server, {
      room, join: { token: token('*', { sub: 'carol', nbf: nowSeconds() + 2 }) },
    });
    assert.equal(carol.joined.participants.length, 2);
  });

  test('join refusals: 2001 missing, 2002 malformed, 2003 signature, 2004 alg, 2005 expired, ' +
       '2006 not yet valid, 2007 wrong room, 2008 no join grant', async (t) => {
    const server = await withManifold(t, jwtArgs());
    const room = freshRoom();
    const now = nowSeconds();
    const cases = [
      ['no token', {}, 2001, 'token-missing'],
      ['empty token', { token: '' }, 2001, 'token-missing'],
      ['not a JWT', { token: 'abc' }, 2002, 'token-malformed'],
      ['two parts', { token: 'abc.def' }, 2002, 'token-malformed'],
      ['header not JSON', { token: `${b64url('nope')}.${b64url('{}')}.sig` }, 2002, 'token-malformed'],
      ['no sub', { token: signJwt({ room, exp: now + 60 }, SECRET) }, 2002, 'token-malformed'],
      ['no exp', { token: signJwt({ sub: 'u', room }, SECRET) }, 2002, 'token-malformed'],
      ['exp not a number', { token: token(room, { exp: 'soon' }) }, 2002, 'token-malformed'],
      ['grants not booleans', { token: token(room, { grants: { join: 1 } }) }, 2002, 'token-malformed'],
      ['other secret', { token: token(room, {}, 'another-secret-that-is-also-long-enough!') }, 2003, 'token-bad-signature'],
      ['tampered payload', {
        token: (() => {
          const [h, , s] = token(room).split('.');
          return `${h}.${b64url(JSON.stringify({ sub: 'admin', room: '*', exp: now + 60 }))}.${s}`;
        })(),
      }, 2003, 'token-bad-signature'],
      ['alg none', { token: signJwt({ sub: 'u', room, exp: now + 60 }, SECRET, { header: { alg: 'none', typ: 'JWT' }, signature: '' }) },
        2004, 'token-algorithm'],
      ['alg HS512', { token: signJwt({ sub: 'u', room, exp: now + 60 }, SECRET, { header: { alg: 'HS512', typ: 'JWT' } }) },
        2004, 'token-algorithm'],
      ['expired', { token: token(room, { exp: now - 60 }) }, 2005, 'token-expired'],
      ['not yet valid', { token: token(room, { nbf: now + 600 }) }, 2006, 'token-not-yet-valid'],
      ['wrong room', { token: token('some-other-room') }, 2007, 'token-wrong-room'],
      ['no join grant', { token: token(room, { grants: { subscribe: true } }) }, 2008, 'permission-denied'],
    ];
    const peer = await openPeer(t, server);
    await peer.hello();
    for (const [what, extra, code, reason] of cases) {
      const id = peer.nextId++;
      const reply = await peer.call({ type: 'join', id, room, ...extra });
      assert.equal(reply.type, 'error', `${what}: ${JSON.stringify(reply)}`);
      assert.equal(reply.code, code, `${what}: ${JSON.stringify(reply)}`);
      assert.equal(reply.reason, reason, what);
      assert.equal(reply.id, id, what);
    }
    // The same connection may still join with a good token.
    const joined = await peer.call({ type: 'join', room, token: token(room) });
    assert.equal(joined.type, 'joined', JSON.stringify(joined));
  });

  test('--jwt-leeway: exp/nbf tolerate that much clock skew, and no more', async (t) => {
    const lenient = await withManifold(t, jwtArgs()); // default leeway 5 s
    const strict = await withManifold(t, [...jwtArgs(), '--jwt-leeway', '0']);
    const room = freshRoom();
    const now = nowSeconds();
    const justExpired = token(room, { exp: now - 2 });
    const almostValid = token(room, { nbf: now + 2 });
    for (const tok of [justExpired, almostValid]) {
      const peer = await openPeer(t, lenient);
      assert.equal((await peer.join(room, { token: tok })).type, 'joined', 'within the 5 s leeway');
    }
    const peer = await openPeer(t, strict);
    await peer.hello();
    assertError(await peer.call({ type: 'join', room, token: justExpired }), { code: 2005 });
    assertError(await peer.call({ type: 'join', room, token: almostValid }), { code: 2006 });
    assert.equal((await peer.call({ type: 'join', room, token: token(room, { nbf: now - 1 }) })).type, 'joined');
  });

  test('a token without grants.publish: publish gets 2008 (with it: published, or 4001 without media)', async (t) => {
    const server = await withManifold(t, jwtArgs());
    const room = freshRoom();
    const viewer = await openPeer(t, server, {
      room, join: { token: token(room, { sub: 'viewer', grants: { join: true, subscribe: true } }) },
    });
    assert.equal(viewer.joined.grants.publish, false);
    assertError(await viewer.call({ type: 'publish', id: 7, kind: 'video' }), { id: 7, code: 2008, reason: 'permission-denied' });
    const speaker = await openPeer(t, server, {
      room, join: { token: token(room, { sub: 'speaker', grants: { join: true, publish: true } }) },
    });
    assertPublishAllowed(await speaker.call({ type: 'publish', id: 8, kind: 'audio' }), 8);
  });

  test('--jwt-secret-file works (trailing newline ignored)', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'secret');
    writeFileSync(file, `${SECRET}\n`, { mode: 0o600 });
    const server = await withManifold(t, ['--auth', 'jwt', '--jwt-secret-file', file]);
    const room = freshRoom();
    await openPeer(t, server, { room, join: { token: token(room) } });
    const other = await openPeer(t, server);
    await other.hello();
    assertError(await other.call({ type: 'join', room, token: token(room, {}, `${SECRET}\n`) }), { code: 2003 });
  });

  test('a secret shorter than 32 bytes, or none, exits 2 with one line naming the problem', async () => {
    for (const args of [
      ['--auth', 'jwt', '--jwt-secret', 'x'.repeat(31)],
      ['--auth', 'jwt'],
      ['--auth', 'jwt', '--jwt-secret-file', '/nonexistent/manifold-secret'],
    ]) {
      const run = await runManifold(['--port', '0', ...args], { killOn: /listening on/ });
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
      const lines = run.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line on stderr: ${run.stderr}`);
      assert.match(lines[0], /jwt-secret/);
      assert.doesNotMatch(run.stdout, /listening/);
    }
    // 32 bytes exactly is enough: it starts (and is stopped once it listens).
    const ok = await runManifold(['--port', '0', '--auth', 'jwt', '--jwt-secret', 'x'.repeat(32)],
                                 { killOn: /listening on/ });
    assert.match(ok.stdout, /listening on http:\/\/127\.0\.0\.1:\d+ \(auth jwt\)/, ok.stderr);
  });
});

// ====================================================================== webhook

/**
 * A webhook whose answer depends on the join token: "allow", "allow-viewer", "deny",
 * "fail500", "garbage", "hang" (never answers).
 */
async function startAuthHook(t) {
  const hanging = [];
  t.after(() => { for (const res of hanging) res.destroy(); });
  return startHookServer(t, (req, res, record) => {
    const json = (status, body) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const tok = record.json?.token ?? '';
    if (record.json?.action !== 'join') return json(200, { allow: true });
    switch (tok) {
      case 'allow':
        return json(200, { allow: true, identity: 'hooked-alice',
                           grants: { publish: true, subscribe: true, record: true, admin: false } });
      case 'allow-viewer':
        return json(200, { allow: true, identity: 'viewer', grants: { publish: false, subscribe: true } });
      case 'allow-bare':
        return json(200, { allow: true });
      case 'deny':
        return json(200, { allow: false, reason: 'you are banned from this room' });
      case 'allow-string':
        return json(200, { allow: 'true' });
      case 'fail500':
        return json(500, { allow: true });
      case 'garbage':
        return json(200, 'this is not json');
      case 'hang':
        hanging.push(res);
        return undefined;
      default:
        return json(200, { allow: false });
    }
  });
}

describe('auth=webhook', () => {
  test('allow: identity and grants from the hook; the hook gets action, room, token, remoteAddress',
       async (t) => {
    const hook = await startAuthHook(t);
    const server = await withManifold(t, ['--auth', 'webhook', '--webhook-url', `${hook.url}/authorize`,
                                          '--webhook-token', 'hook-secret']);
    assert.match(server.stdout(), /\(auth webhook\)/);
    const room = freshRoom();
    const alice = await openPeer(t, server, { room, join: { token: 'allow', name: 'Alice' } });
    assert.deepEqual(alice.joined.grants, { join: true, publish: true, subscribe: true, record: true, admin: false });

    assert.equal(hook.requests.length, 1);
    const request = hook.requests[0];
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/authorize');
    assert.match(request.headers['content-type'], /^application\/json/);
    assert.equal(request.headers.authorization, 'Bearer hook-secret');
    assert.equal(request.json.action, 'join');
    assert.equal(request.json.room, room);
    assert.equal(request.json.token, 'allow');
    assert.equal(request.json.remoteAddress, '127.0.0.1');

    const bob = await openPeer(t, server, { room, join: { token: 'allow-bare' } });
    assert.equal(bob.joined.participants[0].identity, 'hooked-alice', 'identity from the hook');
    assert.deepEqual(bob.joined.grants, { join: true, publish: true, subscribe: true, record: false, admin: false },
                     '{"allow":true} without grants: join, publish, subscribe');
    const pj = await alice.next('participant-joined');
    assert.equal(typeof pj.participant.identity, 'string');
    assert.ok(pj.participant.identity.length > 0);
  });

  test('publish: the join grants are checked first (2008), then the hook is asked', async (t) => {
    const hook = await startAuthHook(t);
    const server = await withManifold(t, ['--auth', 'webhook', '--webhook-url', hook.url]);
    const room = freshRoom();
    const viewer = await openPeer(t, server, { room, join: { token: 'allow-viewer' } });
    assert.equal(viewer.joined.grants.publish, false);
    const before = hook.requests.length;
    assertError(await viewer.call({ type: 'publish', id: 4, kind: 'audio' }), { id: 4, code: 2008 });
    assert.equal(hook.requests.length, before, 'no hook call for an action the grants already deny');

    const alice = await openPeer(t, server, { room, join: { token: 'allow' } });
    assertPublishAllowed(await alice.call({ type: 'publish', id: 5, kind: 'audio' }), 5);
    const asked = hook.requests.find((r) => r.json?.action === 'publish')?.json;
    assert.ok(asked, `the hook was asked about the publish: ${JSON.stringify(hook.requests.map((r) => r.json))}`);
    assert.equal(asked.room, room);
    assert.equal(asked.identity, 'hooked-alice');
    assert.equal(asked.participantId, alice.joined.participantId);
    assert.equal(asked.grants.publish, true);
  });

  test('deny: 2009 with the hook\'s reason; a non-boolean allow is 2010', async (t) => {
    const hook = await startAuthHook(t);
    const server = await withManifold(t, ['--auth', 'webhook', '--webhook-url', hook.url]);
    const room = freshRoom();
    const peer = await openPeer(t, server);
    await peer.hello();
    const denied = await peer.call({ type: 'join', id: 3, room, token: 'deny' });
    assertError(denied, { id: 3, code: 2009, reason: 'webhook-denied' });
    assert.equal(denied.message, 'you are banned from this room');
    const plain = await peer.call({ type: 'join', id: 4, room, token: 'whoever' });
    assertError(plain, { id: 4, code: 2009 });
    // PROTOCOL.md: allow missing or not a boolean ("true" included) is 2010, fail closed.
    assertError(await peer.call({ type: 'join', id: 5, room, token: 'allow-string' }), { id: 5, code: 2010 });
    assert.equal((await peer.call({ type: 'join', room, token: 'allow' })).type, 'joined');
  });

  test('hook failures: HTTP 500, garbage, no answer, unreachable -> 2010', async (t) => {
    const hook = await startAuthHook(t);
    const server = await withManifold(t, ['--auth', 'webhook', '--webhook-url', hook.url,
                                          '--webhook-timeout-ms', '300']);
    const room = freshRoom();
    const peer = await openPeer(t, server);
    await peer.hello();
    for (const tok of ['fail500', 'garbage']) {
      assertError(await peer.call({ type: 'join', room, token: tok }), { code: 2010, reason: 'webhook-unavailable' });
    }
    const started = Date.now();
    assertError(await peer.call({ type: 'join', id: 60, room, token: 'hang' }), { id: 60, code: 2010 });
    const waited = Date.now() - started;
    assert.ok(waited >= 250 && waited < 2500, `timed out after ${waited} ms (webhook-timeout-ms 300)`);
    assert.equal((await peer.call({ type: 'join', room, token: 'allow' })).type, 'joined',
                 'the hook answering again allows again');

    // A hook that is not listening at all.
    const gone = await startHookServer(t);
    const goneUrl = gone.url;
    await gone.close();
    const server2 = await withManifold(t, ['--auth', 'webhook', '--webhook-url', goneUrl,
                                           '--webhook-timeout-ms', '500']);
    const peer2 = await openPeer(t, server2);
    await peer2.hello();
    assertError(await peer2.call({ type: 'join', room, token: 'allow' }), { code: 2010 });
  });

  test('more than 64 requests queued behind a pending join: 1013 busy (no id), the rest in order',
       async (t) => {
    const hook = await startHookServer(t, (req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"allow":true}');
      }, 300);
    });
    const server = await withManifold(t, ['--auth', 'webhook', '--webhook-url', hook.url]);
    const peer = await openPeer(t, server);
    await peer.hello();
    peer.send({ type: 'join', id: 100, room: freshRoom(), token: 't' });
    for (let i = 0; i < 70; i++) peer.send({ type: 'ping', id: i });
    const busy = [];
    for (let i = 0; i < 6; i++) busy.push(await peer.next());
    for (const e of busy) assertError(e, { code: 1013, reason: 'busy' });
    assert.ok(busy.every((e) => !('id' in e)), 'dropped frames are not read: no id (PROTOCOL.md wire rules)');
    assert.equal((await peer.next()).type, 'joined');
    for (let i = 0; i < 64; i++) assert.deepEqual(await peer.next(), { type: 'pong', id: i });
    await peer.expectSilence(100);
  });

  test('while the hook decides, later requests wait their turn and are answered in order', async (t) => {
    let release;
    const gate = new Promise((resolve) => { release = resolve; });
    const hook = await startHookServer(t, async (req, res) => {
      await gate;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"allow":true}');
    });
    const server = await withManifold(t, ['--auth', 'webhook', '--webhook-url', hook.url]);
    const peer = await openPeer(t, server);
    await peer.hello();
    peer.send({ type: 'join', id: 1, room: freshRoom(), token: 't' });
    peer.send({ type: 'ping', id: 2 });
    await peer.expectSilence(150);
    release();
    assert.equal((await peer.next()).type, 'joined');
    assert.deepEqual(await peer.next(), { type: 'pong', id: 2 });
  });
});
