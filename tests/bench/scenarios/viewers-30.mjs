// One publisher (VP8 + Opus, a wrtc peer) and receive-only viewers that publish nothing.
//   1+30   30 wrtc (libwebrtc) viewers: each decodes what it receives (the original design;
//          kept as the reference for what a viewer costs the load generator)
//   1+30c  30 counting viewers (lib/counting-peer.mjs): ICE + DTLS-SRTP, RTP headers counted,
//          nothing decoded; join time ends at the first packet of a VP8 keyframe
//   1+60c  60 counting viewers: more than 30 wrtc viewers fit on the load generator's core
// The two counting variants give the load generator's cost of one counting viewer (the
// slope), and 1+30 against 1+30c that of a wrtc viewer (lib/report.mjs prints both).
import { room } from '../lib/plan.mjs';

function rooms(viewers, counting) {
  return [{
    name: '4000',
    participants: [
      { name: 'pub', audio: true, video: true, subscribe: false, viewer: false },
      ...room(4000, viewers, { audio: false, video: false, subscribe: true, viewer: true, counting }, 'v').participants,
    ],
  }];
}

export default {
  name: 'viewers-30',
  title: '1 publisher (VP8 + Opus, wrtc) and receive-only viewers that publish nothing',
  xLabel: 'viewers',
  variants: [
    { label: '1+30', x: 30, rooms: rooms(30, false), note: '30 wrtc viewers (libwebrtc: every stream decoded); join time to the first decoded frame' },
    { label: '1+30c', x: 30, rooms: rooms(30, true), note: '30 counting viewers (libdatachannel: RTP headers counted, nothing decoded); join time to the first packet of a VP8 keyframe; fps = frames received (marker bits)' },
    { label: '1+60c', x: 60, rooms: rooms(60, true), note: '60 counting viewers, as 1+30c' },
  ],
};
