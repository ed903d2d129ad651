// constants.test.mjs — every copy of the protocol's constants agrees with
// signalling/protocol/constants.json.
//
// Run from the repository root (no build, no server):
//   node --test tests/integration/constants.test.mjs
//
// The table lists the protocol versions, every message type of each direction (whether it
// carries a request id, and a request's reply), every error code with its C++/JavaScript
// name and its wire reason, the disconnect reasons with their WebSocket close codes and the
// participant-left reasons. Checked against it:
//   - C++: kProtocolVersion and enum ErrorCode (Messages.hpp), errorReason
//     (Messages.cpp), the ClientMessage/ServerMessage variants (Messages.hpp), their wire
//     names kTypeName (CodecSupport.hpp) and the decoder tables (Codec.cpp,
//     CodecServer.cpp), LeaveReason's strings (src/core/Types.cpp), and every
//     disconnect("reason", ..., kCloseX) call with a literal reason;
//   - signalling/schema: the index oneOf lists, each message schema's type and id, the
//     enums of error codes, error reasons, disconnect and leave reasons, the $id version;
//   - signalling/client: PROTOCOL_VERSIONS and ErrorCode (protocol.js, imported), the
//     request types the library sends, and the server types its dispatch handles;
//   - PROTOCOL.md: the title's version, the "Message types" table, the request headings
//     ("hello → `welcome`"), the Errors table, the disconnect table and the
//     participant-left reasons.
// Source files are read with regular expressions; each fails loudly when it finds
// nothing, so a refactoring that moves a constant breaks this test instead of silencing it.
// Every mismatch is reported by name, all of them at once.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (rel) => readFileSync(path.join(repoRoot, rel), 'utf8');
const readJson = (rel) => JSON.parse(read(rel));

const TABLE_FILE = 'signalling/protocol/constants.json';
const table = readJson(TABLE_FILE);

const versions = table.protocolVersions;
const clientTypes = table.messages.client;
const serverTypes = table.messages.server;
const errors = table.errors;
const disconnectReasons = table.disconnectReasons;
const leaveReasons = table.leaveReasons;

// ------------------------------------------------------------------ helpers

/** Every match of `re` (global) in `text`, as arrays of groups; fails when there is none. */
function matchAll(text, re, what) {
  const found = [...text.matchAll(re)].map((m) => m.slice(1));
  assert.ok(found.length > 0, `found no ${what}: ${re} matched nothing (did the source change shape?)`);
  return found;
}

/** The one match of `re` in `text`; fails when there is none. */
function matchOne(text, re, what) {
  const m = text.match(re);
  assert.ok(m, `found no ${what}: ${re} matched nothing (did the source change shape?)`);
  return m;
}

