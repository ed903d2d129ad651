// cli.test.mjs — the gateway binary as a program: command line, --config files, TLS and
// shutdown on SIGTERM/SIGINT.
//
//   node --test tests/integration/cli.test.mjs

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { repoRoot, startManifold, withManifold } from './lib/server.mjs';
import {
  freshRoom, httpRequest, openPeer, runManifold, startManifoldAnyScheme, tempDir, waitFor, within,
} from './lib/wire.mjs';

/** The run exited 2 with exactly one stderr line matching `pattern`, and printed nothing else. */
function assertUsageError(run, pattern, what) {
  assert.equal(run.timedOut, false, `${what}: still running (it should have refused to start)`);
  assert.equal(run.status, 2, `${what}: exit status ${run.status}, stderr: ${run.stderr}`);
  const lines = run.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `${what}: one line on stderr, got: ${JSON.stringify(run.stderr)}`);
  assert.match(lines[0], /^manifold: /, what);
  assert.match(lines[0], pattern, `${what}: the line names the option: ${lines[0]}`);
  assert.equal(run.stdout, '', `${what}: nothing on stdout`);
}

// ====================================================================== command line

describe('command line', () => {
  test('--help and --version exit 0', async () => {
    const help = await runManifold(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: manifold/);
    for (const option of ['--config', '--port', '--auth', '--jwt-secret', '--jwt-secret-file', '--webhook-url',
                          '--webhook-timeout-ms', '--events-url', '--tls-cert', '--tls-key', '--max-rooms',
                          '--max-participants', '--max-message-size', '--max-message-rate',
                          '--room-empty-timeout', '--join-timeout']) {
      assert.ok(help.stdout.includes(option), `--help lists ${option}`);
    }
    assert.equal((await runManifold(['-h'])).status, 0);

    const version = await runManifold(['--version']);
    assert.equal(version.status, 0);
    assert.match(version.stdout, /^manifold \d+\.\d+\.\d+\S*\n$/);
    assert.equal(version.stderr, '');
  });

  test('a bad option or value exits 2 with one line on stderr naming the option', async () => {
    const cases = [
      [['--bogus'], /bogus/],
      [['--port'], /port/],
      [['--port', 'abc'], /port/],
      [['--port', '70000'], /port/],
      [['--port', '1', '--port', '2'], /port/],
      [['--max-rooms', '0'], /max-rooms/],
      [['--max-participants', '0'], /max-participants/],
      [['--max-tracks', '65'], /max-tracks/],
      [['--max-message-size', '10'], /max-message-size/],
      [['--max-message-rate', '0'], /max-message-rate/],
      [['--join-timeout', '0'], /join-timeout/],
      [['--room-empty-timeout', '-1'], /room-empty-timeout/],
      [['--webhook-timeout-ms', '0'], /webhook-timeout-ms/],
      [['--auth', 'magic'], /auth/],
      [['--auth', 'webhook'], /webhook-url/],
      [['--auth', 'webhook', '--webhook-url', 'ftp://127.0.0.1/x'], /webhook-url/],
      [['--events-url', 'not-a-url'], /events-url/],
      [['--log-level', 'loud'], /log-level/],
      [['--address', 'localhost'], /address/],
      [['--tls-cert', 'cert.pem'], /tls-cert/],
      [['--stun-server', 'http://127.0.0.1'], /stun-server/],
      [['--auth', 'jwt', '--jwt-secret', 'x'.repeat(40), '--jwt-secret-file', 'secret.txt'], /jwt-secret/],
      [['--jwt-leeway', '-1'], /jwt-leeway/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runManifold(['--port', '0', ...args],
                                                                     { killOn: /listening on/ })));
    cases.forEach(([args, pattern], i) => assertUsageError(runs[i], pattern, args.join(' ')));
  });

  test('a negative --max-rooms / --max-participants is refused (exit 2)', async () => {
    for (const option of ['--max-rooms', '--max-participants']) {
      const run = await runManifold(['--port', '0', '--auth', 'none', option, '-1'], { timeoutMs: 3000, killOn: /listening on/ });
      assertUsageError(run, new RegExp(option.slice(2)), `${option} -1`);
    }
  });

  test('a stray positional argument is refused (exit 2), not silently ignored', async () => {
    const run = await runManifold(['--port', '0', '--auth', 'none', 'stray'], { timeoutMs: 3000, killOn: /listening on/ });
    assertUsageError(run, /stray/, 'manifold stray');
  });
});

