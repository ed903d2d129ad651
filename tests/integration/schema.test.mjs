// schema.test.mjs — the JSON Schemas of signalling/schema agree with the C++ codec.
//
// Run from the repository root after building dump_examples:
//   ninja -C build tests/unit/protocol/dump_examples
//   node --test tests/integration/schema.test.mjs
//   MANIFOLD_BUILD_DIR=build-codec node --test tests/integration/schema.test.mjs
//
// 1. Every schema compiles (ajv strict mode, draft 2020-12).
// 2. Every message the real encoders produce (dump_examples client|server) validates
//    against its direction's index schema and its own type's schema; every type has a
//    schema file and an example.
// 3. Deliberately bad messages are rejected by the schemas and, where the codec is meant
//    to agree, by the real decoder too (dump_examples decode-client|decode-server).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020.js');

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const schemaDir = path.join(repoRoot, 'signalling/schema');
const buildDir = path.resolve(repoRoot, process.env.MANIFOLD_BUILD_DIR ?? 'build');
const dumpExamples = path.join(buildDir, 'tests/unit/protocol/dump_examples');

const BASE = 'https://manifold.invalid/schema/v1/';

function schemaFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return schemaFiles(full);
    return entry.name.endsWith('.schema.json') ? [full] : [];
  });
}

function loadAjv() {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  for (const file of schemaFiles(schemaDir)) ajv.addSchema(JSON.parse(readFileSync(file, 'utf8')));
  return ajv;
}

function typesOf(direction) {
  return readdirSync(path.join(schemaDir, direction))
      .filter((name) => name.endsWith('.schema.json'))
      .map((name) => name.slice(0, -'.schema.json'.length))
      .sort();
}

function run(args, input) {
  assert.ok(existsSync(dumpExamples),
      `${dumpExamples} is missing: build it (ninja -C ${path.relative(repoRoot, buildDir)} ` +
      'tests/unit/protocol/dump_examples) or set MANIFOLD_BUILD_DIR');
  return execFileSync(dumpExamples, args, { input, encoding: 'utf8' }).split('\n').filter(Boolean);
}

const ajv = loadAjv();

function validator(id) {
  const validate = ajv.getSchema(BASE + id);
  assert.ok(validate, `schema ${id} is not loaded`);
  return validate;
}

function explain(validate) {
  return ajv.errorsText(validate.errors, { separator: '\n  ' });
}

describe('schemas', () => {
  test('every schema compiles', () => {
    for (const file of schemaFiles(schemaDir)) {
      const id = JSON.parse(readFileSync(file, 'utf8')).$id;
      assert.ok(id.startsWith(BASE), `${file}: $id ${id}`);
      assert.equal(id, BASE + path.relative(schemaDir, file).split(path.sep).join('/'));
      assert.equal(typeof validator(id.slice(BASE.length)), 'function');
    }
  });

  for (const direction of ['client', 'server']) {
    test(`the ${direction} index lists every ${direction} type exactly once`, () => {
      const index = JSON.parse(readFileSync(path.join(schemaDir, `${direction}.schema.json`), 'utf8'));
      const listed = index.oneOf.map((entry) => path.basename(entry.$ref, '.schema.json')).sort();
      assert.deepEqual(listed, typesOf(direction));
    });
  }
});

for (const direction of ['client', 'server']) {
  describe(`${direction} messages from the C++ encoder`, () => {
    const lines = run([direction]);

    test('there is an example of every type, and a schema for every example', () => {
      const seen = [...new Set(lines.map((line) => JSON.parse(line).type))].sort();
      assert.deepEqual(seen, typesOf(direction));
    });

    for (const line of lines) {
      const message = JSON.parse(line);
      test(`${message.type}: ${line.length > 90 ? line.slice(0, 87) + '...' : line}`, () => {
        const index = validator(`${direction}.schema.json`);
        assert.ok(index(message), explain(index));
        const own = validator(`${direction}/${message.type}.schema.json`);
        assert.ok(own(message), explain(own));
      });
    }
  });
}

