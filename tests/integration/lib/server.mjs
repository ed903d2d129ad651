// server.mjs — start the real Manifold gateway for a test, wait until it listens, stop it.
//
//   import { startManifold } from './lib/server.mjs';
//   const server = await startManifold(['--auth', 'none']);
//   t.after(() => server.stop());          // or use `withManifold` below
//   const ws = new WebSocket(server.wsUrl);
//
// The binary is `${MANIFOLD_BUILD_DIR:-build}/src/app/manifold`, the build directory taken
// relative to the repository root unless absolute. `--port 0` is added unless the caller
// passes `--port`; the gateway then prints
//   manifold <version> listening on http://127.0.0.1:<port>
// on stdout, which is how we learn the port. Only 127.0.0.1 is accepted: a gateway that
// says it listens anywhere else is stopped and the start fails.
//
// Two-host tests (a veth pair between network namespaces the test made itself, see
// media/netns.mjs) run the gateway inside one of those namespaces and expect it there:
//   startManifold(['--address', '10.77.0.1', '--auth', 'none'], {netns: 'mfl123s', host: '10.77.0.1'})
// runs `ip netns exec mfl123s <binary> ...` and accepts exactly `host` instead of
// 127.0.0.1. A host other than 127.0.0.1 is refused without a netns, so a gateway
// started here never listens on the machine's own interfaces.
//
// Every gateway started here is killed when the test process exits, even when a test
// failed or threw before calling stop().
//
// GLib and GStreamer defects must not pass unseen: every gateway runs with
// G_DEBUG=fatal-criticals (a CRITICAL aborts it; see gatewayEnv), and its stderr is
// scanned for g_log lines at CRITICAL or WARNING level ("GLib-CRITICAL **: ...",
// "GStreamer-WARNING **: ..."), whichever domain. `glibProblems()` lists them; `stop()`
// throws an error that quotes them once the gateway has exited (so a test that stops its
// gateway fails naming the line), and a test process whose gateways printed any that no
// stop() reported ends with exit status 1 after printing them.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Absolute path of the gateway binary this test run uses. */
export function manifoldBinary() {
  const buildDir = process.env.MANIFOLD_BUILD_DIR || 'build';
  return path.resolve(repoRoot, buildDir, 'src/app/manifold');
}

const LISTENING = /manifold \S+ listening on http:\/\/([0-9.]+|\[[0-9a-f:]+\]):(\d+)/;

/** A g_log line at CRITICAL or WARNING level: "(prog:pid): Domain-LEVEL **: ..." or "** (prog:pid): LEVEL **: ...". */
export const GLIB_PROBLEM = /(?:^|[\s)])(?:[A-Za-z][\w-]*-)?(?:CRITICAL|WARNING) \*\*: .*/;

/** The g_log CRITICAL/WARNING lines of `text`, in order. */
export function glibProblems(text) {
  return text.split('\n').filter((line) => GLIB_PROBLEM.test(line)).map((line) => line.trim());
}

/**
 * The environment for a gateway process: `env` with fatal-criticals added to G_DEBUG.
 * MANIFOLD_TEST_CRITICALS=count leaves G_DEBUG alone, so a run can count CRITICALs
 * instead of stopping at the first (diagnosis only: the lines still fail the test).
 */
export function gatewayEnv(env) {
  if (env.MANIFOLD_TEST_CRITICALS === 'count') return { ...env };
  const flags = (env.G_DEBUG ?? '').split(/[,:; ]+/).filter(Boolean);
  return { ...env, G_DEBUG: [...new Set([...flags, 'fatal-criticals'])].join(',') };
}

const running = new Set();
const unreported = new Map(); // child -> () => problem lines not yet reported by stop()
function killAll() {
  for (const child of running) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
}
process.on('exit', killAll);
/**
 * For gateways spawned elsewhere (lib/wire.mjs): `stderr()` is scanned when this test
 * process exits unless `reportGlibProblems(child)` took its lines first.
 */
export function watchGlibProblems(child, stderr) {
  unreported.set(child, () => glibProblems(stderr()));
}
/** The CRITICAL/WARNING lines of a watched gateway; they count as reported from now on. */
export function reportGlibProblems(child) {
  const problems = unreported.get(child)?.() ?? [];
  unreported.delete(child);
  return problems;
}
process.on('exit', () => {
  const lines = [...unreported.values()].flatMap((problems) => problems());
  if (lines.length === 0) return;
  process.stderr.write(`server.mjs: gateways printed GLib/GStreamer CRITICAL or WARNING lines:\n${lines.join('\n')}\n`);
  process.exitCode = 1;
});
// Interrupted runs (Ctrl-C, the test runner's timeout) must not leave gateways behind.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal);
  });
}

function hasOption(args, name) {
  return args.some((a) => a === name || a.startsWith(`${name}=`));
}

