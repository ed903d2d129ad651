// library.test.mjs — the gateway serves the browser client library (every module of
// signalling/client/, built into the binary) under /lib/, and nothing else there.
//
//   node --test tests/integration/library.test.mjs

import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, test } from 'node:test';

import { repoRoot, withManifold } from './lib/server.mjs';
import { httpRequest, STEP_MS, tempDir } from './lib/wire.mjs';

const LIBRARY_DIR = path.join(repoRoot, 'signalling/client');

/** The library's modules in the source tree: file name -> text. */
function sourceModules() {
  const modules = new Map();
  for (const name of readdirSync(LIBRARY_DIR).filter((n) => n.endsWith('.js')).sort()) {
    modules.set(name, readFileSync(path.join(LIBRARY_DIR, name), 'utf8'));
  }
  return modules;
}

/**
 * GET with the path sent exactly as written: `httpRequest` takes a URL, which resolves
 * "." and ".." segments before anything is sent, so traversal attempts need this.
 */
function rawGet(server, rawPath) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path: rawPath, timeout: STEP_MS }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${rawPath}: no answer within ${STEP_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Every module of the source tree is served at /lib/NAME, byte for byte, as JavaScript. */
async function assertServesLibrary(server, modules) {
  for (const [name, source] of modules) {
    const res = await httpRequest(`${server.url}/lib/${name}`);
    assert.equal(res.status, 200, `/lib/${name}: ${res.status} ${res.text.slice(0, 200)}`);
    // Browsers refuse a module script served with another type (nosniff makes them strict).
    assert.match(res.headers['content-type'], /^text\/javascript(;|$)/, `/lib/${name}`);
    assert.equal(res.headers['x-content-type-options'], 'nosniff', `/lib/${name}`);
    assert.ok(res.text === source, `/lib/${name} is the source file (rebuild after editing it: ` +
                                   `${res.text.length} bytes served, ${source.length} in the tree)`);
  }
}

// Paths that try to leave /lib/ for the file system or another resource. libsoup resolves
// dot segments, escaped ones too, before the gateway sees the path (/lib/../../etc/passwd
// and /lib/%2e%2e/%2e%2e/etc/passwd arrive as /etc/passwd): these must find nothing
// wherever they land.
const TRAVERSALS = [
  '/lib/../../etc/passwd',
  '/lib/../../../../../../etc/passwd',
  '/lib/%2e%2e/%2e%2e/etc/passwd',
  '/lib/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
  '/lib/..%5c..%5cetc%5cpasswd',
  '/lib/%2e%2e/web/index.html',
];

describe('client library under /lib/', () => {
  const modules = sourceModules();

  test('the source tree has the entry point and every relative import names a sibling module', () => {
    assert.ok(modules.has('manifold.js'), 'signalling/client/manifold.js exists');
    assert.ok(modules.size > 1, `the library is split into modules: ${[...modules.keys()].join(', ')}`);
    // The browser resolves these against /lib/, Node against signalling/client/: both work
    // only while every import is "./NAME.js" of a module in the same directory.
    for (const [name, source] of modules) {
      for (const [, specifier] of source.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"]([^'"]+)['"]/gm)) {
        assert.match(specifier, /^\.\/[A-Za-z0-9_-]+\.js$/, `${name} imports ${specifier}`);
        assert.ok(modules.has(specifier.slice(2)), `${name} imports ${specifier}, which is not in the library`);
      }
    }
  });

  test('every module is served as JavaScript and equals its source file', async (t) => {
    const server = await withManifold(t, ['--auth', 'none']);
    await assertServesLibrary(server, modules);
    const head = await httpRequest(`${server.url}/lib/manifold.js`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.match(head.headers['content-type'], /^text\/javascript/);
  });

  test('unknown /lib/ paths and traversal attempts get 404', async (t) => {
    const server = await withManifold(t, ['--auth', 'none']);
    for (const unknown of ['/lib/no-such-module.js', '/lib/', '/lib', '/lib/manifold.mjs',
                           '/lib/MANIFOLD.JS', '/lib/manifold', '/lib/sub/manifold.js',
                           '/lib/manifold.js/', '/lib/.js', '/lib/manifold.gresource.xml',
                           '/lib/app.js', '/lib/index.html']) {
      const res = await rawGet(server, unknown);
      assert.equal(res.status, 404, `${unknown}: ${res.status} ${res.text.slice(0, 200)}`);
    }
    for (const traversal of TRAVERSALS) {
      const res = await rawGet(server, traversal);
      assert.equal(res.status, 404, `${traversal}: ${res.status} ${res.text.slice(0, 200)}`);
      assert.doesNotMatch(res.text, /root:|ManifoldClient|<html/i, traversal);
    }
    // An escaped "/" inside a segment: libsoup refuses the request line itself.
    for (const traversal of ['/lib/..%2f..%2fetc%2fpasswd', '/lib/%2e%2e%2fweb%2fapp.js']) {
      const res = await rawGet(server, traversal);
      assert.ok(res.status === 400 || res.status === 404, `${traversal}: ${res.status}`);
      assert.doesNotMatch(res.text, /root:|ManifoldClient|<html/i, traversal);
    }
    const only = await httpRequest(`${server.url}/lib/manifold.js`);
    assert.equal(only.status, 200, 'still serving after the refusals');
  });

  test('with --web-root, /lib/ still serves the built-in library and nothing from the web root', async (t) => {
    const root = tempDir(t);
    writeFileSync(path.join(root, 'index.html'), '<!doctype html><html><title>elsewhere</title></html>\n');
    mkdirSync(path.join(root, 'lib'));
    writeFileSync(path.join(root, 'lib', 'manifold.js'), 'export const shadow = true;\n');
    writeFileSync(path.join(root, 'lib', 'extra.js'), 'export const extra = true;\n');
    const server = await withManifold(t, ['--auth', 'none', '--web-root', root]);
    const page = await httpRequest(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.text, /elsewhere/, 'the page comes from --web-root');
    await assertServesLibrary(server, modules);
    assert.equal((await rawGet(server, '/lib/extra.js')).status, 404, '/lib/ is the library only');
    for (const traversal of TRAVERSALS) {
      assert.equal((await rawGet(server, traversal)).status, 404, traversal);
    }
    assert.equal((await rawGet(server, '/../../../../etc/passwd')).status, 404);
    assert.equal((await rawGet(server, '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd')).status, 404);
  });
});
