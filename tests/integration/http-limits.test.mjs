// http-limits.test.mjs — the HTTP port against slow, idle, greedy and malformed clients
// (issue 10 item 6), over raw TCP and TLS sockets to the real gateway binary: the
// http-header-timeout, http-body-timeout, http-idle-timeout, max-connections and
// max-connections-per-address options, the answers to requests libsoup cannot answer
// itself (400, 413, 414, 431), and the counters of all that in /metrics.
//
//   node --test tests/integration/http-limits.test.mjs
//
// Timeouts are set to 1-3 s so the file runs in seconds. A timing assertion has a lower
// bound only where the timer itself is the point (a connection must not be closed before
// its timeout) and otherwise generous upper bounds, so a slow machine cannot fail it.
//
// Network rule: every socket goes to 127.0.0.1 (the per-address tests connect *from*
// 127.0.0.2, also on loopback).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';

import { startManifold } from './lib/server.mjs';
import { openPeer, runManifold, startManifoldAnyScheme, tempDir, waitFor } from './lib/wire.mjs';

const SLACK_MS = 10000;   // upper bound on top of a timeout: generous, never the point of a test
const EARLY_MS = 150;     // a timer may fire this much "early" as seen from the client

/**
 * A raw connection to 127.0.0.1:port. `data()` is everything received (latin1), `closed`
 * resolves with the milliseconds from `connected` to the close.
 */
async function rawConnect(port, { secure = false, localAddress } = {}) {
  const socket = secure
    ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, localAddress, ALPNProtocols: ['http/1.1'] })
    : net.connect({ host: '127.0.0.1', port, localAddress });
  let received = '';
  let error = null;
  socket.on('data', (chunk) => { received += chunk.toString('latin1'); });
  socket.on('error', (e) => { error = e; });
  await new Promise((resolve, reject) => {
    socket.once(secure ? 'secureConnect' : 'connect', resolve);
    socket.once('error', reject);
  });
  const connectedAt = Date.now();
  const closed = new Promise((resolve) => socket.once('close', () => resolve(Date.now() - connectedAt)));
  return {
    socket,
    connectedAt,
    closed,
    data: () => received,
    error: () => error,
    write: (bytes) => new Promise((resolve) => socket.write(bytes, () => resolve())),
    isOpen: () => !socket.destroyed && socket.readyState === 'open',
  };
}

/** Resolves with the close time, or fails when the connection is still open after `ms`. */
async function closedWithin(conn, ms, what) {
  let timer;
  const elapsed = await Promise.race([
    conn.closed,
    new Promise((resolve) => { timer = setTimeout(() => resolve(null), ms); }),
  ]);
  clearTimeout(timer);
  assert.notEqual(elapsed, null, `${what}: still open after ${ms} ms; received ${JSON.stringify(conn.data().slice(0, 200))}`);
  return elapsed;
}

/** One request on its own connection, "Connection: close"; resolves with the raw answer. */
async function rawRequest(port, request, opts = {}) {
  const conn = await rawConnect(port, opts);
  await conn.write(request);
  await closedWithin(conn, SLACK_MS, `answer to ${JSON.stringify(request.slice(0, 60))}`);
  return conn.data();
}

const statusOf = (answer) => Number(/^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1] ?? 0);

