// options.test.mjs — options of the real gateway binary whose effect is only visible from
// outside: command-line-only keys in a --config file, examples/manifold.conf against
// --help, ICE servers handed to clients, --log-level, the auth=none warning, the ICE
// address default, track events over HTTP and event delivery during shutdown.
//
//   node --test tests/integration/options.test.mjs
//
// Network rule: the gateway, the hook servers and every peer are on 127.0.0.1 only.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { repoRoot, startManifold, withManifold } from './lib/server.mjs';
import {
  assertEventEnvelope, freshRoom, httpRequest, openPeer, runManifold, startHookServer, STEP_MS, tempDir, waitFor,
  within,
} from './lib/wire.mjs';

const sanitized = process.env.MANIFOLD_SANITIZED === '1';
const EXAMPLE = path.join(repoRoot, 'examples/manifold.conf');
const CLI_ONLY = ['help', 'version', 'config'];

/** The run exited 2 with exactly one stderr line matching every pattern, and printed nothing else. */
function assertUsageError(run, patterns, what) {
  assert.equal(run.timedOut, false, `${what}: still running (it should have refused to start); stderr: ${run.stderr}`);
  assert.equal(run.status, 2, `${what}: exit status ${run.status}, stderr: ${run.stderr}`);
  const lines = run.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `${what}: one line on stderr, got: ${JSON.stringify(run.stderr)}`);
  assert.match(lines[0], /^manifold: /, what);
  for (const pattern of patterns) assert.match(lines[0], pattern, `${what}: ${lines[0]}`);
  assert.equal(run.stdout, '', `${what}: nothing on stdout (no help text, no version, no start)`);
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const stripColour = (text) => text.replace(/\x1b\[[0-9;]*m/g, '');

/** Prometheus text -> Map of "name{labels}" -> number. */
async function metrics(server) {
  const res = await httpRequest(`${server.url}/metrics`);
  assert.equal(res.status, 200);
  const values = new Map();
  for (const line of res.text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

/** The long options `manifold --help` lists (the option column only, not the descriptions). */
async function helpOptions() {
  const help = await runManifold(['--help']);
  assert.equal(help.status, 0, help.stderr);
  const options = [];
  for (const line of help.stdout.split('\n')) {
    // "  --address IP (=127.0.0.1)   ..." or "  -h [ --help ]   ...": two spaces, then the
    // option. Wrapped description lines are indented much further.
    const m = /^ {2}(?:-\w \[ )?--([a-z][a-z0-9-]*)/.exec(line);
    if (m) options.push(m[1]);
  }
  return options;
}

// ====================================================================== --config

describe('--config file keys', () => {
  test('help, version and config in a config file exit 2 with one line naming the key and the file',
       async (t) => {
    const dir = tempDir(t);
    // A valid file that `config = ` points at: before the fix it was silently not read.
    const other = path.join(dir, 'other.conf');
    writeFileSync(other, 'max-rooms = 3\n');
    const cases = [
      ['help.conf', 'help = 1'],
      ['version.conf', 'version = 1'],
      ['config.conf', `config = ${other}`],
      ['help-true.conf', 'help = true'],
    ];
    const runs = await Promise.all(cases.map(([name, line]) => {
      const file = path.join(dir, name);
      writeFileSync(file, `# ${name}\nauth = none\n${line}\nmax-participants = 4\n`);
      return runManifold(['--port', '0', '--config', file], { killOn: /listening on/ });
    }));
    cases.forEach(([name, line], i) => {
      const key = line.split(' ')[0];
      assertUsageError(runs[i], [new RegExp(`'${key}'`), new RegExp(escape(path.join(dir, name))),
                                 /command-line/], line);
    });
  });

  test('the same options still work on the command line next to a file', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'ok.conf');
    writeFileSync(file, 'auth = none\n');
    const help = await runManifold(['--config', file, '--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: manifold/);
    const version = await runManifold(['-c', file, '--version']);
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout, /^manifold \d+\.\d+\.\d+/);
  });

  test('an unknown key names the file too', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'typo.conf');
    writeFileSync(file, 'auth = none\nmax-room = 3\n');
    const run = await runManifold(['--port', '0', '--config', file], { killOn: /listening on/ });
    assertUsageError(run, [/'max-room'/, new RegExp(escape(file))], 'max-room');
  });
});

// ====================================================================== examples/manifold.conf

describe('examples/manifold.conf', () => {
  test('documents every option of --help as a key (set or commented out), and nothing else', async () => {
    const options = await helpOptions();
    // A parser that found nothing would make the check below pass trivially.
    assert.ok(options.length >= 30, `found only ${options.length} options in --help: ${options}`);
    for (const known of ['address', 'port', 'ice-address', 'stun-server', 'turn-password', 'auth',
                         'events-url', 'max-rooms', 'log-level', ...CLI_ONLY])
      assert.ok(options.includes(known), `--help parsing found ${known}: ${options}`);

    const text = readFileSync(EXAMPLE, 'utf8');
    // Keys are `key = value` at the start of a line, or `#key = value` when commented out;
    // prose comments start with "# ".
    const keys = new Set();
    for (const line of text.split('\n')) {
      const m = /^#?([a-z][a-z0-9-]*)\s*=/.exec(line);
      if (m) keys.add(m[1]);
    }
    const missing = options.filter((o) => !CLI_ONLY.includes(o) && !keys.has(o));
    assert.deepEqual(missing, [], `options missing from examples/manifold.conf: ${missing.join(', ')}`);
    const stale = [...keys].filter((k) => !options.includes(k));
    assert.deepEqual(stale, [], `keys in examples/manifold.conf that are no option: ${stale.join(', ')}`);
    const cliOnly = [...keys].filter((k) => CLI_ONLY.includes(k));
    assert.deepEqual(cliOnly, [], 'command-line-only options are not config keys');
  });

  test('is accepted as shipped: the gateway starts from it and stops cleanly', async (t) => {
    // Run in an empty directory, so the file's relative recording-dir lands there; only
    // the port is overridden (the shipped 8443 may be taken).
    const dir = tempDir(t);
    const server = await startManifold(['--config', EXAMPLE, '--port', '0'], { cwd: dir });
    t.after(() => server.stop('SIGKILL'));
    assert.match(server.stdout(), /listening on http:\/\/127\.0\.0\.1:\d+ \(auth none\)/);
    assert.ok(existsSync(path.join(dir, 'recordings')), 'recording-dir from the file was created');
    const res = await httpRequest(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    const status = await server.stop('SIGTERM');
    assert.equal(status, 0, `exit status; stderr: ${server.stderr()}`);
  });
});

// ====================================================================== ICE servers

describe('STUN and TURN servers reach joined.iceServers', () => {
  const expected = [
    { urls: ['stun:127.0.0.1:3478'] },
    { urls: ['stuns:127.0.0.1:5349'] },
    { urls: ['turn:127.0.0.1:3478?transport=udp', 'turns:127.0.0.1:5349?transport=tcp'],
      username: 'turn-user', credential: 'turn-secret' },
  ];

  test('from the command line', async (t) => {
    const server = await withManifold(t, [
      '--auth', 'none',
      '--stun-server', 'stun:127.0.0.1:3478', '--stun-server', 'stuns:127.0.0.1:5349',
      '--turn-server', 'turn:127.0.0.1:3478?transport=udp', '--turn-server', 'turns:127.0.0.1:5349?transport=tcp',
      '--turn-username', 'turn-user', '--turn-password', 'turn-secret',
    ]);
    const room = freshRoom();
    const alice = await openPeer(t, server, { room });
    assert.deepEqual(alice.joined.iceServers, expected);
    const bob = await openPeer(t, server, { room });
    assert.deepEqual(bob.joined.iceServers, expected, 'every participant gets them');
  });

  test('from a config file (repeated keys), merged with the command line', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'ice.conf');
    writeFileSync(file, [
      'auth = none',
      'stun-server = stun:127.0.0.1:3478',
      'turn-server = turn:127.0.0.1:3478?transport=udp',
      'turn-server = turns:127.0.0.1:5349?transport=tcp',
      'turn-username = turn-user',
      'turn-password = file-secret',
      '',
    ].join('\n'));
    // stun-server composes file and command line; turn-password from the command line wins.
    const server = await withManifold(t, ['--config', file, '--stun-server', 'stuns:127.0.0.1:5349',
                                          '--turn-password', 'turn-secret']);
    const alice = await openPeer(t, server, { room: freshRoom() });
    const urls = alice.joined.iceServers.flatMap((s) => s.urls).sort();
    assert.deepEqual(urls, expected.flatMap((s) => s.urls).sort(), JSON.stringify(alice.joined.iceServers));
    const turn = alice.joined.iceServers.find((s) => s.urls[0].startsWith('turn'));
    assert.deepEqual(turn, expected[2]);
  });

  test('none configured: iceServers is []', async (t) => {
    const server = await withManifold(t, ['--auth', 'none']);
    const alice = await openPeer(t, server, { room: freshRoom() });
    assert.deepEqual(alice.joined.iceServers, []);
  });
});

