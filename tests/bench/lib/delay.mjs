// One-way forwarding delay through a server, from a packet capture on the server's own
// interface (tcpdump, kernel timestamps): every RTP packet is seen arriving and leaving.
// SRTP leaves the 12-byte RTP header in clear, but what survives forwarding differs:
//   - Manifold keeps SSRC, sequence number and timestamp;
//   - Janus VideoRoom gives every subscriber stream its own SSRC and rewrites sequence
//     numbers and timestamps (a constant offset per stream while the source does not
//     change), and re-encrypts the payload with the subscriber leg's keys.
// So the matching assumes only what both keep: an outgoing stream (destination address,
// port and SSRC) carries the packets of one incoming stream (source address, port, SSRC)
// with sequence number and timestamp shifted by constant offsets, the marker bit kept,
// and a constant size difference (header extensions are rewritten per leg, payloads are
// not). For each outgoing stream the incoming stream and the offsets are found by voting:
// each of 200 of its packets votes for every incoming packet seen up to VOTE_WINDOW_MS
// before it (same marker), keyed by (stream, seq offset, ts offset, size difference); the
// key with most votes wins if at least half the voters agree. With Manifold the winning
// offsets are 0/0/0. Seq and ts offsets alone are not enough: every publisher's Opus
// stream ticks at exactly 50 packets/s, so another publisher's audio would give constant
// offsets too; the size difference separates them because packet sizes vary (VP8 frames
// with noise, and the load generator's Opus source changes its level every 20 ms).
// Then each outgoing packet's delay is its time minus the arrival of the incoming packet
// it copies (first arrival of that seq/ts).
//
// Audio and video are told apart by the incoming stream's timestamp step: libwebrtc's
// Opus packets advance by 960 (20 ms at 48 kHz); VP8 frames by 90 kHz / fps.

const VOTE_WINDOW_MS = 50;
const VOTERS = 200;

function streamsOf(packets, keyOf) {
  const m = new Map();
  for (const p of packets) {
    const k = keyOf(p);
    let s = m.get(k);
    if (!s) m.set(k, (s = []));
    s.push(p);
  }
  return m;
}

function isAudio(stream) {
  const steps = new Map();
  for (let i = 1; i < stream.length && i < 200; i++) {
    if (((stream[i].seq - stream[i - 1].seq) & 0xffff) !== 1) continue;
    const d = (stream[i].ts - stream[i - 1].ts) >>> 0;
    steps.set(d, (steps.get(d) ?? 0) + 1);
  }
  let best = 0;
  let count = -1;
  for (const [d, c] of steps) if (c > count) { best = d; count = c; }
  return best === 960;
}

/**
 * @param {ReturnType<import('../rtp-capture.mjs').readPcap>} packets all packets of the capture
 * @param {string} server the server's address
 * @param {number} t0 @param {number} t1 the window (ms, capture clock)
 * @returns {{video: number[], audio: number[], inPackets: number, outPackets: number, outStreams: number,
 *            matchedStreams: number, unmatchedStreams: number, matchedPackets: number, outRtp: number}}
 */