/** Exit status like a shell reports it: the exit code, or 128 + signal number. */
function statusOf(code, signal) {
  if (code !== null) return code;
  return 128 + (osConstants.signals[signal] ?? 0);
}

/**
 * Start the gateway and wait until it listens.
 * @param {string[]} [args] extra command-line arguments (`--port 0` is added unless given)
 * @param {{env?: object, timeoutMs?: number, binary?: string, cwd?: string, netns?: string, host?: string}} [options]
 *   env: added to (and overriding) process.env for the child
 *   netns: run the gateway inside this (test-made) network namespace, via `ip netns exec`
 *   host: the only listen address accepted (default 127.0.0.1; anything else needs netns)
 * @returns {Promise<{port: number, url: string, wsUrl: string, process: import('node:child_process').ChildProcess,
 *                    stdout: () => string, stderr: () => string, glibProblems: () => string[],
 *                    exited: Promise<number>, stop: (signal?: string, timeoutMs?: number) => Promise<number>}>}
 */
export async function startManifold(args = [], { env = {}, timeoutMs = 15000, binary, cwd, netns,
                                                   host = '127.0.0.1' } = {}) {
  const exe = binary ?? manifoldBinary();
  if (!existsSync(exe)) {
    throw new Error(`gateway binary not found at ${exe}; build it first ` +
                    `(meson setup build && ninja -C build) or set MANIFOLD_BUILD_DIR`);
  }
  if (host !== '127.0.0.1' && !netns) {
    throw new Error(`startManifold: host ${host} needs a netns of the test's own (tests only use 127.0.0.1 otherwise)`);
  }
  const argv = [...args];
  if (!hasOption(argv, '--port')) argv.unshift('--port', '0');

  // `ip netns exec` execs the command in place (no fork): the child is the gateway itself.
  const [file, fileArgs] = netns ? ['ip', ['netns', 'exec', netns, exe, ...argv]] : [exe, argv];
  const child = spawn(file, fileArgs, {
    cwd: cwd ?? repoRoot,
    env: gatewayEnv({ ...process.env, ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk) => { out += chunk; });
  child.stderr.on('data', (chunk) => { err += chunk; });
  watchGlibProblems(child, () => err);

  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve(statusOf(code, signal));
    });
    child.on('error', () => { running.delete(child); resolve(-1); });
  });

  // A sanitizer build checks the whole heap for leaks at exit, which takes seconds on a
  // loaded machine; SIGKILL then would hide the report the test is waiting for.
  // Throws, once the gateway has exited, when its stderr has CRITICAL/WARNING lines.
  const stop = async (signal = 'SIGTERM', graceMs = process.env.MANIFOLD_SANITIZED === '1' ? 20000 : 5000) => {
    let status;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      status = await exited;
      clearTimeout(timer);
    } else {
      status = await exited;
    }
    // Output written just before the exit may still be in the pipe.
    await new Promise((resolve) => {
      if (child.stderr.readableEnded || child.stderr.destroyed) return resolve();
      child.stderr.once('end', resolve);
      child.stderr.once('close', resolve);
    });
    const problems = reportGlibProblems(child);
    if (problems.length > 0) {
      const e = new Error(`the gateway (exit status ${status}) printed ${problems.length} GLib/GStreamer ` +
                          `CRITICAL/WARNING line(s):\n${problems.slice(0, 10).join('\n')}`);
      e.glibProblems = problems;
      e.status = status;
      throw e;
    }
    return status;
  };

  const describe = () => `\n--- command: ${file} ${fileArgs.join(' ')}\n--- stdout:\n${out}\n--- stderr:\n${err}`;

  let port;
  try {
    port = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`gateway did not print "listening on" within ${timeoutMs} ms${describe()}`));
      }, timeoutMs);
      const check = () => {
        const match = LISTENING.exec(out);
        if (!match) return;
        clearTimeout(timer);
        child.stdout.off('data', check);
        if (match[1] !== host) {
          reject(new Error(`gateway listens on ${match[1]}, this test only uses ${host}${describe()}`));
          return;
        }
        resolve(Number(match[2]));
      };
      child.stdout.on('data', check);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot start ${exe}: ${e.message}`));
      });
      exited.then((status) => {
        clearTimeout(timer);
        reject(new Error(`gateway exited with status ${status} before listening${describe()}`));
      });
      check();
    });
  } catch (e) {
    try { await stop('SIGKILL'); } catch (problems) { e.message += `\n${problems.message}`; }
    throw e;
  }

  return {
    port,
    url: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}/ws`,
    process: child,
    stdout: () => out,
    stderr: () => err,
    glibProblems: () => glibProblems(err),
    exited,
    stop,
  };
}

/**
 * startManifold, and stop the gateway when the test (node:test context `t`) ends,
 * whether it passed or failed.
 */
export async function withManifold(t, args = [], options = {}) {
  const server = await startManifold(args, options);
  t.after(() => server.stop());
  return server;
}