// ====================================================================== logging

describe('--log-level', () => {
  // GST_DEBUG=manifold*:N overrides --log-level; the child must not inherit one.
  const env = { GST_DEBUG: undefined, GST_DEBUG_FILE: undefined };

  // Markers, one per level, all produced by the run below:
  const WARN = /\bWARN\b.*manifold-auth.*events: POST to \S+ failed/; // the events endpoint answers 500
  const INFO = /\bINFO\b.*manifold-server.*listening on http:\/\/127\.0\.0\.1/;
  const INFO_ROOM = /\bINFO\b.*manifold-core.*room created/;
  const DEBUG = /\bDEBUG\b.*manifold-server.*connection \d+ from 127\.0\.0\.1/;

  /** Start at `level`, join a room (its events fail: a warning), stop; the whole stderr. */
  async function run(t, levelArgs) {
    const hook = await startHookServer(t, (req, res) => { res.writeHead(500); res.end(); });
    const server = await startManifold(['--auth', 'none', '--events-url', hook.url, ...levelArgs], { env });
    t.after(() => server.stop('SIGKILL'));
    await openPeer(t, server, { room: freshRoom() });
    // The failure is logged when the 500 arrives, which is when it is counted.
    await waitFor(async () => (await metrics(server)).get('manifold_events_failed_total') >= 1,
                  { what: 'a failed event notification' });
    assert.equal(await server.stop('SIGTERM'), 0, server.stderr());
    return stripColour(server.stderr());
  }

  const has = (stderr, re) => stderr.split('\n').some((l) => re.test(l));

  test('error hides warnings', async (t) => {
    const stderr = await run(t, ['--log-level', 'error']);
    assert.ok(!has(stderr, WARN), `no warning at error level:\n${stderr}`);
    assert.ok(!has(stderr, INFO), stderr);
    assert.ok(!has(stderr, /\b(WARN|INFO|DEBUG)\b.*manifold-/), `nothing below error:\n${stderr}`);
  });

  test('warning (the default) shows warnings, hides info and debug', async (t) => {
    for (const args of [[], ['--log-level', 'warning']]) {
      const stderr = await run(t, args);
      assert.ok(has(stderr, WARN), `${args}: the events warning:\n${stderr}`);
      assert.ok(!has(stderr, INFO) && !has(stderr, INFO_ROOM), `${args}: no info:\n${stderr}`);
      assert.ok(!has(stderr, DEBUG), `${args}: no debug:\n${stderr}`);
    }
  });

  test('info shows info, hides debug', async (t) => {
    const stderr = await run(t, ['--log-level', 'info']);
    assert.ok(has(stderr, WARN), stderr);
    assert.ok(has(stderr, INFO) && has(stderr, INFO_ROOM), `info messages:\n${stderr}`);
    assert.ok(!has(stderr, DEBUG), `no debug:\n${stderr}`);
  });

  test('debug (and trace) show debug', async (t) => {
    for (const level of ['debug', 'trace']) {
      const stderr = await run(t, ['--log-level', level]);
      assert.ok(has(stderr, DEBUG), `${level}: the debug line for the connection:\n${stderr}`);
      assert.ok(has(stderr, INFO) && has(stderr, WARN), `${level}: and everything above:\n${stderr}`);
    }
  });
});

