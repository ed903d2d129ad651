// Building blocks for scenario files (scenarios/*.mjs). A scenario is
//   export default { name, title, xLabel, variants: [{label, x, rooms: [{name, participants: [spec]}]}], joinWaitMs? }
// where a participant spec is {name, audio, video, subscribe, viewer}: what it publishes,
// whether it receives every other track of its room, and whether it is a receive-only
// viewer (never joins as a publisher). Rooms are named by numbers because Janus's
// VideoRoom wants numeric room ids; Manifold takes the same names as strings.

/** A room of `count` participants made with `spec` (name prefix `prefix`). */
export function room(name, count, spec, prefix = 'p') {
  return { name: String(name), participants: Array.from({ length: count }, (_, i) => ({ name: `${prefix}${i + 1}`, subscribe: true, viewer: false, ...spec })) };
}

/** Streams the server forwards: for every receiver, every track of the others in its room. */
export function forwardedStreams(rooms) {
  let n = 0;
  for (const r of rooms) {
    for (const p of r.participants) {
      if (!p.subscribe) continue;
      for (const o of r.participants) if (o !== p) n += (o.audio ? 1 : 0) + (o.video ? 1 : 0);
    }
  }
  return n;
}

export function participantCount(rooms) {
  return rooms.reduce((a, r) => a + r.participants.length, 0);
}
