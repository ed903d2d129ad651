// A publishing peer in its own process (for tests that kill it): joins ROOM at WS_URL,
// publishes synthetic video, prints "JOINED <participantId>" and runs until killed.
import { newClient, syntheticTracks } from './peers.mjs';

const [wsUrl, room] = process.argv.slice(2);
const client = newClient(wsUrl);
const media = syntheticTracks();
const joined = await client.join(room, { name: 'child' });
await client.publish(media.videoTrack, { label: 'camera' });
process.stdout.write(`JOINED ${joined.participantId}\n`);
setInterval(() => {}, 1000);