// ====================================================================== auth=none warning

describe('the auth=none warning at start', () => {
  const WARNING = /^manifold: warning: auth=none.*http:\/\/127\.0\.0\.1:(\d+).*development only/m;

  test('defaulted on loopback: warned, saying it is the default', async (t) => {
    const server = await withManifold(t, []);
    const line = await waitFor(() => WARNING.exec(server.stderr()), { what: 'the warning on stderr' });
    assert.equal(Number(line[1]), server.port, 'names the URL it listens on');
    assert.match(line[0], /\(the default on loopback\)/);
    assert.equal(server.stderr().match(/auth=none/g).length, 1, 'once');
    assert.doesNotMatch(server.stdout(), /warning/, 'on stderr, not stdout');
    assert.match(server.stdout(), /\(auth none\)/);
  });

  test('--auth=none given: warned, not called a default', async (t) => {
    const server = await withManifold(t, ['--auth=none']);
    const line = await waitFor(() => WARNING.exec(server.stderr()), { what: 'the warning on stderr' });
    assert.doesNotMatch(line[0], /default/);
  });

  test('--auth=jwt: no warning', async (t) => {
    const server = await withManifold(t, ['--auth', 'jwt', '--jwt-secret', 'options-test-secret-0123456789abcdef']);
    assert.match(server.stdout(), /\(auth jwt\)/);
    // The warning is written before the "listening" line: stop, then every byte is in.
    await server.stop('SIGTERM');
    assert.doesNotMatch(server.stderr(), /auth=none/);
  });
});

