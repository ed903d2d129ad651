// One room of N participants; every one publishes VP8 320x240 + Opus and receives all others.
import { room } from '../lib/plan.mjs';

export default {
  name: 'room',
  title: 'one room of N, everyone publishes VP8 + Opus and receives everyone',
  xLabel: 'N',
  variants: [2, 4, 6, 8, 10].map((n) => ({ label: `N=${n}`, x: n, rooms: [room(1000, n, { audio: true, video: true })] })),
};