// ====================================================================== config files

describe('--config', () => {
  test('INI keys apply, and the command line overrides the file', async (t) => {
    const dir = tempDir(t);
    const conf = path.join(dir, 'manifold.conf');
    writeFileSync(conf, [
      '# a comment',
      'auth = jwt',
      'jwt-secret = config-file-secret-0123456789abcdef!',
      'max-participants = 1',
      `recording-dir = ${path.join(dir, 'rec')}`,
      '',
    ].join('\n'));

    // From the file alone: jwt, one participant per room.
    const fromFile = await withManifold(t, ['--config', conf]);
    assert.match(fromFile.stdout(), /\(auth jwt\)/);
    assert.ok(existsSync(path.join(dir, 'rec')), 'recording-dir from the file was created');
    const noToken = await openPeer(t, fromFile);
    await noToken.hello();
    assert.equal((await noToken.call({ type: 'join', room: 'r' })).code, 2001, 'auth=jwt from the file');

    // The command line wins: auth none, two participants.
    const overridden = await withManifold(t, ['--config', conf, '--auth', 'none', '--max-participants', '2']);
    assert.match(overridden.stdout(), /\(auth none\)/);
    const room = freshRoom();
    await openPeer(t, overridden, { room });
    await openPeer(t, overridden, { room });
    const third = await openPeer(t, overridden);
    assert.equal((await third.join(room)).code, 3001, 'max-participants 2 from the command line');

    // The file's max-participants = 1 applies when the command line does not say.
    const partly = await withManifold(t, ['-c', conf, '--auth', 'none']);
    const room2 = freshRoom();
    await openPeer(t, partly, { room: room2 });
    const second = await openPeer(t, partly);
    assert.equal((await second.join(room2)).code, 3001, 'max-participants 1 from the file');
  });

  test('an unknown key, a bad value or an unreadable file exits 2 naming it', async (t) => {
    const dir = tempDir(t);
    const write = (name, text) => {
      const file = path.join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    const cases = [
      [write('unknown.conf', 'auth = none\nfrobnicate = yes\n'), /frobnicate/],
      [write('value.conf', 'auth = none\nmax-rooms = lots\n'), /max-rooms/],
      [write('range.conf', 'auth = none\nmax-tracks = 99\n'), /max-tracks/],
      [path.join(dir, 'missing.conf'), /missing\.conf/],
    ];
    const runs = await Promise.all(cases.map(([file]) => runManifold(['--port', '0', '--config', file],
                                                                     { killOn: /listening on/ })));
    cases.forEach(([file, pattern], i) => assertUsageError(runs[i], pattern, path.basename(file)));
  });

  const example = path.join(repoRoot, 'examples/manifold.conf');
  test('examples/manifold.conf is accepted as-is', { skip: !existsSync(example) && 'no examples/manifold.conf' },
       async (t) => {
    const dir = tempDir(t);
    // The file's port (8443) is overridden by --port 0; recording-dir by a temp dir so the
    // run leaves nothing behind.
    const server = await withManifold(t, ['--config', example, '--recording-dir', path.join(dir, 'rec')]);
    assert.match(server.stdout(), /listening on http:\/\/127\.0\.0\.1:\d+ \(auth \w+\)/);
    const res = await httpRequest(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    const peer = await openPeer(t, server);
    const welcome = await peer.hello();
    assert.equal(welcome.version, 1);
  });
});

// ====================================================================== TLS

describe('TLS', () => {
  function makeCert(dir) {
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1',
    ], { stdio: 'pipe' });
    return { cert, key };
  }

  test('--tls-cert/--tls-key: wss:// signalling and https:// /healthz', async (t) => {
    const dir = tempDir(t);
    const { cert, key } = makeCert(dir);
    const server = await startManifoldAnyScheme(t, ['--auth', 'none', '--tls-cert', cert, '--tls-key', key]);
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(server.wsUrl, /^wss:/);

    const res = await httpRequest(`${server.url}/healthz`, { tls: { rejectUnauthorized: false } });
    assert.equal(res.status, 200);
    assert.equal(res.text.trim(), 'ok');

    const room = freshRoom();
    const alice = await openPeer(t, server, { room, wsOptions: { rejectUnauthorized: false } });
    const bob = await openPeer(t, server, { room, wsOptions: { rejectUnauthorized: false } });
    assert.equal(bob.joined.participants[0].id, alice.joined.participantId);
    assert.equal((await alice.next('participant-joined')).participant.id, bob.joined.participantId);

    // The certificate is the one we gave it, and plain http:// is not served on that port.
    const pinned = await httpRequest(`${server.url}/healthz`, { tls: { ca: execFileSync('cat', [cert]) } });
    assert.equal(pinned.status, 200);
    await assert.rejects(httpRequest(`http://127.0.0.1:${server.port}/healthz`, { timeoutMs: 1000 }));
  });

  test('a missing key file exits 2; an unusable key exits non-zero without listening', async (t) => {
    const dir = tempDir(t);
    const { cert, key } = makeCert(dir);
    const missing = await runManifold(['--port', '0', '--auth', 'none', '--tls-cert', cert,
                                       '--tls-key', path.join(dir, 'nope.pem')]);
    assertUsageError(missing, /tls-key/, 'missing key');
    const missingCert = await runManifold(['--port', '0', '--auth', 'none', '--tls-cert', path.join(dir, 'nope.pem'),
                                           '--tls-key', key]);
    assertUsageError(missingCert, /tls-cert/, 'missing cert');

    const junk = path.join(dir, 'junk.pem');
    writeFileSync(junk, 'not a key\n');
    const bad = await runManifold(['--port', '0', '--auth', 'none', '--tls-cert', cert, '--tls-key', junk]);
    assert.notEqual(bad.status, 0);
    assert.equal(bad.timedOut, false);
    assert.doesNotMatch(bad.stdout, /listening/);
    assert.match(bad.stderr, /TLS/);
  });
});