// ====================================================================== GStreamer plugin directory

describe('--gst-plugin-dir: which rtpmanager the gateway loads', () => {
  const RTPMANAGER = /^manifold: rtpmanager from (\S+) \((.*)\)$/m;
  const BUNDLED = path.join(repoRoot, 'build-gst-plugins/lib/libgstrtpmanager.so');
  const SYSTEM_WARNING = /^manifold: warning: the system's rtpmanager .*gst-rtpmanager-patched/m;
  const built = existsSync(BUNDLED) ? {} : { skip: 'the patched rtpmanager is not built (bash subprojects/gst-rtpmanager-patched/build.sh)' };

  test('by default, the patched build of this tree, and it says so', built, async (t) => {
    const server = await withManifold(t, ['--auth', 'none']);
    const [, file, pkg] = RTPMANAGER.exec(server.stdout()) ?? [];
    assert.equal(file, BUNDLED, server.stdout());
    assert.match(pkg, /Manifold rtpsession patches/);
    await server.stop();
    assert.doesNotMatch(server.stderr(), SYSTEM_WARNING);
  });

  test('a directory given explicitly is used', built, async (t) => {
    const server = await withManifold(t, ['--auth', 'none', '--gst-plugin-dir', path.relative(repoRoot, path.dirname(BUNDLED))]);
    assert.equal(RTPMANAGER.exec(server.stdout())?.[1], BUNDLED, server.stdout());
  });

  test('none: the system plugin, with a warning on stderr', async (t) => {
    const server = await withManifold(t, ['--auth', 'none', '--gst-plugin-dir', 'none']);
    const [, file] = RTPMANAGER.exec(server.stdout()) ?? [];
    assert.ok(file && !file.startsWith(repoRoot), `the system's rtpmanager: ${server.stdout()}`);
    await server.stop();
    assert.match(server.stderr(), SYSTEM_WARNING);
  });

  test('a directory that does not exist is a usage error', async () => {
    const run = await runManifold(['--gst-plugin-dir', '/nonexistent/manifold-plugins']);
    assertUsageError(run, [/gst-plugin-dir/, /not a directory/], 'missing plugin dir');
  });
});