/** The text of a Markdown section, from its heading to the next heading of its level. */
function section(markdown, heading) {
  const level = heading.match(/^#+/)[0];
  const start = markdown.split('\n').findIndex((line) => line === heading);
  assert.ok(start >= 0, `PROTOCOL.md has no heading "${heading}"`);
  const lines = markdown.split('\n').slice(start + 1);
  const end = lines.findIndex((line) => new RegExp(`^#{1,${level.length}} `).test(line));
  return lines.slice(0, end < 0 ? undefined : end).join('\n');
}

/**
 * Compare two lists of [key, value] pairs: keys missing on either side, keys listed
 * twice, and values that differ. `label(key)` names an entry in the messages.
 */
function diff(where, expected, actual, { label = String, value = 'value' } = {}) {
  const problems = [];
  const want = new Map();
  const have = new Map();
  for (const [list, map, side] of [[expected, want, TABLE_FILE], [actual, have, where]]) {
    for (const [key, v] of list) {
      if (map.has(key)) problems.push(`${label(key)}: listed twice in ${side}`);
      map.set(key, v);
    }
  }
  for (const [key, v] of want) {
    if (!have.has(key)) problems.push(`${label(key)}: in ${TABLE_FILE}, missing from ${where}`);
    else if (JSON.stringify(have.get(key)) !== JSON.stringify(v))
      problems.push(`${label(key)}: ${value} ${JSON.stringify(v)} in ${TABLE_FILE}, ` +
                    `${JSON.stringify(have.get(key))} in ${where}`);
  }
  for (const key of have.keys()) {
    if (!want.has(key)) problems.push(`${label(key)}: in ${where}, missing from ${TABLE_FILE}`);
  }
  return problems;
}

/** Compare two lists of names (no values). */
const diffNames = (where, expected, actual, label) =>
  diff(where, expected.map((k) => [k, true]), actual.map((k) => [k, true]), { label });

/** Fails with one line per problem. */
function assertNone(problems) {
  if (problems.length > 0) assert.fail(`${problems.length} mismatch(es):\n  ${problems.join('\n  ')}`);
}

const typeLabel = (direction) => (type) => `${direction} message "${type}"`;
const codeLabel = (code) => {
  const e = errors.find((x) => x.code === code);
  return `error ${code}${e ? ` ${e.name}` : ''}`;
};
const nameLabel = (name) => `ErrorCode.${name}`;
const disconnectLabel = (reason) => `disconnect reason "${reason}"`;
const leaveLabel = (reason) => `participant-left reason "${reason}"`;

// ------------------------------------------------------------------ the table itself

describe(`${TABLE_FILE} itself`, () => {
  test('is well formed', () => {
    const problems = [];
    if (!Array.isArray(versions) || versions.length === 0 || !versions.every(Number.isInteger))
      problems.push('protocolVersions must be a non-empty array of integers');
    for (const [direction, list] of Object.entries(table.messages)) {
      for (const m of list) {
        if (!/^[a-z]+(-[a-z]+)*$/.test(m.type)) problems.push(`${direction} type "${m.type}" is not lowercase kebab-case`);
        if (!['required', 'optional', 'absent'].includes(m.id)) problems.push(`${direction} "${m.type}": id must be required, optional or absent`);
      }
    }
    for (const m of clientTypes) {
      const isRequest = m.id === 'required';
      if (isRequest !== (m.reply !== undefined)) problems.push(`client "${m.type}": a request (id required) names its reply, others none`);
      if (isRequest && !serverTypes.some((s) => s.type === m.reply && s.id === 'required'))
        problems.push(`client "${m.type}": reply "${m.reply}" is not a server message with a required id`);
    }
    for (const e of errors) {
      if (!Number.isInteger(e.code) || e.code < 1000 || e.code > 9999) problems.push(`${e.name}: code ${e.code} is not 1000..9999`);
      const kebab = e.name.replace(/(?<!^)([A-Z])/g, '-$1').toLowerCase();
      if (e.reason !== kebab) problems.push(`${e.name}: reason "${e.reason}" is not its name in kebab-case ("${kebab}")`);
    }
    for (const d of disconnectReasons) {
      if (!Number.isInteger(d.closeCode)) problems.push(`disconnect "${d.reason}": close code ${d.closeCode} is not an integer`);
    }
    const dupes = (what, keys) => keys.filter((k, i) => keys.indexOf(k) !== i).map((k) => `${what} ${k} listed twice`);
    problems.push(...dupes('client type', clientTypes.map((m) => m.type)),
                  ...dupes('server type', serverTypes.map((m) => m.type)),
                  ...dupes('error code', errors.map((e) => e.code)),
                  ...dupes('error name', errors.map((e) => e.name)),
                  ...dupes('disconnect reason', disconnectReasons.map((d) => d.reason)),
                  ...dupes('leave reason', leaveReasons));
    assertNone(problems);
  });
});

// ------------------------------------------------------------------ C++

describe('C++ (signalling/protocol, src/core, the session and server)', () => {
  const messagesHpp = read('signalling/protocol/Messages.hpp');

  test('kProtocolVersion (Messages.hpp)', () => {
    const [, version] = matchOne(messagesHpp, /inline constexpr int kProtocolVersion = (\d+);/, 'kProtocolVersion');
    assert.deepEqual([Number(version)], versions,
        `Messages.hpp speaks version ${version}, ${TABLE_FILE} lists ${JSON.stringify(versions)}`);
  });

  test('enum ErrorCode (Messages.hpp)', () => {
    const [, body] = matchOne(messagesHpp, /enum class ErrorCode\b[^{]*\{([\s\S]*?)\};/, 'enum class ErrorCode');
    const entries = matchAll(body.replace(/\/\/.*$/gm, ''), /(\w+)\s*=\s*(\d+)/g, 'ErrorCode enumerators');
    assertNone(diff('Messages.hpp enum ErrorCode',
        errors.map((e) => [e.name, e.code]), entries.map(([n, c]) => [n, Number(c)]),
        { label: nameLabel, value: 'code' }));
  });

  test('errorReason (Messages.cpp)', () => {
    const cases = matchAll(read('signalling/protocol/Messages.cpp'),
        /case ErrorCode::(\w+): return "([^"]*)";/g, 'errorReason cases');
    assertNone(diff('Messages.cpp errorReason', errors.map((e) => [e.name, e.reason]), cases,
        { label: nameLabel, value: 'reason' }));
  });

  for (const [direction, variant, list, file, tableName] of [
    ['client', 'ClientMessage', clientTypes, 'signalling/protocol/Codec.cpp', 'kClientDecoders'],
    ['server', 'ServerMessage', serverTypes, 'signalling/protocol/CodecServer.cpp', 'kServerDecoders'],
  ]) {
    // The structs of the variant, in order.
    const variantMembers = () => {
      const [, members] = matchOne(messagesHpp, new RegExp(`using ${variant} = std::variant<([^>]*)>;`), `${variant} variant`);
      return members.split(',').map((s) => s.trim()).filter(Boolean);
    };

    test(`${variant} (Messages.hpp) and its wire names (CodecSupport.hpp kTypeName)`, () => {
      const structs = variantMembers();
      const typeNames = new Map(matchAll(read('signalling/protocol/CodecSupport.hpp'),
          /inline constexpr const char\* kTypeName<(\w+)> = "([^"]*)";/g, 'kTypeName specializations'));
      const problems = structs.filter((s) => !typeNames.has(s))
          .map((s) => `${variant} member ${s} has no kTypeName in CodecSupport.hpp`);
      problems.push(...diffNames(`Messages.hpp ${variant} (through kTypeName)`,
          list.map((m) => m.type), structs.filter((s) => typeNames.has(s)).map((s) => typeNames.get(s)),
          typeLabel(direction)));
      assertNone(problems);
    });

    test(`${tableName} (${path.basename(file)}) decodes every ${variant} member once`, () => {
      const [, body] = matchOne(read(file), new RegExp(`${tableName}\\[\\] = \\{([\\s\\S]*?)\\};`), tableName);
      const decoded = matchAll(body, /(?:entry<|kTypeName<)(\w+)/g, `${tableName} entries`).map(([s]) => s);
      assertNone(diffNames(`${path.basename(file)} ${tableName}`, variantMembers(), decoded, (s) => `${variant} member ${s}`));
    });
  }

  test('LeaveReason strings (src/core/Types.cpp) are the participant-left reasons', () => {
    const cases = matchAll(read('src/core/Types.cpp'), /case LeaveReason::\w+: return "([^"]*)";/g, 'LeaveReason cases');
    assertNone(diffNames('src/core/Types.cpp toString(LeaveReason)', leaveReasons, cases.map(([r]) => r), leaveLabel));
  });

  test('every disconnect reason the C++ sends is listed, with its close code', () => {
    const closeCodes = new Map(matchAll(read('signalling/session/Session.hpp'),
        /inline constexpr int (kClose\w+) = (\d+);/g, 'kClose constants').map(([n, v]) => [n, Number(v)]));
    const sources = ['signalling', 'src'].flatMap((dir) =>
        readdirSync(path.join(repoRoot, dir), { recursive: true })
            .filter((f) => /\.(cpp|hpp)$/.test(f)).map((f) => path.join(dir, f)));
    const problems = [];
    const literal = new Set();
    let withCloseCode = 0;
    for (const file of sources) {
      const text = read(file);
      for (const [, reason] of text.matchAll(/\b(?:disconnect|closeAll)\(\s*"([^"]*)"/g)) {
        literal.add(reason);
        if (!disconnectReasons.some((d) => d.reason === reason))
          problems.push(`${disconnectLabel(reason)}: sent in ${file}, missing from ${TABLE_FILE}`);
      }
      // disconnect("reason", "message...", kCloseX); the message may span lines.
      for (const [, reason, constant] of text.matchAll(/\bdisconnect\(\s*"([^"]*)"\s*,[\s\S]{0,300}?\b(kClose\w+)\s*\)\s*;/g)) {
        withCloseCode++;
        const entry = disconnectReasons.find((d) => d.reason === reason);
        if (!closeCodes.has(constant)) problems.push(`${file}: ${constant} is not a close code of Session.hpp`);
        else if (entry && entry.closeCode !== closeCodes.get(constant))
          problems.push(`${disconnectLabel(reason)}: close code ${entry.closeCode} in ${TABLE_FILE}, ` +
                        `${constant} = ${closeCodes.get(constant)} in ${file}`);
      }
    }
    assert.ok(literal.size > 0 && withCloseCode > 0,
        'found no disconnect("reason", ..., kCloseX) call in signalling/ or src/ (did the source change shape?)');
    // The others reach disconnect through Session::onRemoved(LeaveReason).
    for (const d of disconnectReasons) {
      if (!literal.has(d.reason) && !leaveReasons.includes(d.reason))
        problems.push(`${disconnectLabel(d.reason)}: in ${TABLE_FILE}, but the C++ never sends it ` +
                      '(neither a literal disconnect reason nor a LeaveReason)');
    }
    assertNone(problems);
  });
});