// ====================================================================== shutdown

describe('shutdown', () => {
  for (const signal of ['SIGTERM', 'SIGINT']) {
    test(`${signal}: joined clients get disconnect "shutdown" and close 1001; exit 0`, async (t) => {
      const server = await startManifold(['--auth', 'none']);
      t.after(() => server.stop('SIGKILL'));
      const room = freshRoom();
      const alice = await openPeer(t, server, { room });
      const bob = await openPeer(t, server, { room });
      const other = await openPeer(t, server, { room: freshRoom() });
      const waiting = await openPeer(t, server); // connected, not even hello
      await alice.next('participant-joined');

      const sentAt = Date.now();
      server.process.kill(signal);
      for (const peer of [alice, bob, other, waiting]) {
        const disconnect = await peer.next('disconnect');
        assert.equal(disconnect.reason, 'shutdown');
        assert.equal(typeof disconnect.message, 'string');
        const closed = await peer.waitClosed();
        assert.equal(closed.code, 1001, `close code for ${peer.joined?.participantId ?? 'the waiting peer'}`);
      }
      const status = await within(server.exited, 4000, 'still running');
      assert.equal(status, 0, `exit status after ${signal}; stderr: ${server.stderr()}`);
      assert.ok(Date.now() - sentAt < 4000);
    });
  }

  test('during shutdown /healthz is 503 and new connections are told "shutdown" at once', async (t) => {
    const server = await startManifold(['--auth', 'none']);
    t.after(() => server.stop('SIGKILL'));
    // A client that keeps its socket open (never answers the close) holds the gateway in
    // its shutdown grace period, so a second connection can arrive meanwhile.
    const stubborn = await openPeer(t, server, { room: freshRoom() });
    stubborn.ws._socket.pause(); // read nothing: the close handshake does not complete
    server.process.kill('SIGTERM');
    const health = await waitFor(async () => {
      const res = await httpRequest(`${server.url}/healthz`);
      return res.status === 503 ? res : null;
    }, { timeoutMs: 2000, intervalMs: 10, what: '/healthz to answer 503' });
    assert.match(health.text, /shutting down/);
    const late = await openPeer(t, server).catch((e) => e);
    if (late instanceof Error) {
      t.diagnostic(`the listener was already closed: ${late.message}`);
    } else {
      const disconnect = await late.next('disconnect');
      assert.equal(disconnect.reason, 'shutdown');
      assert.equal((await late.waitClosed()).code, 1001);
    }
    stubborn.ws._socket.resume();
    const status = await within(server.exited, 5000, 'still running');
    assert.equal(status, 0);
  });
});