// ====================================================================== ICE addresses

describe('ICE address default', () => {
  // Listening on a non-loopback address (where the default is every interface) is out of
  // bounds for these tests (127.0.0.1 only); config_test.cpp checks that resolution. Here:
  // listening on loopback only, the gateway gathers candidates on 127.0.0.1 only, even when
  // the machine has other interfaces.
  test('listening on loopback: every server candidate is on 127.0.0.1', async (t) => {
    const server = await withManifold(t, ['--auth', 'none']);
    const alice = await openPeer(t, server, { room: freshRoom(), join: { autoSubscribe: false } });
    const published = await alice.call({ type: 'publish', kind: 'audio' });
    assert.equal(published.type, 'published', JSON.stringify(published));
    await alice.next('offer');
    await alice.next((m) => m.type === 'candidate' && / udp /i.test(m.candidate), STEP_MS * 2);
    // Host candidates come together; give the rest a moment.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const candidates = alice.received.filter((m) => m.type === 'candidate' && m.candidate);
    const addresses = candidates.map((m) => m.candidate.split(' ')[4]);
    assert.ok(addresses.length > 0);
    assert.deepEqual([...new Set(addresses)], ['127.0.0.1'], JSON.stringify(candidates.map((m) => m.candidate)));
  });
});

// ====================================================================== events over HTTP

describe('track events over HTTP', () => {
  test('track-published and track-unpublished are POSTed with the track', async (t) => {
    const hook = await startHookServer(t);
    const server = await withManifold(t, ['--auth', 'none', '--events-url', `${hook.url}/events`,
                                          '--events-token', 'ev-token']);
    const room = freshRoom();
    // autoSubscribe off: bob receives nothing, so only alice is sent an offer.
    const alice = await openPeer(t, server, { room, join: { name: 'Alice', autoSubscribe: false } });
    const bob = await openPeer(t, server, { room, join: { autoSubscribe: false } });
    const mic = await alice.call({ type: 'publish', kind: 'audio', label: 'mic' });
    assert.equal(mic.type, 'published', JSON.stringify(mic));
    await bob.next('track-published');
    const unpublish = await alice.call({ type: 'unpublish', trackId: mic.track.id });
    assert.equal(unpublish.type, 'ok', JSON.stringify(unpublish));
    await bob.next('track-unpublished');
    // A track still published when its publisher leaves: track-unpublished, then participant-left.
    const cam = await alice.call({ type: 'publish', kind: 'video', label: 'camera' });
    assert.equal(cam.type, 'published', JSON.stringify(cam));
    alice.close();
    await bob.next('participant-left');
    await waitFor(() => hook.requests.filter((r) => r.json?.event === 'participant-left').length === 1,
                  { what: "alice's participant-left event" });

    for (const r of hook.requests) assertEventEnvelope(r, { room, token: 'ev-token' });
    const events = hook.requests.map((r) => r.json);
    assert.deepEqual(events.map((e) => e.event), [
      'room-created', 'participant-joined', 'participant-joined',
      'track-published', 'track-unpublished', 'track-published', 'track-unpublished', 'participant-left',
    ], 'in order, one POST each');
    const [,,, published, unpublished, published2, unpublished2, left] = events;
    assert.deepEqual(published.track, mic.track, 'the TrackInfo of the published reply');
    assert.deepEqual(published.track, { id: mic.track.id, participantId: alice.joined.participantId,
                                        kind: 'audio', label: 'mic', muted: false });
    assert.equal(published.participant, undefined);
    assert.deepEqual(unpublished.track, mic.track);
    assert.deepEqual(published2.track, cam.track);
    assert.equal(published2.track.kind, 'video');
    assert.deepEqual(unpublished2.track, cam.track, 'the leaver’s remaining track');
    assert.equal(left.participant.id, alice.joined.participantId);
  });
});

