// NACK recovery through the gateway under random packet loss, on two "hosts": the gateway
// in one network namespace, a publisher (VP8 320x240 15 fps + Opus) and a receiver
// (@roamhq/wrtc) in another, joined by a veth pair made for the test. 5% of the UDP
// packets arriving in EACH namespace are dropped (iptables statistic on INPUT), so both
// legs lose packets: publisher -> gateway and gateway -> receiver. Over 10 s the gateway
// must NACK the publisher, answer the receiver's NACKs, and the receiver must keep
// decoding. A run without loss is the baseline. See tests/integration/media/scenarios/loss.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScenarioOnVeth, vethUnavailable } from './media/netns.mjs';

const unavailable = vethUnavailable();

function describe(r) {
  return {
    decoded: `${r.receiver.framesDecoded}/${r.publisher.framesEncoded} (${Math.round(r.decodedRatio * 100)}%)`,
    decodedPerSecond: r.decodedPerSecond,
    receiver: { packetsLost: r.receiver.packetsLost, nackCount: r.receiver.nackCount, pliCount: r.receiver.pliCount,
                firCount: r.receiver.firCount, freezeCount: r.receiver.freezeCount },
    publisher: { nacksFromGateway: r.publisher.nackCount, retransmitted: r.publisher.retransmittedPacketsSent,
                 firFromGateway: r.publisher.firCount, keyFrames: r.publisher.keyFramesEncoded },
    freezes: r.freezes,
    audio: r.audio,
    codecs: r.codecs,
  };
}

// Skipped until the gateway repairs loss for publishers of audio AND video. Measured in
// tests/bench/JITTER.md: (1) webrtcbin 1.22 applies the do-nack of the last transceiver of
// a bundle to every jitterbuffer, so the audio transceiver switches NACK off for video on
// the publisher leg (do-nack on audio as well made clients fail to answer: not solved
// yet); (2) every new offer to a subscriber announces a new random RTX SSRC
// (webrtcbin _pick_rtx_payload_types), libwebrtc keeps the first, so RTX on the
// subscriber leg is dropped. Run it by hand with MANIFOLD_RUN_KNOWN_FAILURES=1.
const KNOWN_DEFECT = process.env.MANIFOLD_RUN_KNOWN_FAILURES ? false
  : 'known defect: NACK/RTX does not repair audio+video publishers yet (tests/bench/JITTER.md)';

test('NACK recovery through the gateway with 5% loss on both legs (veth between namespaces)',
     { skip: unavailable ?? KNOWN_DEFECT, timeout: 90000 }, async (t) => {
  const baseline = await runScenarioOnVeth('loss', { lossPercent: 0, env: { WINDOW_MS: '10000' } });
  t.diagnostic(`baseline (no loss): ${JSON.stringify(describe(baseline))}`);
  const lossy = await runScenarioOnVeth('loss', { lossPercent: 5, env: { WINDOW_MS: '10000' } });
  t.diagnostic(`5% loss on both legs: ${JSON.stringify(describe(lossy))}`);

  assert.equal(baseline.codecs.video?.mimeType, 'video/VP8');
  assert.ok(baseline.decodedRatio >= 0.9,
            `without loss the receiver decoded only ${Math.round(baseline.decodedRatio * 100)}% of the frames`);
  assert.equal(baseline.freezes.count, 0, `freezes without loss: ${JSON.stringify(baseline.freezes)}`);

  assert.ok(lossy.receiver.nackCount > 0, 'the receiver never sent a NACK although 5% of its packets were dropped');
  assert.ok(lossy.publisher.nackCount > 0,
            'the gateway never NACKed the publisher: packets lost on the publisher -> gateway leg are not repaired');
  const idle = lossy.decodedPerSecond.filter((n) => n === 0).length;
  assert.ok(lossy.decodedRatio >= 0.7,
            `with 5% loss the receiver decoded ${lossy.receiver.framesDecoded} of ${lossy.publisher.framesEncoded} frames ` +
            `(${Math.round(lossy.decodedRatio * 100)}%, at least 70% expected); per second: ${lossy.decodedPerSecond.join(' ')}`);
  assert.equal(idle, 0, `seconds without a decoded frame: ${idle} (per second: ${lossy.decodedPerSecond.join(' ')})`);
});