// ------------------------------------------------------------------ JSON Schemas

describe('JSON Schemas (signalling/schema)', () => {
  const schemaDir = 'signalling/schema';
  const defs = readJson(`${schemaDir}/defs.schema.json`).$defs;

  test(`$ids name version ${Math.max(...versions)}`, () => {
    const id = readJson(`${schemaDir}/defs.schema.json`).$id;
    const [, v] = matchOne(id, /\/schema\/v(\d+)\//, 'a version in the $id of defs.schema.json');
    assert.equal(Number(v), Math.max(...versions), `defs.schema.json $id is ${id}`);
  });

  for (const [direction, list] of [['client', clientTypes], ['server', serverTypes]]) {
    test(`${direction}.schema.json lists every ${direction} type`, () => {
      const index = readJson(`${schemaDir}/${direction}.schema.json`);
      assert.ok(Array.isArray(index.oneOf) && index.oneOf.length > 0, `${direction}.schema.json has no oneOf`);
      const refs = index.oneOf.map((entry) => matchOne(entry.$ref ?? '',
          new RegExp(`^${direction}/([a-z-]+)\\.schema\\.json$`), `a ${direction}/TYPE.schema.json $ref`)[1]);
      const files = readdirSync(path.join(repoRoot, schemaDir, direction))
          .filter((f) => f.endsWith('.schema.json')).map((f) => f.slice(0, -'.schema.json'.length));
      assertNone([
        ...diffNames(`${direction}.schema.json oneOf`, list.map((m) => m.type), refs, typeLabel(direction)),
        ...diffNames(`${schemaDir}/${direction}/`, list.map((m) => m.type), files, typeLabel(direction)),
      ]);
    });

    test(`each ${direction} schema's type and id`, () => {
      const problems = [];
      for (const m of list) {
        const file = `${schemaDir}/${direction}/${m.type}.schema.json`;
        let schema;
        try { schema = readJson(file); } catch { continue; } // reported by the test above
        if (schema.properties?.type?.const !== m.type)
          problems.push(`${typeLabel(direction)(m.type)}: ${file} has type const ${JSON.stringify(schema.properties?.type?.const)}`);
        const id = !schema.properties?.id ? 'absent' : schema.required?.includes('id') ? 'required' : 'optional';
        if (id !== m.id)
          problems.push(`${typeLabel(direction)(m.type)}: id ${m.id} in ${TABLE_FILE}, ${id} in ${file}`);
      }
      assertNone(problems);
    });
  }

  test('error codes and reasons (defs errorCode, errorReason; error.schema.json uses them)', () => {
    const problems = [];
    const error = readJson(`${schemaDir}/server/error.schema.json`).properties;
    if (error.code?.$ref !== '../defs.schema.json#/$defs/errorCode') problems.push('error.schema.json: code does not $ref defs errorCode');
    if (error.reason?.$ref !== '../defs.schema.json#/$defs/errorReason') problems.push('error.schema.json: reason does not $ref defs errorReason');
    const codes = defs.errorCode?.enum ?? [];
    const reasons = defs.errorReason?.enum ?? [];
    if (codes.length === 0) problems.push('defs.schema.json: errorCode has no enum');
    else problems.push(...diffNames('defs.schema.json errorCode', errors.map((e) => e.code), codes, codeLabel));
    if (reasons.length === 0) problems.push('defs.schema.json: errorReason has no enum');
    else problems.push(...diffNames('defs.schema.json errorReason', errors.map((e) => e.reason), reasons, (r) => `error reason "${r}"`));
    // The two enums pair up by position: the reason of errorCode.enum[i] is errorReason.enum[i].
    if (codes.length === 0 || reasons.length === 0) {
      // reported above
    } else if (codes.length === reasons.length) {
      codes.forEach((code, i) => {
        const e = errors.find((x) => x.code === code);
        if (e && e.reason !== reasons[i])
          problems.push(`${codeLabel(code)}: reason "${e.reason}" in ${TABLE_FILE}, "${reasons[i]}" at the same position in defs.schema.json errorReason`);
      });
    } else {
      problems.push(`defs.schema.json: errorCode has ${codes.length} entries, errorReason ${reasons.length}; they pair up by position`);
    }
    assertNone(problems);
  });

  test('disconnect and participant-left reasons (defs disconnectReason, leaveReason)', () => {
    const problems = [];
    for (const [file, def] of [['server/disconnect.schema.json', 'disconnectReason'], ['server/participant-left.schema.json', 'leaveReason']]) {
      if (readJson(`${schemaDir}/${file}`).properties?.reason?.$ref !== `../defs.schema.json#/$defs/${def}`)
        problems.push(`${file}: reason does not $ref defs ${def}`);
    }
    for (const [def, expected, label] of [['disconnectReason', disconnectReasons.map((d) => d.reason), disconnectLabel],
                                          ['leaveReason', leaveReasons, leaveLabel]]) {
      if (!defs[def]?.enum) problems.push(`defs.schema.json: ${def} has no enum`);
      else problems.push(...diffNames(`defs.schema.json ${def}`, expected, defs[def].enum, label));
    }
    assertNone(problems);
  });
});

// ------------------------------------------------------------------ client library

const protocol = await import(pathToFileURL(path.join(repoRoot, 'signalling/client/protocol.js')).href);

describe('client library (signalling/client)', () => {
  const clientDir = 'signalling/client';
  const sources = readdirSync(path.join(repoRoot, clientDir)).filter((f) => f.endsWith('.js'))
      .map((f) => [`${clientDir}/${f}`, read(`${clientDir}/${f}`)]);

  test('PROTOCOL_VERSIONS (protocol.js)', () => {
    assert.deepEqual([...protocol.PROTOCOL_VERSIONS], versions,
        `protocol.js PROTOCOL_VERSIONS is ${JSON.stringify(protocol.PROTOCOL_VERSIONS)}`);
  });

  test('ErrorCode (protocol.js)', () => {
    assertNone(diff('protocol.js ErrorCode', errors.map((e) => [e.name, e.code]), Object.entries(protocol.ErrorCode),
        { label: nameLabel, value: 'code' }));
  });

  test('the library sends every request type and no other', () => {
    const sent = sources.flatMap(([, text]) => [...text.matchAll(/\brequest\(\s*'([^']*)'/g)].map((m) => m[1]));
    assert.ok(sent.length > 0, `found no request('TYPE', ...) call in ${clientDir}`);
    const problems = diffNames(`${clientDir} request('TYPE') calls`,
        clientTypes.filter((m) => m.id === 'required').map((m) => m.type), [...new Set(sent)], typeLabel('client'));
    // Messages without a reply (candidate) are sent as object literals.
    for (const m of clientTypes.filter((x) => x.id !== 'required')) {
      if (!sources.some(([, text]) => text.includes(`type: '${m.type}'`)))
        problems.push(`${typeLabel('client')(m.type)}: in ${TABLE_FILE}, never sent by ${clientDir} (no "type: '${m.type}'")`);
    }
    assertNone(problems);
  });

  test('client.js dispatches every server message that can come without an id, and no other type', () => {
    const [, body] = matchOne(read(`${clientDir}/client.js`), /switch \(message\.type\) \{([\s\S]*?)default:/,
        'switch (message.type) in client.js');
    const cases = matchAll(body, /case '([^']*)':/g, 'cases of switch (message.type)').map(([t]) => t);
    const problems = cases.filter((t) => !serverTypes.some((m) => m.type === t))
        .map((t) => `${typeLabel('server')(t)}: handled by client.js, missing from ${TABLE_FILE}`);
    for (const m of serverTypes.filter((x) => x.id !== 'required')) {
      if (!cases.includes(m.type)) problems.push(`${typeLabel('server')(m.type)}: can come without an id, but client.js has no case for it`);
    }
    assertNone(problems);
  });
});

// ------------------------------------------------------------------ PROTOCOL.md

describe('signalling/PROTOCOL.md', () => {
  const doc = read('signalling/PROTOCOL.md');

  test('title version', () => {
    const [, v] = matchOne(doc, /^# Manifold signalling protocol, version (\d+)$/m, 'the title "# Manifold signalling protocol, version N"');
    assert.equal(Number(v), Math.max(...versions));
  });

  test('"Message types" table', () => {
    const rows = matchAll(section(doc, '## Message types'), /^\| `([a-z-]+)` \| (client|server|both) \|/gm, 'rows of the Message types table');
    const of = (direction) => rows.filter(([, from]) => from === direction || from === 'both').map(([type]) => type);
    assertNone([
      ...diffNames('PROTOCOL.md "Message types" (from client)', clientTypes.map((m) => m.type), of('client'), typeLabel('client')),
      ...diffNames('PROTOCOL.md "Message types" (from server)', serverTypes.map((m) => m.type), of('server'), typeLabel('server')),
    ]);
  });

  test('request headings of "Client → server" name each reply', () => {
    const client = section(doc, '## Client → server');
    const headings = matchAll(client, /^### ([a-z-]+) (?:→ `([a-z-]+)`|\(no reply\))$/gm, '"### type → `reply`" headings');
    assertNone(diff('PROTOCOL.md "Client → server" headings', clientTypes.map((m) => [m.type, m.reply ?? null]),
        headings.map(([type, reply]) => [type, reply ?? null]), { label: typeLabel('client'), value: 'reply' }));
  });

  test('Errors table', () => {
    const rows = matchAll(section(doc, '## Errors'), /^\| (\d{4}) \| `([a-z-]+)` \|/gm, 'rows of the Errors table');
    assertNone(diff('PROTOCOL.md Errors table', errors.map((e) => [e.code, e.reason]),
        rows.map(([code, reason]) => [Number(code), reason]), { label: codeLabel, value: 'reason' }));
  });

  test('disconnect reasons and close codes (Leaving and disconnect)', () => {
    const rows = matchAll(section(doc, '## Leaving and disconnect'), /^\| `([a-z-]+)` \| [^|]* \| (\d{4}) \|/gm,
        'rows of the disconnect table');
    assertNone(diff('PROTOCOL.md disconnect table', disconnectReasons.map((d) => [d.reason, d.closeCode]),
        rows.map(([reason, code]) => [reason, Number(code)]), { label: disconnectLabel, value: 'close code' }));
  });

  test('participant-left reasons (Room events)', () => {
    const [, reasons] = matchOne(section(doc, '### Room events'), /^\| `participant-left` \|.*`reason` is one of ([^|]*)\|/m,
        'the participant-left row of Room events ("`reason` is one of ...")');
    const listed = matchAll(reasons, /`([a-z-]+)`/g, 'participant-left reasons').map(([r]) => r);
    assertNone(diffNames('PROTOCOL.md Room events', leaveReasons, listed, leaveLabel));
  });
});
