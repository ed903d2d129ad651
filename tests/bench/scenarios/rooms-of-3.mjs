// R rooms of 3 participants each (VP8 + Opus, everyone receives the two others).
import { room } from '../lib/plan.mjs';

export default {
  name: 'rooms-of-3',
  title: 'R rooms of 3, everyone publishes VP8 + Opus and receives the two others',
  xLabel: 'R',
  variants: [2, 4].map((r) => ({
    label: `R=${r}`, x: r,
    rooms: Array.from({ length: r }, (_, i) => room(2000 + i, 3, { audio: true, video: true }, `r${i + 1}p`)),
  })),
};
