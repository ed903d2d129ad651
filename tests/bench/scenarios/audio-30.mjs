// An audio-only room of 30: everyone publishes Opus and receives the 29 others (870
// forwarded streams, about 43,500 packets/s out of the server).
//   N=30c  every participant is a counting peer (lib/counting-peer.mjs): it sends
//          synthetic Opus (50 packets/s, payloads of 31..130 bytes, not decodable
//          audio: neither server decodes Opus) and counts the packets it receives
//          without decoding. Same sessions as real clients: on Manifold one
//          PeerConnection per participant, on Janus a publisher and a subscriber
//          PeerConnection. The servers do the same work as with real Opus, minus the
//          audio-level header extension (Manifold's speaking detection sees silence).
//   N=30   every participant a wrtc peer encoding and decoding Opus: saturates the load
//          generator's core on 2 CPUs (RESULTS.md); only run when named (--only N=30).
import { room } from '../lib/plan.mjs';

export default {
  name: 'audio-30',
  title: 'one audio-only room of 30, everyone publishes Opus and receives everyone',
  xLabel: 'N',
  variants: [
    { label: 'N=30c', x: 30, rooms: [room(3000, 30, { audio: true, video: false, counting: true, synthetic: true })],
      note: '30 counting peers: synthetic Opus out (50 packets/s each), received packets counted, nothing encoded or decoded; join time to the first audio packet of each publisher already there' },
    { label: 'N=30', x: 30, rooms: [room(3000, 30, { audio: true, video: false })], optional: true,
      note: '30 wrtc peers (libwebrtc encodes and decodes Opus): load-limited on 2 CPUs; run only with --only N=30' },
  ],
};
