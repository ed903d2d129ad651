// demo.test.mjs — the demo page and the client library in headless Chromium against the
// real gateway:
//   1. the page joins from its address (?room=e2e&name=Alice), lists "Bob" (the client
//      library in Node) as he comes, goes and comes back, publishes its fake camera (or
//      says the gateway has no media plane), and leaves (Bob hears participant-left);
//   2. the library's answerer half against a real WebRTC stack (an in-page offerer);
//   3. two pages see and hear each other through the gateway's media plane, with stats,
//      mute and leave (skipped, saying why, when the gateway has no media plane).
//
// Run from the repository root (after building the gateway):
//   node --test tests/e2e/demo.test.mjs
//
// Needs Debian's Chromium at /usr/bin/chromium (`apt-get install -y chromium`; override
// with MANIFOLD_CHROMIUM) driven by playwright-core; without it the test is skipped and
// says why. Following the network rule of TESTING.md, the test re-runs itself inside a
// private network namespace (`unshare -n`, only `lo` inside) so Chromium, the gateway and
// Bob can only reach each other; MANIFOLD_E2E_NETNS=0 runs it on the host's loopback
// instead (for machines where unshare is not allowed).
//
// A screenshot of the page with Alice and Bob in the room is written to
// $MANIFOLD_E2E_SCREENSHOT, or a fresh temporary directory (the path is printed).

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { ManifoldClient } from '../../signalling/client/manifold.js';
import { startManifold } from '../integration/lib/server.mjs';
import {
  NETNS_MODE, chromiumMissing, launchChromium, runSelfInNamespace, serverFrameChecker,
} from './lib/chromium.mjs';

const require = createRequire(import.meta.url);
const { WebSocket } = require('ws');

const THIS_FILE = fileURLToPath(import.meta.url);
const STEP_MS = 10000;

