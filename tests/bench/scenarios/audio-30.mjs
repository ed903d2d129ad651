// An audio-only room of 30: everyone publishes Opus and receives the 29 others.
import { room } from '../lib/plan.mjs';

export default {
  name: 'audio-30',
  title: 'one audio-only room of 30, everyone publishes Opus and receives everyone',
  xLabel: 'N',
  variants: [{ label: 'N=30', x: 30, rooms: [room(3000, 30, { audio: true, video: false })] }],
};
