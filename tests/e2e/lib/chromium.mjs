// chromium.mjs — what the end-to-end tests share: finding Chromium and playwright-core,
// re-running a test file inside a private network namespace (TESTING.md's network rule),
// launching Chromium with the flags of TESTING.md, and checking server frames against
// signalling/schema.
//
//   import { NETNS_MODE, launchChromium, runSelfInNamespace } from './lib/chromium.mjs';
//   if (NETNS_MODE !== '1' && NETNS_MODE !== '0') {
//     test('… (in a private network namespace)', (t) => runSelfInNamespace(t, THIS_FILE));
//   } else {
//     test('the real thing', async (t) => { const context = await launchChromium(t); … });
//   }

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

import { repoRoot } from '../../integration/lib/server.mjs';

const require = createRequire(import.meta.url);

export const CHROMIUM = process.env.MANIFOLD_CHROMIUM || '/usr/bin/chromium';

/** '1' = this process runs inside the namespace a wrapper made, '0' = do not wrap. */
export const NETNS_MODE = process.env.MANIFOLD_E2E_NETNS;

// From TESTING.md. Playwright rejects --user-data-dir here (launchPersistentContext
// takes the directory) and a second --disable-features would replace its own list.
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required', '--allow-loopback-in-peer-connection',
];

/** Why Chromium cannot be driven here, or null when it can. */
export function chromiumMissing() {
  if (!existsSync(CHROMIUM)) {
    return `Chromium not found at ${CHROMIUM}; install it with "apt-get install -y chromium" ` +
           '(or set MANIFOLD_CHROMIUM)';
  }
  try {
    require.resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed; run "npm ci" in tests/';
  }
  return null;
}

/** Why no network namespace can be made here, or null when one can. */
export function namespaceMissing() {
  const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8' });
  if (probe.status === 0) return null;
  const root = typeof process.getuid !== 'function' || process.getuid() === 0;
  return 'cannot create a network namespace (unshare -n failed' +
         `${root ? '' : ', and this is not root'}: ` +
         `${(probe.stderr || probe.error?.message || '').trim()}); run as root, or set ` +
         'MANIFOLD_E2E_NETNS=0 to use the host loopback';
}

function tapCount(output, name) {
  const m = new RegExp(`^# ${name} (\\d+)$`, 'm').exec(output);
  return m ? Number(m[1]) : 0;
}

const TAP_TOTALS = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) \d/;

/**
 * The outer half of a namespaced e2e file: skip (saying why) without Chromium or
 * namespaces, else run `file` again with node --test inside `unshare -n` (only `lo`,
 * brought up) and pass when every inner test passed. Inner result lines and the inner
 * tests' diagnostics that `forward` accepts are repeated as diagnostics of `t`.
 * @param {import('node:test').TestContext} t
 * @param {string} file absolute path of the test file
 * @param {{timeoutMs?: number, forward?: (text: string) => boolean}} [options]
 */
export function runSelfInNamespace(t, file, { timeoutMs = 300000, forward = () => true } = {}) {
  const missing = chromiumMissing() ?? namespaceMissing();
  if (missing) {
    t.skip(missing);
    return;
  }
  // `node --test` marks its children with NODE_TEST_CONTEXT; the inner run must not
  // inherit it or it would talk the runner's child protocol instead of TAP.
  const { NODE_TEST_CONTEXT: _ignored, ...env } = process.env;
  const run = spawnSync('unshare', [
    '-n', 'sh', '-c', 'ip link set lo up && exec "$0" --test --test-reporter=tap "$1"',
    process.execPath, file,
  ], {
    encoding: 'utf8',
    env: { ...env, MANIFOLD_E2E_NETNS: '1' },
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = `${run.stdout}\n${run.stderr}`;
  for (const line of output.split('\n')) {
    if (!/^\s*(#|(not )?ok \d)/.test(line)) continue;
    const text = line.replace(/^[\s#\\]+/, '');
    if (!text || text.startsWith('Subtest:') || TAP_TOTALS.test(text)) continue;
    if (/^(not )?ok \d/.test(text) || forward(text)) t.diagnostic(`inner: ${text}`);
  }
  assert.equal(run.status, 0, `the namespaced run failed (status ${run.status}` +
                              `${run.error ? `, ${run.error.message}` : ''}):\n${output}`);
  assert.equal(tapCount(output, 'fail'), 0, output);
  if (tapCount(output, 'todo') > 0) {
    t.diagnostic(`inner: ${tapCount(output, 'todo')} todo (known problems, see the TODO lines)`);
  }
  if (tapCount(output, 'pass') === 0) {
    const reason = /# SKIP (.*)$/m.exec(output)?.[1] ??
                   `no test passed inside the namespace:\n${output}`;
    t.skip(reason);
  }
}

/**
 * Chromium with a fresh profile (a persistent context: one browser), closed and its
 * profile removed when `t` ends.
 * @param {import('node:test').TestContext} t
 * @param {{args?: string[], viewport?: {width: number, height: number}}} [options]
 *   args: added to CHROMIUM_ARGS
 * @returns {Promise<import('playwright-core').BrowserContext>}
 */
export async function launchChromium(t, { args = [], viewport = { width: 1280, height: 800 } } = {}) {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(path.join(os.tmpdir(), 'manifold-e2e-profile-'));
  let context = null;
  t.after(async () => {
    // Chromium writes into its profile until it has exited: close first, then remove.
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
  });
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    chromiumSandbox: false,
    headless: true,
    args: [...CHROMIUM_ARGS, ...args],
    viewport,
  });
  return context;
}

/** Checks server -> client frames against signalling/schema ('' = fine, or the problem). */
export function serverFrameChecker() {
  const dir = path.join(repoRoot, 'signalling/schema');
  if (!existsSync(path.join(dir, 'server.schema.json'))) return () => '';
  const Ajv2020 = require('ajv/dist/2020.js');
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  const files = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(path.join(d, e.name))
                      : e.name.endsWith('.schema.json') ? [path.join(d, e.name)] : []);
  for (const file of files(dir)) ajv.addSchema(JSON.parse(readFileSync(file, 'utf8')));
  return (text) => {
    const message = JSON.parse(text);
    const validate = ajv.getSchema(`https://manifold.invalid/schema/v1/server/${message.type}.schema.json`);
    if (!validate) return `unknown type ${message.type}`;
    if (validate(message)) return '';
    const shown = text.replace(/"sdp":"[^"]*"/, '"sdp":"…"');
    return `${shown}: ${ajv.errorsText(validate.errors)}`;
  };
}