if (NETNS_MODE !== '1' && NETNS_MODE !== '0') {
  // ---------------------------------------------------------------- outer run: wrap
  test('demo page e2e (in a private network namespace)', (t) => {
    runSelfInNamespace(t, THIS_FILE, {
      timeoutMs: 300000, // above the sum of the tests' own 90 s limits
      forward: (text) => /^(screenshot|publish outcome):/.test(text),
    });
  });
} else {
  // ---------------------------------------------------------------- the real tests

  /** One page of a fresh Chromium, closed (and its profile removed) when `t` ends. */
  const launchPage = async (t) => {
    const context = await launchChromium(t);
    return context.pages()[0] ?? await context.newPage();
  };

  test('demo page: join, see Bob come and go, leave', { timeout: 90000 }, async (t) => {
    const missing = chromiumMissing();
    if (missing) {
      t.skip(missing);
      return;
    }

    const server = await startManifold(['--auth', 'none']);
    t.after(() => server.stop());

    const screenshot = process.env.MANIFOLD_E2E_SCREENSHOT ||
        path.join(mkdtempSync(path.join(os.tmpdir(), 'manifold-e2e-')), 'demo.png');
    const page = await launchPage(t);
    const pageErrors = [];
    const consoleLines = [];
    page.on('pageerror', (err) => pageErrors.push(err));
    page.on('console', (msg) => consoleLines.push(`${msg.type()}: ${msg.text()}`));
    const bobs = [];
    t.after(() => { for (const b of bobs) b.close(); });
    const newBob = () => {
      const bob = new ManifoldClient(server.wsUrl, { WebSocket, requestTimeoutMs: STEP_MS });
      bobs.push(bob);
      return bob;
    };

    const pageState = async () => ({
      status: await page.locator('#status-text').textContent(),
      error: await page.locator('#error').isVisible() ? await page.locator('#error').textContent() : '',
      participants: await page.locator('#participants li').allTextContents(),
      console: consoleLines.slice(-10),
      pageErrors: pageErrors.map(String),
    });
    const step = async (what, fn) => {
      try {
        return await fn();
      } catch (err) {
        throw new Error(`${what}: ${err.message}\npage: ${JSON.stringify(await pageState(), null, 2)}` +
                        `\ngateway stderr:\n${server.stderr().slice(-2000)}`, { cause: err });
      }
    };

    // 1. Alice opens the page with room and name in the address: it joins at once.
    await step('page loads and joins', async () => {
      const response = await page.goto(`${server.url}/?room=e2e&name=Alice`);
      assert.equal(response.status(), 200);
      await page.locator('#call-view').waitFor({ state: 'visible', timeout: STEP_MS });
      await page.waitForFunction(
          () => document.getElementById('status-text').textContent.includes('In room'),
          null, { timeout: STEP_MS });
      assert.match(await page.locator('#status-text').textContent(), /In room “e2e” as Alice/);
      assert.match(await page.locator('#participants li').first().textContent(), /Alice \(you\)/);
      assert.equal(await page.locator('#join-view').isVisible(), false);
    });

    // 2. Bob joins from Node: he sees Alice; the page lists Bob and gives him a tile.
    //    Bob has no RTCPeerConnection: he asks for no media (autoSubscribe off).
    const bob = newBob();
    const alice = await step('Bob joins and sees Alice', async () => {
      const joined = await bob.join('e2e', { name: 'Bob', autoSubscribe: false });
      const found = joined.participants.find((p) => p.name === 'Alice');
      assert.ok(found, `Bob sees Alice: ${JSON.stringify(joined.participants)}`);
      return found;
    });
    await step('page lists Bob', async () => {
      await page.locator('#participants li', { hasText: 'Bob' }).waitFor({ timeout: STEP_MS });
      await page.locator('#grid figure.tile.remote', { hasText: 'Bob' }).waitFor({ timeout: STEP_MS });
      assert.equal(await page.locator('#participants li').count(), 2);
      assert.equal(await page.locator('#people-count').textContent(), '(2)');
    });

    // 3. The page opened the fake camera and tried to publish: either a media plane took
    //    the tracks (Bob hears of them) or the page says there is none.
    await step('camera preview and publish outcome', async () => {
      await page.waitForFunction(() => {
        const v = document.getElementById('local-video');
        return v.srcObject && v.srcObject.getVideoTracks().length > 0 && v.readyState >= 2;
      }, null, { timeout: STEP_MS });
      const notice = page.locator('#notices [data-key="media"]');
      // Alice's tracks reach Bob in `joined` (published before he came) or as
      // track-published events (after).
      let onTrack;
      let timer;
      const outcome = await Promise.any([
        notice.waitFor({ timeout: STEP_MS }).then(() => 'notice'),
        new Promise((resolve, reject) => {
          const check = () => {
            if ((bob.participants.get(alice.id)?.tracks.length ?? 0) > 0) resolve('published');
          };
          onTrack = check;
          bob.on('track-published', onTrack);
          timer = setTimeout(() => reject(new Error('no track from Alice')), STEP_MS);
          check();
        }),
      ]).catch(() => 'neither').finally(() => {
        bob.off('track-published', onTrack);
        clearTimeout(timer);
      });
      assert.notEqual(outcome, 'neither',
                      'the page neither published its tracks nor said there is no media plane');
      if (outcome === 'notice') {
        assert.match(await notice.textContent(), /no media plane yet: signalling only/);
      } else {
        // A media plane took the tracks: the page's peer connection must come up.
        await page.waitForFunction(
            () => document.getElementById('media-state').textContent === 'media: connected',
            null, { timeout: STEP_MS });
      }
      t.diagnostic(`publish outcome: ${outcome}`);
      assert.equal(await page.locator('#mute-cam').isEnabled(), true);
      assert.equal(await page.locator('#error').isVisible(), false,
                   `no error shown: ${await page.locator('#error').textContent()}`);
    });

    await page.waitForTimeout(300); // let the fake camera paint a few frames
    await page.screenshot({ path: screenshot, fullPage: true });
    t.diagnostic(`screenshot: ${screenshot}`);

    // Mute camera round trip through the page's button.
    await step('mute camera button', async () => {
      await page.click('#mute-cam');
      await page.waitForFunction(
          () => document.getElementById('mute-cam').getAttribute('aria-pressed') === 'true',
          null, { timeout: STEP_MS });
      assert.equal(await page.locator('#mute-cam').textContent(), 'Unmute camera');
      await page.click('#mute-cam');
      await page.waitForFunction(
          () => document.getElementById('mute-cam').getAttribute('aria-pressed') === 'false',
          null, { timeout: STEP_MS });
    });

    // 4. Bob leaves: the page removes him.
    await step('Bob leaves; page removes him', async () => {
      await bob.leave();
      await page.locator('#participants li', { hasText: 'Bob' }).waitFor({ state: 'detached', timeout: STEP_MS });
      await page.locator('#grid figure.tile.remote').waitFor({ state: 'detached', timeout: STEP_MS });
      assert.equal(await page.locator('#participants li').count(), 1);
    });

    // 5. Bob rejoins; Alice clicks Leave: Bob hears that Alice left.
    await step('Bob rejoins', async () => {
      const again = await bob.join('e2e', { name: 'Bob', autoSubscribe: false });
      assert.ok(again.participants.some((p) => p.id === alice.id), 'Alice is still there');
      await page.locator('#participants li', { hasText: 'Bob' }).waitFor({ timeout: STEP_MS });
    });
    await step('Alice clicks Leave; Bob gets participant-left', async () => {
      const aliceLeft = bob.once('participant-left', (e) => e.participantId === alice.id, STEP_MS);
      await page.click('#leave');
      const left = await aliceLeft;
      assert.equal(left.reason, 'left');
      assert.equal(bob.participants.size, 0);
      await page.locator('#join-view').waitFor({ state: 'visible', timeout: STEP_MS });
      assert.equal(await page.locator('#call-view').isVisible(), false);
      assert.match(await page.locator('#status-text').textContent(), /left the room/);
      assert.equal(new URL(page.url()).search, '', 'the address no longer rejoins on reload');
      assert.equal(await page.locator('#room').inputValue(), 'e2e', 'the form keeps the room');
    });

    assert.deepEqual(pageErrors.map(String), [], 'no uncaught errors in the page');
  });

  // The gateway has no media plane yet, so the library's answerer half meets a real
  // WebRTC stack here: inside the page, a scripted "server" with its own
  // RTCPeerConnection plays the gateway (it offers, maps mids, trickles candidates) over
  // an in-page socket, and the library answers with Chromium's RTCPeerConnection.
  test('client library answers real offers (Chromium WebRTC, in-page offerer)', { timeout: 90000 },
       async (t) => {
    const missing = chromiumMissing();
    if (missing) {
      t.skip(missing);
      return;
    }
    const server = await startManifold(['--auth', 'none']);
    t.after(() => server.stop());
    const page = await launchPage(t);
    const pageErrors = [];
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    await page.goto(`${server.url}/`); // a secure origin that serves /lib/manifold.js

    const evaluation = page.evaluate(async (timeoutMs) => {
      const log = [];
      window.mediaTestLog = log;
      log.push('start');
      const { ManifoldClient } = await import('/lib/manifold.js');
      const deadline = (what) => new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`timed out: ${what}; log: ${log.join(' | ')}`)), timeoutMs));
      const within = (what, promise) => Promise.race([promise, deadline(what)]);

      // ---- the scripted gateway
      const spc = new RTCPeerConnection();
      let socket = null;
      let negotiationId = 0;
      const serverTracks = new Map(); // mid -> MediaStreamTrack received from the client
      const deliver = (m) => socket.dispatchEvent(new MessageEvent('message', { data: JSON.stringify(m) }));
      spc.onicecandidate = ({ candidate }) => {
        if (candidate) {
          deliver({ type: 'candidate', candidate: candidate.candidate, sdpMid: candidate.sdpMid,
                    sdpMLineIndex: candidate.sdpMLineIndex });
        }
      };
      spc.ontrack = ({ track, transceiver }) => serverTracks.set(transceiver.mid, track);
      const canvas = Object.assign(document.createElement('canvas'), { width: 320, height: 240 });
      const g = canvas.getContext('2d');
      let hue = 0;
      const painter = setInterval(() => { g.fillStyle = `hsl(${hue = (hue + 7) % 360} 80% 50%)`; g.fillRect(0, 0, 320, 240); }, 40);
      const serverVideo = canvas.captureStream(25).getVideoTracks()[0];
      const audioContext = new AudioContext();
      const oscillator = audioContext.createOscillator();
      const sink = audioContext.createMediaStreamDestination();
      oscillator.connect(sink);
      oscillator.start();
      const serverAudio = sink.stream.getAudioTracks()[0];
      const mids = [];
      const offer = async () => {
        const o = await spc.createOffer();
        await spc.setLocalDescription(o);
        negotiationId++;
        log.push(`offer ${negotiationId}`);
        deliver({ type: 'offer', negotiationId, sdp: spc.localDescription.sdp, mids });
      };
      const onClient = async (m) => {
        log.push(`client ${m.type}`);
        switch (m.type) {
          case 'hello': deliver({ type: 'welcome', id: m.id, version: 1, server: 'in-page' }); break;
          case 'join':
            deliver({ type: 'joined', id: m.id, room: m.room, participantId: 'me',
                      grants: { join: true, publish: true, subscribe: true, record: false, admin: false },
                      participants: [], iceServers: [] });
            break;
          case 'publish': {
            deliver({ type: 'published', id: m.id, track: { id: 'my-cam', participantId: 'me',
                                                            kind: m.kind, label: m.label, muted: false } });
            // Receive the client's camera on one m-line, send ours on another: one offer.
            const recv = spc.addTransceiver('video', { direction: 'recvonly' });
            const send = spc.addTransceiver(serverVideo, { direction: 'sendonly' });
            await offer(); // assigns the mids
            mids.push({ mid: recv.mid, trackId: 'my-cam', participantId: 'me', direction: 'send' },
                      { mid: send.mid, trackId: 'srv-cam', participantId: 'srv', direction: 'recv' });
            // The first offer went out before the mids were known: send the real one now.
            // (Exercises the chain: two offers back to back, answered in order.)
            await offer();
            break;
          }
          case 'answer':
            if (m.negotiationId !== negotiationId) {
              deliver({ type: 'error', id: m.id, code: 1012, reason: 'stale-negotiation',
                        message: `no offer ${m.negotiationId} is waiting` });
              break;
            }
            await spc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
            deliver({ type: 'ok', id: m.id });
            break;
          case 'candidate':
            if (m.candidate) await spc.addIceCandidate({ candidate: m.candidate, sdpMid: m.sdpMid,
                                                         sdpMLineIndex: m.sdpMLineIndex });
            break;
          default: break;
        }
      };
      class InPageSocket extends EventTarget {
        constructor() {
          super();
          this.readyState = 0;
          socket = this;
          setTimeout(() => { this.readyState = 1; this.dispatchEvent(new Event('open')); });
        }
        send(text) { onClient(JSON.parse(text)).catch((e) => log.push(`server error ${e}`)); }
        close() {
          this.readyState = 3;
          this.dispatchEvent(new CloseEvent('close', { code: 1000, wasClean: true }));
        }
      }

      // ---- the library under test, with Chromium's RTCPeerConnection
      const client = new ManifoldClient('ws://in-page/ws', { WebSocket: InPageSocket });
      const tracks = [];
      const errors = [];
      client.on('track', (e) => tracks.push(e));
      client.on('error', ({ error }) => errors.push(`${error.code} ${error.message}`));
      const connected = client.once('connectionstatechange', (e) => e.state === 'connected');
      await within('join', client.join('media', { name: 'Alice' }));
      log.push('joined');
      const camera = (await within('getUserMedia',
                                   navigator.mediaDevices.getUserMedia({ video: true }))).getVideoTracks()[0];
      await within('publish', client.publish(camera));
      await within('ICE/DTLS connected', connected);

      const inbound = async (report) => {
        let found = null;
        report?.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind !== 'audio') found = s; });
        return found;
      };
      const framesBoth = async () => {
        const clientSide = await inbound(await client.getStats('srv-cam'));
        const serverSide = await inbound(await spc.getStats(serverTracks.values().next().value ?? null));
        return [clientSide?.framesDecoded ?? 0, serverSide?.framesDecoded ?? 0];
      };
      await within('frames decoded both ways', (async () => {
        for (;;) {
          const [a, b] = await framesBoth();
          if (a > 3 && b > 3) return;
          await new Promise((r) => setTimeout(r, 100));
        }
      })());
      const [clientFrames, serverFrames] = await framesBoth();

      // ---- renegotiation: the server adds an audio track
      const micTrack = client.once('track', (e) => e.trackId === 'srv-mic');
      const audio = spc.addTransceiver(serverAudio, { direction: 'sendonly' });
      const before = negotiationId;
      const o = await spc.createOffer(); // learn the new mid, then offer with the mapping
      await spc.setLocalDescription(o);
      mids.push({ mid: audio.mid, trackId: 'srv-mic', participantId: 'srv', direction: 'recv' });
      negotiationId = before + 1;
      deliver({ type: 'offer', negotiationId, sdp: spc.localDescription.sdp, mids });
      const mic = await within('srv-mic track event', micTrack);
      await within('answer to offer 4', (async () => {
        while (spc.signalingState !== 'stable') await new Promise((r) => setTimeout(r, 50));
      })());

      const sender = client.peerConnection.getTransceivers()
          .find((x) => x.mid === mids[0].mid).sender;
      const summary = {
        tracks: tracks.map((e) => `${e.mid}:${e.trackId}:${e.participantId}:${e.track.kind}`),
        micKind: mic.track.kind,
        clientFrames,
        serverFrames,
        sendsCamera: sender.track === camera,
        serverReceivedMids: [...serverTracks.keys()],
        errors,
        log,
        remoteTrackIds: [...client.remoteTracks.keys()].sort(),
      };
      clearInterval(painter);
      client.close();
      spc.close();
      audioContext.close();
      return summary;
    }, 15000);
    let timer;
    const result = await Promise.race([
      evaluation,
      new Promise((_, reject) => {
        timer = setTimeout(async () => {
          const log = await page.evaluate(() => window.mediaTestLog).catch((e) => [String(e)]);
          reject(new Error(`the in-page media test did not finish in 45 s; log: ${JSON.stringify(log)}`));
        }, 45000);
      }),
    ]).finally(() => clearTimeout(timer));

    t.diagnostic(`in-page media: ${JSON.stringify({ ...result, log: undefined })}`);
    assert.ok(result.clientFrames > 3, `the library decoded the server's video (${result.clientFrames})`);
    assert.ok(result.serverFrames > 3, `the server decoded the library's camera (${result.serverFrames})`);
    assert.equal(result.sendsCamera, true);
    assert.equal(result.micKind, 'audio');
    assert.deepEqual(result.remoteTrackIds, ['srv-cam', 'srv-mic']);
    assert.ok(result.tracks.some((x) => /:srv-cam:srv:video$/.test(x)), result.tracks.join(', '));
    assert.ok(result.tracks.every((x) => !x.includes('my-cam')), 'own tracks are not announced');
    // The first offer (no mids yet) may be answered or turned away as stale: both are fine.
    assert.deepEqual(result.errors.filter((e) => !e.startsWith('1012')), []);
    assert.deepEqual(pageErrors, []);
  });

  // Two browsers in one room through the gateway's media plane: each page shows the
  // other's camera with live statistics, mute shows on the other side, leaving removes
  // the tile. Skipped (saying why) when the gateway has no media plane.
  test('two pages see each other through the gateway', { timeout: 90000 }, async (t) => {
    const missing = chromiumMissing();
    if (missing) {
      t.skip(missing);
      return;
    }
    const server = await startManifold(['--auth', 'none']);
    t.after(() => server.stop());
    const alice = await launchPage(t);
    const carol = await alice.context().newPage();
    const pageErrors = [];
    const badFrames = [];
    const checkFrame = serverFrameChecker();
    for (const page of [alice, carol]) {
      page.on('pageerror', (err) => pageErrors.push(String(err)));
      page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => {
        const problem = checkFrame(String(payload));
        if (problem) badFrames.push(problem);
      }));
    }
    const step = async (what, fn) => {
      try {
        return await fn();
      } catch (err) {
        const state = async (page) => ({
          status: await page.locator('#status-text').textContent(),
          media: await page.locator('#media-state').textContent(),
          error: await page.locator('#error').textContent(),
          notices: await page.locator('#notices').textContent(),
          tiles: await page.locator('#grid figure').evaluateAll((els) => els.map((e) => e.className)),
        });
        throw new Error(`${what}: ${err.message}\nAlice: ${JSON.stringify(await state(alice))}` +
                        `\nCarol: ${JSON.stringify(await state(carol))}` +
                        `\ngateway stderr:\n${server.stderr().slice(-2000)}`, { cause: err });
      }
    };
    const remoteVideo = (page, has) => page.waitForFunction(
        (want) => Boolean(document.querySelector('#grid figure.remote.has-video')) === want,
        has, { timeout: STEP_MS });

    await alice.goto(`${server.url}/?room=pair&name=Alice`);
    await alice.locator('#call-view').waitFor({ timeout: STEP_MS });
    const outcome = await Promise.any([
      alice.locator('#notices [data-key="media"]').waitFor({ timeout: STEP_MS }).then(() => 'none'),
      alice.waitForFunction(() => document.getElementById('media-state').textContent === 'media: connected',
                            null, { timeout: STEP_MS }).then(() => 'media'),
    ]).catch(() => 'neither');
    if (outcome === 'none') {
      t.skip('this gateway has no media plane (publish answered 4001 media-unavailable)');
      return;
    }
    await carol.goto(`${server.url}/?room=pair&name=Carol`);

    await step('each page shows the other camera', async () => {
      await remoteVideo(alice, true);
      await remoteVideo(carol, true);
    });
    await step('statistics show frames arriving', async () => {
      for (const page of [alice, carol]) {
        await page.waitForFunction(() => /video · .* [1-9]\d* fps/.test(
            document.querySelector('#grid figure.remote .stats')?.textContent ?? ''), null, { timeout: STEP_MS });
      }
      t.diagnostic(`Alice's view of Carol: ${await alice.locator('#grid figure.remote .stats').textContent()}`);
    });
    await step('Alice mutes her camera: Carol sees the placeholder, then the video again', async () => {
      await alice.click('#mute-cam');
      await remoteVideo(carol, false);
      assert.equal(await carol.locator('#grid figure.remote .badge.video.muted').count(), 1);
      await alice.click('#mute-cam');
      await remoteVideo(carol, true);
    });
    await step('Carol leaves: her tile goes away on Alice\'s page', async () => {
      await carol.click('#leave');
      await alice.locator('#grid figure.remote').waitFor({ state: 'detached', timeout: STEP_MS });
      assert.equal(await alice.locator('#participants li').count(), 1);
    });
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(badFrames, [], 'every frame the pages received matches signalling/schema');
  });
}