export function forwardingDelays(packets, server, t0, t1) {
  const rtp = packets.filter((p) => p.kind === 'rtp');
  const inbound = rtp.filter((p) => p.dst === server);
  const outbound = rtp.filter((p) => p.src === server);
  const inStreams = streamsOf(inbound, (p) => `${p.src}:${p.sport}/${p.ssrc}`);
  const outStreams = streamsOf(outbound, (p) => `${p.dst}:${p.dport}/${p.ssrc}`);
  const inKeys = [...inStreams.keys()];
  const inIndex = new Map(inKeys.map((k, i) => [k, i]));
  const audioIn = new Map(inKeys.map((k) => [k, isAudio(inStreams.get(k))]));
  // seq:ts -> first arrival, per incoming stream
  const arrivals = new Map(inKeys.map((k) => {
    const m = new Map();
    for (const p of inStreams.get(k)) { const key = `${p.seq}:${p.ts}`; if (!m.has(key)) m.set(key, p.t); }
    return [k, m];
  }));
  // The incoming packets in time order, for the voting window.
  const inOrdered = inbound.map((p) => ({ p, k: `${p.src}:${p.sport}/${p.ssrc}` })).sort((a, b) => a.p.t - b.p.t);
  const video = [];
  const audio = [];
  let matchedStreams = 0;
  let unmatchedStreams = 0;
  let matchedPackets = 0;
  const pairs = [];
  for (const [outKey, stream] of outStreams) {
    if (stream.length < 10) continue; // probing or a stream that just ended
    const votes = new Map();
    let voters = 0;
    let lo = 0;
    for (const o of stream.slice(Math.min(50, stream.length >> 2), Math.min(50, stream.length >> 2) + VOTERS)) {
      voters++;
      while (lo < inOrdered.length && inOrdered[lo].p.t < o.t - VOTE_WINDOW_MS) lo++;
      for (let j = lo; j < inOrdered.length && inOrdered[j].p.t <= o.t; j++) {
        const { p, k } = inOrdered[j];
        if (p.marker !== o.marker) continue;
        const key = `${inIndex.get(k)}|${(o.seq - p.seq) & 0xffff}|${(o.ts - p.ts) >>> 0}|${o.size - p.size}`;
        votes.set(key, (votes.get(key) ?? 0) + 1);
      }
    }
    let best = null;
    let bestVotes = 0;
    for (const [k, v] of votes) if (v > bestVotes) { best = k; bestVotes = v; }
    if (!best || bestVotes < voters / 2) { unmatchedStreams++; continue; }
    matchedStreams++;
    const [idx, dseq, dts] = best.split('|').map(Number);
    const inKey = inKeys[idx];
    pairs.push({ out: outKey, in: inKey, dseq, dts, dsize: Number(best.split('|')[3]), votes: bestVotes, voters });
    const arr = arrivals.get(inKey);
    const sink = audioIn.get(inKey) ? audio : video;
    for (const o of stream) {
      if (o.t < t0 || o.t > t1) continue;
      const tin = arr.get(`${(o.seq - dseq) & 0xffff}:${(o.ts - dts) >>> 0}`);
      if (tin === undefined) continue;
      const d = o.t - tin;
      if (d < 0 || d > 2000) continue;
      sink.push(d);
      matchedPackets++;
    }
  }
  const inWindow = (p) => p.t >= t0 && p.t <= t1;
  // Sequence-number gaps within the window, per direction: packets the publishers' streams
  // lack on arrival, and packets the server's outgoing streams lack (never sent by the
  // server, or sent as retransmissions only). Compared with the receivers' own loss counts
  // they tell where a loss happened.
  const gaps = (streams) => {
    let expected = 0;
    let seen = 0;
    for (const [, stream] of streams) {
      const seqs = new Set();
      let first = null;
      let ext = 0;
      let last = null;
      for (const p of stream) {
        if (!inWindow(p)) continue;
        // unwrap 16-bit sequence numbers relative to the first packet of the window
        if (last !== null) {
          const d = (p.seq - last) & 0xffff;
          ext += d < 0x8000 ? d : d - 0x10000;
        } else first = 0;
        last = p.seq;
        seqs.add(ext);
      }
      if (first === null || seqs.size < 10) continue;
      const v = [...seqs];
      expected += Math.max(...v) - Math.min(...v) + 1;
      seen += seqs.size;
    }
    return { expected, missing: expected - seen };
  };
  return {
    video, audio, matchedStreams, unmatchedStreams, matchedPackets, pairs,
    inGaps: gaps(inStreams), outGaps: gaps(outStreams),
    inPackets: inbound.filter(inWindow).length,
    outPackets: outbound.filter(inWindow).length,
    outStreams: [...outStreams.values()].filter((s) => s.length >= 10).length,
  };
}
