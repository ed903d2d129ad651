// One room of N participants; every one publishes VP8 320x240 + Opus and receives all others.
//   N=2..10  wrtc peers: each encodes its own and decodes everyone else's streams
//   N=10c    each participant publishes from a wrtc peer (encoders) and receives on a
//            counting leg (lib/counting-peer.mjs: nothing decoded). Janus: the same
//            session and the same two PeerConnections as N=10 (publisher on wrtc,
//            subscriber counting). Manifold: two sessions per participant (a publisher
//            with autoSubscribe false, a receiver `-rx` subscribed to every other
//            publisher's tracks): 20 PeerConnections where N=10 has 10, carrying the same
//            180 forwarded streams. Join time ends at the first packet of a VP8 keyframe.
import { room } from '../lib/plan.mjs';

export default {
  name: 'room',
  title: 'one room of N, everyone publishes VP8 + Opus and receives everyone',
  xLabel: 'N',
  variants: [
    ...[2, 4, 6, 8, 10].map((n) => ({ label: `N=${n}`, x: n, rooms: [room(1000, n, { audio: true, video: true })] })),
    { label: 'N=10c', x: 10, extra: true, rooms: [room(1000, 10, { audio: true, video: true, counting: true })],
      note: 'wrtc publishers, counting receive legs (nothing decoded); Manifold: 2 sessions per participant (publisher, receiver), Janus: the usual publisher + subscriber PeerConnections' },
  ],
};
