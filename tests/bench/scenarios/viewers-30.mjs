// One publisher (VP8 + Opus) and 30 receive-only viewers that publish nothing.
import { room } from '../lib/plan.mjs';

const rooms = [{
  name: '4000',
  participants: [
    { name: 'pub', audio: true, video: true, subscribe: false, viewer: false },
    ...room(4000, 30, { audio: false, video: false, subscribe: true, viewer: true }, 'v').participants,
  ],
}];

export default {
  name: 'viewers-30',
  title: '1 publisher (VP8 + Opus) and 30 receive-only viewers',
  xLabel: 'viewers',
  variants: [{ label: '1+30', x: 30, rooms }],
};