/** /metrics as Map "name{labels}" -> number, over a connection that does not stay open. */
async function metrics(port, opts) {
  const answer = await rawRequest(port, 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', opts);
  assert.equal(statusOf(answer), 200, answer.slice(0, 200));
  const values = new Map();
  for (const line of answer.slice(answer.indexOf('\r\n\r\n') + 4).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

/** Runs `action`, then returns by how much each listed counter grew. */
async function counted(port, names, action, opts) {
  const before = await metrics(port, opts);
  await action();
  const after = await metrics(port, opts);
  return Object.fromEntries(names.map((n) => [n, (after.get(n) ?? NaN) - (before.get(n) ?? NaN)]));
}

const GET = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

function makeCert(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'pipe' });
  return { cert, key };
}

// ====================================================================== timeouts

describe('timeouts close half-open connections', () => {
  const HEADER_S = 1;
  const BODY_S = 2;
  const IDLE_S = 2;
  let server;
  before(async () => {
    server = await startManifold(['--auth', 'none', '--http-header-timeout', String(HEADER_S),
                                  '--http-body-timeout', String(BODY_S), '--http-idle-timeout', String(IDLE_S)]);
  });
  after(() => server?.stop('SIGKILL'));

  test('a bare TCP connection is closed after the header timeout, not before', async () => {
    const delta = await counted(server.port, ['manifold_http_timeouts_total{phase="header"}'], async () => {
      const conn = await rawConnect(server.port);
      const elapsed = await closedWithin(conn, HEADER_S * 1000 + SLACK_MS, 'bare TCP');
      assert.ok(elapsed >= HEADER_S * 1000 - EARLY_MS, `closed after ${elapsed} ms, before the ${HEADER_S} s timeout`);
      assert.equal(conn.data(), '');
    });
    assert.equal(delta['manifold_http_timeouts_total{phase="header"}'], 1);
  });

  test('headers dripped a line every 200 ms are cut off at the header timeout', async () => {
    const conn = await rawConnect(server.port);
    await conn.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const drip = setInterval(() => { if (conn.isOpen()) conn.socket.write('X-Drip: 1\r\n'); }, 200);
    try {
      const elapsed = await closedWithin(conn, HEADER_S * 1000 + SLACK_MS, 'dripped headers');
      assert.ok(elapsed >= HEADER_S * 1000 - EARLY_MS, `closed after ${elapsed} ms`);
      assert.equal(conn.data(), '', 'no answer to an unfinished request');
    } finally {
      clearInterval(drip);
    }
  });

  test('a partial WebSocket upgrade is closed after the header timeout', async () => {
    const conn = await rawConnect(server.port);
    await conn.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n');
    const elapsed = await closedWithin(conn, HEADER_S * 1000 + SLACK_MS, 'partial upgrade');
    assert.ok(elapsed >= HEADER_S * 1000 - EARLY_MS, `closed after ${elapsed} ms`);
  });

  test('a partial POST body is closed after the body timeout', async () => {
    const delta = await counted(server.port, ['manifold_http_timeouts_total{phase="body"}'], async () => {
      const conn = await rawConnect(server.port);
      await conn.write('POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n0123456789');
      const sentAt = Date.now();
      await closedWithin(conn, BODY_S * 1000 + SLACK_MS, 'partial body');
      const sinceHead = Date.now() - sentAt;
      assert.ok(sinceHead >= BODY_S * 1000 - EARLY_MS, `closed ${sinceHead} ms after the head`);
      assert.equal(conn.data(), '');
    });
    assert.equal(delta['manifold_http_timeouts_total{phase="body"}'], 1);
  });

  test('a kept-alive connection answers again, then is closed after the idle timeout', async () => {
    const delta = await counted(server.port, ['manifold_http_timeouts_total{phase="idle"}'], async () => {
      const conn = await rawConnect(server.port);
      for (let i = 1; i <= 2; i++) { // keep-alive still works: two answers on one connection
        await conn.write(GET);
        await waitFor(() => conn.data().split('HTTP/1.1 200 OK').length === i + 1, { what: `answer ${i}` });
      }
      const answeredAt = Date.now();
      await closedWithin(conn, IDLE_S * 1000 + SLACK_MS, 'idle keep-alive');
      const idle = Date.now() - answeredAt;
      assert.ok(idle >= IDLE_S * 1000 - EARLY_MS, `closed after ${idle} ms idle`);
    });
    assert.equal(delta['manifold_http_timeouts_total{phase="idle"}'], 1);
  });

  test('a kept-alive connection the client closes or resets is released at once, not by the idle timer', async () => {
    const idle = 'manifold_http_timeouts_total{phase="idle"}';
    const delta = await counted(server.port, [idle, 'manifold_http_connections'], async () => {
      for (const how of ['end', 'reset']) {
        const conn = await rawConnect(server.port);
        await conn.write(GET);
        await waitFor(() => conn.data().includes('\r\n\r\nok\n'), { what: 'answer' });
        if (how === 'end') conn.socket.end(); else conn.socket.resetAndDestroy();
        await conn.closed;
      }
      // libsoup 3.2 alone kept such a connection until the process ended.
      await waitFor(async () => (await metrics(server.port)).get('manifold_http_connections') === 1,
                    { timeoutMs: SLACK_MS, what: 'both released' });
    });
    assert.equal(delta[idle], 0, 'released before the idle timer');
    assert.equal(delta['manifold_http_connections'], 0);
  });

  test('a WebSocket outlives every HTTP timeout (its own join/idle timeouts apply)', async (t) => {
    const peer = await openPeer(t, server);
    await peer.hello();
    await new Promise((resolve) => setTimeout(resolve, (Math.max(HEADER_S, BODY_S, IDLE_S) + 1) * 1000));
    assert.equal((await peer.call({ type: 'ping' })).type, 'pong');
  });

  test('/metrics counts the open connections; the gateway exits cleanly (no leak, no sanitizer report)', async () => {
    const values = await metrics(server.port);
    assert.ok(values.get('manifold_http_connections') >= 1, 'the /metrics connection itself');
    assert.ok(values.get('manifold_http_connections_accepted_total') >= 10);
    assert.equal(await server.stop('SIGTERM'), 0, server.stderr());
  });
});

// ====================================================================== requests libsoup cannot answer

describe('requests answered with an error instead of held or reset', () => {
  let server;
  before(async () => {
    // A long header timeout: every answer below must come long before it.
    server = await startManifold(['--auth', 'none', '--http-header-timeout', '60', '--http-body-timeout', '60']);
  });
  after(() => server?.stop('SIGKILL'));

  const answeredWith = async (status, request, what) => {
    const label = `manifold_http_requests_refused_total{status="${status}"}`;
    let answer;
    const delta = await counted(server.port, [label], async () => {
      answer = await rawRequest(server.port, request);
    });
    assert.equal(statusOf(answer), status, `${what}: ${JSON.stringify(answer.slice(0, 300))}`);
    assert.match(answer, /\r\nConnection: close\r\n/i, what);
    assert.equal(delta[label], 1, `${what}: counted`);
    return answer;
  };

  test('two different Content-Length headers (3 and 30): 400 (RFC 9112 6.3)', async () => {
    await answeredWith(400, 'POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc',
                       'duplicate Content-Length');
    // The same in one field, as a list.
    await answeredWith(400, 'POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3, 30\r\n\r\nabc', 'list');
  });

  test('Content-Length: -1 is 400, not a body waited for', async () => {
    await answeredWith(400, 'POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n', 'negative');
  });

  test('Content-Length next to Transfer-Encoding is 400, an unknown transfer coding 501, a body over 64 KiB 413',
       async () => {
    await answeredWith(400, 'POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n' +
                            'Content-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 'both framings');
    await answeredWith(501, 'POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip\r\n\r\n', 'gzip');
    await answeredWith(413, 'POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n', 'declared');
    const chunk = 'x'.repeat(40000);
    await answeredWith(413, `POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n` +
                            `${chunk.length.toString(16)}\r\n${chunk}\r\n${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`,
                       'chunked');
  });

  test('4 KB of binary junk is answered 400 at once', async () => {
    const junk = Buffer.alloc(4096);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919 + 13) % 256;
    const started = Date.now();
    await answeredWith(400, junk, 'junk');
    assert.ok(Date.now() - started < SLACK_MS);
  });

  test('a 100 KB URL is 414, a 100 KB header is 431 (libsoup alone reset the connection)', async () => {
    await answeredWith(414, `GET /${'a'.repeat(100000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, 'long URL');
    await answeredWith(431, `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'b'.repeat(100000)}\r\n\r\n`, 'long header');
    // Below the limits (8 KiB request line, 32 KiB of header fields) libsoup answers as usual.
    assert.equal(statusOf(await rawRequest(server.port, `GET /${'a'.repeat(8000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
                                                        `X-Big: ${'b'.repeat(30000)}\r\nConnection: close\r\n\r\n`)), 404);
  });

  test('the second request of a kept-alive connection is checked too', async () => {
    const conn = await rawConnect(server.port);
    await conn.write(GET);
    await waitFor(() => conn.data().includes('\r\n\r\nok\n'), { what: 'first answer' });
    await conn.write(`GET /${'a'.repeat(20000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await closedWithin(conn, SLACK_MS, 'second request');
    assert.match(conn.data(), /\r\n\r\nok\nHTTP\/1\.1 414 URI Too Long\r\n/);
  });

  test('the server still answers, and exits cleanly', async () => {
    assert.equal(statusOf(await rawRequest(server.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')), 200);
    assert.equal(await server.stop('SIGTERM'), 0, server.stderr());
  });
});

// ====================================================================== connection caps

describe('max-connections and max-connections-per-address', () => {
  const PER_ADDRESS = 2;
  const TOTAL = 3;
  let server;
  before(async () => {
    server = await startManifold(['--auth', 'none', '--http-header-timeout', '60',
                                  '--max-connections', String(TOTAL), '--max-connections-per-address', String(PER_ADDRESS)]);
  });
  after(() => server?.stop('SIGKILL'));

  /** Waits until the gateway holds no connection but the /metrics one asking. */
  const settled = () => waitFor(async () => (await metrics(server.port).catch(() => new Map()))
    .get('manifold_http_connections') === 1, { timeoutMs: SLACK_MS, intervalMs: 100, what: 'connections closed' });

  test('one address beyond its cap is closed at once; the others still answer; a freed slot is reused', async (t) => {
    await settled();
    const held = [];
    t.after(() => held.forEach((c) => c.socket.destroy()));
    for (let i = 0; i < PER_ADDRESS; i++) held.push(await rawConnect(server.port));
    const extra = await rawConnect(server.port);
    const elapsed = await closedWithin(extra, SLACK_MS, 'connection over the per-address cap');
    assert.ok(elapsed < 60000, 'closed long before the header timeout');
    assert.equal(extra.data(), '');
    // Another address is still welcome, and the held ones work.
    assert.equal(statusOf(await rawRequest(server.port, `${GET.slice(0, -2)}Connection: close\r\n\r\n`,
                                           { localAddress: '127.0.0.2' })), 200);
    await held[0].write(GET);
    await waitFor(() => held[0].data().startsWith('HTTP/1.1 200 OK'), { what: 'held connection answers' });
    // Free one: a new connection from the same address gets in again.
    held.shift().socket.destroy();
    await waitFor(async () => {
      const conn = await rawConnect(server.port);
      held.push(conn);
      await conn.write(GET);
      return await Promise.race([
        waitFor(() => conn.data().startsWith('HTTP/1.1 200'), { timeoutMs: 2000 }).then(() => true, () => false),
        conn.closed.then(() => false),
      ]);
    }, { timeoutMs: SLACK_MS, intervalMs: 100, what: 'a freed slot' });
  });

  test('beyond max-connections every address is closed at once, WebSockets counted', async (t) => {
    await settled();
    const held = [];
    t.after(() => held.forEach((c) => c.socket.destroy()));
    const peer = await openPeer(t, server); // a WebSocket holds a descriptor like any connection
    await peer.hello();
    held.push(await rawConnect(server.port, { localAddress: '127.0.0.2' }));
    held.push(await rawConnect(server.port, { localAddress: '127.0.0.3' }));
    const before = Date.now();
    const extra = await rawConnect(server.port, { localAddress: '127.0.0.4' });
    await closedWithin(extra, SLACK_MS, 'connection over max-connections');
    assert.ok(Date.now() - before < 60000);
    assert.equal((await peer.call({ type: 'ping' })).type, 'pong');
  });

  test('both refusals are counted', async () => {
    await settled();
    const values = await metrics(server.port);
    assert.ok(values.get('manifold_http_connections_refused_total{limit="max-connections-per-address"}') >= 1);
    assert.ok(values.get('manifold_http_connections_refused_total{limit="max-connections"}') >= 1);
  });
});

// ====================================================================== TLS

describe('TLS: the handshake and the request head share the header timeout', () => {
  const HEADER_S = 3; // room for a TLS handshake in a sanitized build on a busy machine
  let server;
  const cleanups = [];
  before(async () => {
    const hooks = { after: (fn) => cleanups.push(fn) }; // what tempDir and startManifoldAnyScheme expect of a test
    const { cert, key } = makeCert(tempDir(hooks));
    server = await startManifoldAnyScheme(hooks, ['--auth', 'none', '--tls-cert', cert, '--tls-key', key,
                                                  '--http-header-timeout', String(HEADER_S)]);
    assert.match(server.url, /^https:/);
  });
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  test('a bare TCP connection to the TLS port (no ClientHello) is closed after the header timeout', async () => {
    const conn = await rawConnect(server.port);
    const elapsed = await closedWithin(conn, HEADER_S * 1000 + SLACK_MS, 'bare TCP on TLS');
    assert.ok(elapsed >= HEADER_S * 1000 - EARLY_MS, `closed after ${elapsed} ms`);
  });

  test('after the handshake, a dripped head is closed after the header timeout', async () => {
    const conn = await rawConnect(server.port, { secure: true });
    await conn.write('GET /healthz HTTP/1.1\r\n');
    const drip = setInterval(() => { if (conn.isOpen()) conn.socket.write('X-Drip: 1\r\n'); }, 200);
    try {
      // The timer started at accept, before the handshake the client measures from.
      await closedWithin(conn, HEADER_S * 1000 + SLACK_MS, 'dripped head over TLS');
      assert.equal(conn.data(), '');
    } finally {
      clearInterval(drip);
    }
  });

  test('a request works, and a long URL is 414 over TLS too', async () => {
    assert.equal(statusOf(await rawRequest(server.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
                                           { secure: true })), 200);
    const answer = await rawRequest(server.port, `GET /${'a'.repeat(100000)} HTTP/1.1\r\nHost: x\r\n\r\n`, { secure: true });
    assert.equal(statusOf(answer), 414, answer.slice(0, 200));
    const values = await metrics(server.port, { secure: true });
    assert.ok(values.get('manifold_http_timeouts_total{phase="header"}') >= 2);
    assert.equal(await server.stop('SIGTERM'), 0);
  });
});

// ====================================================================== option values

describe('option values', () => {
  test('out-of-range values exit 2 naming the option', async () => {
    const cases = [
      [['--http-header-timeout', '0'], /http-header-timeout/],
      [['--http-body-timeout', '3601'], /http-body-timeout/],
      [['--http-idle-timeout', 'x'], /http-idle-timeout/],
      [['--max-connections', '0'], /max-connections/],
      [['--max-connections', '10', '--max-connections-per-address', '11'], /max-connections-per-address/],
    ];
    for (const [args, pattern] of cases) {
      const run = await runManifold(['--port', '0', ...args], { killOn: /listening on/, timeoutMs: 20000 });
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, pattern);
    }
  });
});
