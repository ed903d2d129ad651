// wire.mjs — raw-JSON WebSocket peers, HTTP helpers, JWT signing and one-shot runs of the
// gateway binary, for the protocol/auth/admin/cli integration tests.
//
// Starting a gateway that listens is lib/server.mjs's job (startManifold / withManifold);
// this file adds what that helper does not do:
//   - Peer: a WebSocket that queues every JSON frame it receives, so a test can wait for
//     "the next message of type X" without races, and remembers how the socket closed;
//   - runManifold: run the binary to completion (CLI tests: --help, bad options) with a
//     deadline, collecting stdout/stderr and the exit status;
//   - startTlsManifold: like startManifold, for a gateway that prints https://;
//   - signJwt (HS256 with node:crypto), httpRequest, startHookServer (a local HTTP server
//     on 127.0.0.1 standing in for the webhook / events endpoint), assertEventEnvelope
//     (what every event notification it records has in common), waitFor (polling).
//
// Network rule: everything here talks to 127.0.0.1 only.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';

import { gatewayEnv, manifoldBinary, repoRoot, reportGlibProblems, watchGlibProblems } from './server.mjs';

const require = createRequire(import.meta.url);
const { WebSocket } = require('ws');
export { WebSocket };

/** Default deadline for one expected message / event. */
export const STEP_MS = 3000;

// ------------------------------------------------------------------ tracking / cleanup

const children = new Set();
process.on('exit', () => {
  for (const child of children) {
    try { child.kill('SIGKILL'); } catch { /* gone */ }
  }
});