// ====================================================================== shutdown

describe('event notifications during shutdown', () => {
  test('SIGTERM: participant-left and room-closed (reason shutdown) are delivered before exit', async (t) => {
    // A slow endpoint: every POST takes 150 ms, so at SIGTERM several events still wait.
    const answered = [];
    const hook = await startHookServer(t, (req, res, record) => {
      setTimeout(() => {
        answered.push(record.json?.event);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{}');
      }, 150);
    });
    const server = await startManifold(['--auth', 'none', '--events-url', hook.url]);
    t.after(() => server.stop('SIGKILL'));
    const room = freshRoom();
    const alice = await openPeer(t, server, { room, join: { autoSubscribe: false } });
    const bob = await openPeer(t, server, { room, join: { autoSubscribe: false } });
    const published = await bob.call({ type: 'publish', kind: 'audio', label: 'mic' });
    assert.equal(published.type, 'published', JSON.stringify(published));
    await alice.next('track-published');

    const sentAt = Date.now();
    server.process.kill('SIGTERM');
    const status = await within(server.exited, 3000 + (sanitized ? 20000 : 3000), 'still running');
    assert.equal(status, 0, `exit status; stderr: ${server.stderr()}`);

    const events = hook.requests.map((r) => r.json);
    const afterSignal = events.slice(events.findIndex((e) => e.event === 'track-published') + 1);
    assert.deepEqual(afterSignal.map((e) => e.event),
                     ['track-unpublished', 'participant-left', 'participant-left', 'room-closed'],
                     `all sent before exit: ${JSON.stringify(events)}`);
    assert.deepEqual(afterSignal[0].track, published.track);
    assert.deepEqual(afterSignal.slice(1, 3).map((e) => [e.participant.id, e.reason]),
                     [[bob.joined.participantId, 'shutdown'], [alice.joined.participantId, 'shutdown']],
                     'last joined leaves first');
    assert.equal(afterSignal[3].reason, 'shutdown');
    assert.equal(answered.length, events.length, 'the gateway waited for every answer');
    assert.equal(answered.at(-1), 'room-closed');
    assert.ok(Date.now() - sentAt >= 4 * 150, 'it took the slow endpoint its time');
  });

  test('an endpoint that stops answering holds the exit for the 3 s grace period, no longer', async (t) => {
    let hang = false;
    const hook = await startHookServer(t, (req, res) => {
      if (hang) return; // never answered (the gateway gives up on each after 2 s)
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
    const server = await startManifold(['--auth', 'none', '--events-url', hook.url]);
    t.after(() => server.stop('SIGKILL'));
    await openPeer(t, server, { room: freshRoom() });
    await waitFor(() => hook.requests.some((r) => r.json?.event === 'participant-joined'),
                  { what: 'the participant-joined event' });
    hang = true;

    const sentAt = Date.now();
    server.process.kill('SIGTERM');
    const status = await within(server.exited, 3000 + (sanitized ? 20000 : 3000), 'still running');
    const took = Date.now() - sentAt;
    assert.equal(status, 0, `exit status; stderr: ${server.stderr()}`);
    assert.ok(took >= 2900, `waited for the pending events (${took} ms)`);
    assert.ok(hook.requests.some((r) => r.json?.event === 'participant-left'), 'the first one went out');
    assert.match(stripColour(server.stderr()), /shutdown grace over with \d+ connections and [1-9]\d* events pending/);
    t.diagnostic(`exited ${took} ms after SIGTERM`);
  });
});