// [direction, what, message, codecAgrees]. codecAgrees = the C++ decoder refuses it too;
// false where the schema is deliberately stricter than the server (which ignores unknown
// fields and tolerates what version 1 clients never send).
const longString = (n) => 'x'.repeat(n);
const BAD = [
  ['client', 'no type', { id: 1 }, true],
  ['client', 'unknown type', { type: 'dance', id: 1 }, true],
  ['client', 'a server type', { type: 'welcome', id: 1, version: 1, server: 'x' }, true],
  ['client', 'fractional id', { type: 'ping', id: 1.5 }, true],
  ['client', 'negative id', { type: 'ping', id: -1 }, true],
  ['client', 'id above 2^53-1', { type: 'ping', id: 9007199254740992 }, true],
  ['client', 'id as a string', { type: 'ping', id: '1' }, true],
  ['client', 'hello without versions', { type: 'hello', id: 1 }, true],
  ['client', 'hello with no version', { type: 'hello', id: 1, versions: [] }, true],
  ['client', 'hello with 17 versions', { type: 'hello', id: 1, versions: Array(17).fill(1) }, true],
  ['client', 'join without room', { type: 'join', id: 1 }, true],
  ['client', 'room with a space', { type: 'join', id: 1, room: 'my room' }, true],
  ['client', 'room with a slash', { type: 'join', id: 1, room: 'a/b' }, true],
  ['client', 'empty room', { type: 'join', id: 1, room: '' }, true],
  ['client', 'room of 129 characters', { type: 'join', id: 1, room: longString(129) }, true],
  ['client', 'name of 129 characters', { type: 'join', id: 1, room: 'r', name: longString(129) }, true],
  ['client', 'token of 8193 characters', { type: 'join', id: 1, room: 'r', token: longString(8193) }, true],
  ['client', 'metadata as a string', { type: 'join', id: 1, room: 'r', metadata: '{}' }, true],
  ['client', 'metadata as an array', { type: 'join', id: 1, room: 'r', metadata: [] }, true],
  ['client', 'null token', { type: 'join', id: 1, room: 'r', token: null }, true],
  ['client', 'autoSubscribe as a string', { type: 'join', id: 1, room: 'r', autoSubscribe: 'no' }, true],
  ['client', 'publish of kind data', { type: 'publish', id: 1, kind: 'data' }, true],
  ['client', 'label of 65 characters', { type: 'publish', id: 1, kind: 'audio', label: longString(65) }, true],
  ['client', 'unpublish with empty trackId', { type: 'unpublish', id: 1, trackId: '' }, true],
  ['client', '257 trackIds', { type: 'subscribe', id: 1, trackIds: Array.from({ length: 257 }, (_, i) => `t${i}`) }, true],
  ['client', 'trackIds as a string', { type: 'subscribe', id: 1, trackIds: 't1' }, true],
  ['client', 'unsubscribe without trackIds', { type: 'unsubscribe', id: 1 }, true],
  ['client', 'muted as a number', { type: 'mute', id: 1, trackId: 't', muted: 1 }, true],
  ['client', 'pause without paused', { type: 'pause', id: 1, trackId: 't' }, true],
  ['client', 'answer without negotiationId', { type: 'answer', id: 1, sdp: 'v=0' }, true],
  ['client', 'sdp of 65537 characters', { type: 'answer', id: 1, negotiationId: 1, sdp: longString(65537) }, true],
  ['client', 'sdpMLineIndex 1024', { type: 'candidate', negotiationId: 1, candidate: '', sdpMLineIndex: 1024 }, true],
  ['client', 'candidate of 1025 characters', { type: 'candidate', negotiationId: 1, candidate: longString(1025), sdpMLineIndex: 0 }, true],
  ['client', 'candidate without negotiationId', { type: 'candidate', candidate: '', sdpMLineIndex: 0 }, false],
  ['client', 'an unknown field', { type: 'ping', id: 1, colour: 'red' }, false],
  ['server', 'error without code', { type: 'error', id: 1, reason: 'x', message: 'm' }, true],
  ['server', 'error code 99', { type: 'error', code: 99, reason: 'x', message: 'm' }, true],
  ['server', 'track of kind text', { type: 'track-published', track: { id: 't', participantId: 'p', kind: 'text', label: '', muted: false } }, true],
  ['server', 'grants missing admin', { type: 'joined', id: 1, room: 'r', participantId: 'p', grants: { join: true, publish: true, subscribe: true, record: true }, participants: [], iceServers: [] }, true],
  ['server', 'mid direction sendrecv', { type: 'offer', negotiationId: 1, sdp: '', mids: [{ mid: '0', trackId: 't', participantId: 'p', direction: 'sendrecv' }] }, true],
  ['server', 'ice server without urls', { type: 'joined', id: 1, room: 'r', participantId: 'p', grants: { join: true, publish: true, subscribe: true, record: false, admin: false }, participants: [], iceServers: [{}] }, true],
  ['server', 'participant without tracks', { type: 'participant-joined', participant: { id: 'p', identity: '', name: '' } }, true],
  ['server', 'server candidate with negotiationId', { type: 'candidate', negotiationId: 1, candidate: '', sdpMLineIndex: 0 }, false],
];

describe('bad messages', () => {
  const decoded = {};
  for (const direction of ['client', 'server']) {
    const cases = BAD.filter(([d]) => d === direction);
    const input = cases.map(([, , message]) => JSON.stringify(message)).join('\n') + '\n';
    const results = run([`decode-${direction}`], input);
    assert.equal(results.length, cases.length);
    cases.forEach((entry, i) => { decoded[`${direction}: ${entry[1]}`] = results[i]; });
  }

  for (const [direction, what, message, codecAgrees] of BAD) {
    test(`${direction}: ${what}`, () => {
      const index = validator(`${direction}.schema.json`);
      assert.equal(index(message), false, 'the schema accepted it');
      const result = decoded[`${direction}: ${what}`];
      if (codecAgrees) assert.match(result, /^error 100[1-3] /, 'the C++ decoder accepted it');
      else assert.equal(result, 'ok', 'the C++ decoder is meant to tolerate it');
    });
  }
});