/** A fresh temporary directory, removed when the test `t` ends. */
export function tempDir(t, prefix = 'manifold-it-') {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let counter = 0;
/** A room name unique within this test process. */
export const freshRoom = (prefix = 'r') => `${prefix}-${process.pid}-${++counter}`;

/** Poll `check` (sync or async) until it returns a truthy value; that value is returned. */
export async function waitFor(check, { timeoutMs = STEP_MS, intervalMs = 20, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` +
                      (last instanceof Error ? `: ${last.message}` : ''));
    }
    await sleep(intervalMs);
  }
}

/** `promise`, or `fallback` when it has not settled within `ms` (the timer is cleared). */
export async function within(promise, ms, fallback = 'timed out') {
  let timer;
  try {
    return await Promise.race([promise, new Promise((resolve) => { timer = setTimeout(() => resolve(fallback), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------ WebSocket peer

/**
 * A WebSocket peer speaking raw JSON. Every text frame received is parsed and queued;
 * `next()` takes from the queue (or waits). `closed` resolves with {code, reason}.
 */
export class Peer {
  constructor(url, options = {}) {
    this.url = url;
    this.ws = new WebSocket(url, options);
    this.received = [];   // every parsed message, in order (never consumed)
    this.queue = [];      // not yet taken by next()
    this.waiters = [];
    this.nextId = 1;
    this.closeInfo = null;
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
      this.ws.once('close', () => reject(new Error(`${url}: closed before open`)));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        this.#wake();
      });
    });
    this.ws.on('error', () => { /* reported through close */ });
    this.ws.on('message', (data, isBinary) => {
      let message;
      try {
        message = JSON.parse(data.toString());
      } catch {
        message = { type: '<unparsable>', raw: data.toString(), isBinary };
      }
      this.received.push(message);
      this.queue.push(message);
      this.#wake();
    });
  }

  #wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  static async open(url, options) {
    const peer = new Peer(url, options);
    await peer.opened;
    return peer;
  }

  get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

  sendRaw(text) { this.ws.send(text); }
  send(message) { this.ws.send(JSON.stringify(message)); }

  /** Send a request with a fresh id (unless it has one); returns the id. */
  request(message) {
    const id = message.id ?? this.nextId++;
    this.send({ ...message, id });
    return id;
  }

  /**
   * The next queued message matching `match` (a type string, or a predicate); messages
   * before it that do not match stay queued. Rejects on timeout or when the socket
   * closed and nothing matching is queued.
   */
  async next(match = () => true, timeoutMs = STEP_MS) {
    const pred = typeof match === 'string' ? (m) => m.type === match : match;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.queue.findIndex(pred);
      if (index >= 0) return this.queue.splice(index, 1)[0];
      if (this.closeInfo) {
        throw new Error(`socket closed (${this.closeInfo.code} ${this.closeInfo.reason}) without ` +
                        `the expected message; received: ${JSON.stringify(this.received)}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no matching message within ${timeoutMs} ms; received: ` +
                        JSON.stringify(this.received));
      }
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  /** The reply (any type) carrying request id `id`. */
  reply(id, timeoutMs = STEP_MS) {
    return this.next((m) => m.id === id, timeoutMs);
  }

  /** Send a request and wait for its reply. */
  async call(message, timeoutMs = STEP_MS) {
    const id = this.request(message);
    return this.reply(id, timeoutMs);
  }

  /** Wait until the socket is closed; returns {code, reason}. */
  async waitClosed(timeoutMs = STEP_MS) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`socket not closed within ${timeoutMs} ms; received: ` +
                                                JSON.stringify(this.received))), timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** No further message for `ms` (only messages matching `match` count). */
  async expectSilence(ms = 150, match = () => true) {
    const before = this.queue.filter(match).length;
    await sleep(ms);
    const extra = this.queue.filter(match);
    if (extra.length > before) throw new Error(`unexpected messages: ${JSON.stringify(extra)}`);
  }

  close() {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      try { this.ws.close(); } catch { /* ignore */ }
    }
  }

  terminate() {
    try { this.ws.terminate(); } catch { /* ignore */ }
  }

  async hello() {
    const reply = await this.call({ type: 'hello', versions: [1], client: 'integration-test' });
    if (reply.type !== 'welcome') throw new Error(`hello answered ${JSON.stringify(reply)}`);
    this.helloDone = true;
    return reply;
  }

  /** join (hello first if not yet done); resolves with the reply (joined or error). */
  async join(room, extra = {}) {
    if (!this.helloDone) await this.hello();
    return this.call({ type: 'join', room, ...extra });
  }
}

/**
 * Open a peer to `server` and close it when the test ends. With `room`, says hello and
 * joins it and requires success (the reply is in peer.joined).
 */
export async function openPeer(t, server, { room, join = {}, url, wsOptions } = {}) {
  const peer = await Peer.open(url ?? server.wsUrl, wsOptions);
  t.after(() => peer.terminate());
  if (room !== undefined) {
    const reply = await peer.join(room, join);
    if (reply.type !== 'joined') throw new Error(`join ${room} answered ${JSON.stringify(reply)}`);
    peer.joined = reply;
  }
  return peer;
}

// ------------------------------------------------------------------ HTTP

/**
 * A request to the gateway (or any 127.0.0.1 server). Resolves with
 * {status, headers, text, json} (json undefined when the body is not JSON).
 */
export function httpRequest(url, { method = 'GET', headers = {}, body, token, tls, timeoutMs = STEP_MS } = {}) {
  const u = new URL(url);
  if (u.hostname !== '127.0.0.1') throw new Error(`tests only use 127.0.0.1, not ${u.hostname}`);
  const lib = u.protocol === 'https:' ? https : http;
  const allHeaders = { ...headers };
  if (token) allHeaders.Authorization = `Bearer ${token}`;
  return new Promise((resolve, reject) => {
    const req = lib.request(u, { method, headers: allHeaders, timeout: timeoutMs, ...tls }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * An HTTP server on 127.0.0.1 (any free port) that records every request
 * ({method, url, headers, body, json}) and answers through `handler(req, res, record)`
 * (default: 200 {}). Closed when the test `t` ends.
 */
export async function startHookServer(t, handler) {
  const requests = [];
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      let json;
      try { json = JSON.parse(body); } catch { /* not JSON */ }
      const record = { method: req.method, url: req.url, headers: req.headers, body, json };
      requests.push(record);
      if (handler) {
        handler(req, res, record);
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{}');
      }
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const close = () => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  t.after(close);
  return { url: `http://127.0.0.1:${port}`, port, requests, server, close };
}

/**
 * What every event notification has in common (signalling/PROTOCOL.md, "Event notifications"): a JSON
 * POST to /events with the --events-token as bearer token, for `room`, stamped with
 * wall-clock milliseconds. `r` is a request startHookServer recorded.
 */
export function assertEventEnvelope(r, { room, token }) {
  assert.equal(r.method, 'POST');
  assert.equal(r.url, '/events');
  assert.match(r.headers['content-type'], /^application\/json/);
  assert.equal(r.headers.authorization, `Bearer ${token}`);
  assert.equal(r.json.room, room);
  assert.ok(Math.abs(r.json.timeMs - Date.now()) < 60000, 'timeMs is wall-clock milliseconds');
}

// ------------------------------------------------------------------ JWT

export const b64url = (data) => Buffer.from(data).toString('base64url');

/** An HS256 JWT (or any alg header, signed with HMAC-SHA256 all the same). */
export function signJwt(claims, secret, { header = { alg: 'HS256', typ: 'JWT' }, signature } = {}) {
  const head = b64url(JSON.stringify(header));
  const body = b64url(JSON.stringify(claims));
  const sig = signature ?? createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

// ------------------------------------------------------------------ processes

/**
 * Run the gateway binary to completion. Resolves with {status, signal, stdout, stderr,
 * timedOut}; a run still going after `timeoutMs` is killed (timedOut: true), and so is a
 * run whose stdout matches `killOn` (a RegExp, e.g. /listening on/; timedOut: true too).
 * Like every gateway of the tests it runs with G_DEBUG=fatal-criticals, and a run whose
 * stderr has a GLib/GStreamer CRITICAL or WARNING line rejects, quoting it (server.mjs).
 */
export function runManifold(args, { timeoutMs = 5000, cwd = repoRoot, env = {}, killOn } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(manifoldBinary(), args, { cwd, env: gatewayEnv({ ...process.env, ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c) => { stderr += c; });
    watchGlibProblems(child, () => stderr);
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.stdout.on('data', (c) => {
      stdout += c;
      if (killOn && killOn.test(stdout) && !timedOut) {
        timedOut = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', (e) => { clearTimeout(timer); children.delete(child); reject(e); });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      children.delete(child);
      const problems = reportGlibProblems(child);
      if (problems.length > 0) {
        reject(new Error(`manifold ${args.join(' ')} (status ${status ?? signal}) printed GLib/GStreamer ` +
                         `CRITICAL/WARNING line(s):\n${problems.slice(0, 10).join('\n')}`));
        return;
      }
      resolve({ status, signal, stdout, stderr, timedOut });
    });
  });
}

const LISTENING_ANY = /manifold \S+ listening on (https?):\/\/([0-9.]+):(\d+)/;

/**
 * Start the gateway and wait for its "listening on http(s)://127.0.0.1:PORT" line (the
 * shared startManifold only recognises http://). Killed when the test `t` ends.
 * Resolves with {port, url, wsUrl, stdout(), stderr(), exited, stop(signal)}; stop()
 * throws when the gateway printed GLib/GStreamer CRITICAL or WARNING lines (server.mjs).
 */
export async function startManifoldAnyScheme(t, args, { timeoutMs = 10000, cwd = repoRoot } = {}) {
  const argv = [...args];
  if (!argv.some((a) => a === '--port' || a.startsWith('--port='))) argv.unshift('--port', '0');
  const child = spawn(manifoldBinary(), argv, { cwd, env: gatewayEnv(process.env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (c) => { out += c; });
  child.stderr.on('data', (c) => { err += c; });
  watchGlibProblems(child, () => err);
  const exited = new Promise((resolve) => {
    child.on('close', (code, signal) => { children.delete(child); resolve(code ?? `signal ${signal}`); });
  });
  const stop = async (signal = 'SIGTERM') => {
    let status;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      status = await exited;
      clearTimeout(timer);
    } else {
      status = await exited;
    }
    const problems = reportGlibProblems(child);
    if (problems.length > 0) {
      throw new Error(`the gateway (${status}) printed GLib/GStreamer CRITICAL/WARNING line(s):\n` +
                      problems.slice(0, 10).join('\n'));
    }
    return status;
  };
  t.after(() => stop('SIGKILL'));
  const deadline = Date.now() + timeoutMs;
  let match;
  while (!(match = LISTENING_ANY.exec(out))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop('SIGKILL').catch(() => {}); // the stderr below holds any problem line
      throw new Error(`gateway did not start: ${argv.join(' ')}\nstdout: ${out}\nstderr: ${err}`);
    }
    await sleep(20);
  }
  const [, scheme, host, port] = match;
  if (host !== '127.0.0.1') {
    await stop('SIGKILL').catch(() => {});
    throw new Error(`gateway listens on ${host}; tests only use 127.0.0.1`);
  }
  return {
    port: Number(port),
    url: `${scheme}://127.0.0.1:${port}`,
    wsUrl: `${scheme === 'https' ? 'wss' : 'ws'}://127.0.0.1:${port}/ws`,
    stdout: () => out,
    stderr: () => err,
    exited,
    stop,
  };
}
