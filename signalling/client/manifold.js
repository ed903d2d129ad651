/**
 * manifold.js — the Manifold signalling client (protocol version 1): the library's public
 * entry point. Import this module; the others are its parts and may change shape.
 *
 * Plain ES modules with no dependencies and no build step. They run in browsers and in
 * Node 20 (give it a WebSocket implementation such as the `ws` package; media needs an
 * RTCPeerConnection implementation too, e.g. `@roamhq/wrtc`).
 *
 * Files (all in one directory; they import each other by relative path):
 *   manifold.js   this entry point: the API reference below and the exports
 *   client.js     ManifoldClient: WebSocket, hello/welcome, keepalive, requests and
 *                 replies, the room API, the server's events, the room's state
 *   media.js      the RTCPeerConnection: offers, answers, trickle ICE, transceivers, stats
 *   emitter.js    the event emitter ManifoldClient extends
 *   protocol.js   VERSION, PROTOCOL_VERSIONS, ErrorCode, ManifoldError
 *
 * The gateway serves every file of the library under `/lib/` (`/lib/manifold.js`,
 * `/lib/client.js`, ...):
 *
 *     import { ManifoldClient } from '/lib/manifold.js';
 *     const client = new ManifoldClient('wss://gateway.example/ws');
 *     await client.connect();                       // WebSocket + hello/welcome
 *     const joined = await client.join('lobby', { name: 'Alice' });
 *     client.on('participant-joined', ({ participant }) => console.log(participant.name));
 *     client.on('track', ({ track, trackId, participantId }) => attach(track));
 *     const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
 *     for (const t of stream.getTracks()) await client.publish(t);
 *
 * Constructor
 *   new ManifoldClient(url, {
 *     WebSocket,          // WebSocket class; default globalThis.WebSocket
 *     RTCPeerConnection,  // RTCPeerConnection class; default globalThis.RTCPeerConnection
 *                         // (absent = signalling only: offers are refused with an `error` event)
 *     requestTimeoutMs,   // per-request timeout, default 10000
 *     keepaliveMs,        // send `ping` after this long without sending anything, default
 *                         // 20000 (the gateway closes connections silent for idle-timeout,
 *                         // 60 s by default); 0 = never
 *     clientName,         // sent in hello as `client`, default "manifold.js/<version>"
 *     rtcConfiguration,   // extra RTCConfiguration fields (iceServers come from `joined`)
 *   })
 *
 * Methods (all requests return promises; they reject with a ManifoldError)
 *   connect()                         -> {version, server}   opens the socket, hello/welcome;
 *                                        after a close it opens a new connection
 *   join(room, {token, name, metadata, autoSubscribe})
 *                                     -> {room, participantId, grants, participants, iceServers}
 *                                        (connects first when not connected, or again after
 *                                        a close)
 *   publish(mediaStreamTrack, {label, codec}?) or publish({kind, label, codec}, mediaStreamTrack?)
 *                                     -> TrackInfo {id, participantId, kind, label, muted}
 *                                        `codec` ("VP8", "VP9", "H264", "AV1"; "OPUS" for audio)
 *                                        asks the server to offer that codec first: browsers
 *                                        send the first codec of the offer they support
 *                                        The local track is attached to the transceiver the
 *                                        server's next offer marks "send" for this track id.
 *   replaceTrack(trackId, mediaStreamTrack|null) -> void  swap the local source, no renegotiation
 *   unpublish(trackId)                -> void
 *   subscribe(trackIds?)              -> void               absent/empty = every track allowed
 *   unsubscribe(trackIds?)            -> void               absent/[] = auto-subscribe off,
 *                                        current subscriptions kept
 *   mute(trackId, muted = true)       -> void               also sets the local track's `enabled`
 *   pause(trackId, paused = true)     -> void               pause receiving a subscribed track
 *   ping()                            -> round-trip time in milliseconds
 *   leave()                           -> void               leaves the room (if joined), closes media
 *                                        and the connection (the v1 gateway ends the session
 *                                        after leave; `close` is emitted with code 1000,
 *                                        reason "left"); join() again reconnects
 *   close(code = 1000, reason = '')   -> void               closes socket and media now;
 *                                        the `close` event is emitted before it returns
 *   getStats(trackId)                 -> RTCStatsReport|null (sender or receiver of that track)
 *   request(type, fields)             -> the raw reply message (for messages not wrapped here)
 *
 * Properties (read-only)
 *   state            'new' | 'connecting' | 'connected' | 'joined' | 'closed'
 *   version, server  from welcome
 *   room, participantId, grants, iceServers   from joined ('' / null when not joined)
 *   participants     Map participantId -> ParticipantInfo of everyone else, kept up to date
 *                    by the events below (tracks included)
 *   localTracks      Map trackId -> {info: TrackInfo, track: MediaStreamTrack|null}
 *   remoteTracks     Map trackId -> {track, trackId, participantId, mid}
 *   peerConnection   the RTCPeerConnection once the first offer arrived, else null
 *
 * Events: client.on(type, listener) / client.off(type, listener) / client.once(type, pred?, ms?)
 * (a Promise of the next matching event). Listeners get one object argument:
 *   statechange             {state, previous}
 *   participant-joined      {participant}
 *   participant-left        {participantId, reason, participant}
 *   track-published         {track}
 *   track-unpublished       {trackId, participantId, track}
 *   track-muted             {trackId, participantId, muted}
 *   speaking                {participantId, trackId, speaking}
 *   disconnect              {reason, message}          the server is about to close
 *   error                   {error: ManifoldError}      errors not tied to a request
 *                                                       (server `error` without id, media failures)
 *   warning                 {error: ManifoldError}      expected races the client repairs by
 *                                                       itself (1012 for a trickled candidate
 *                                                       that crossed a new offer)
 *   close                   {code, reason, wasClean, disconnect}  socket closed (once per
 *                                                       connection; `disconnect` is the server's
 *                                                       disconnect message before it, or null)
 *   track                   {track, trackId, participantId, mid, streams, transceiver}
 *   connectionstatechange   {state}                     RTCPeerConnection.connectionState
 *   message                 the raw server message, for every message (debugging)
 *
 * Media: the server is always the SDP offerer; the client answers each offer, in order,
 * and trickles ICE candidates both ways (the details are at the top of media.js).
 *
 * Errors: ManifoldError extends Error with `code` (the server's numeric code, 0 for errors
 * made on this side), `reason` ("token-expired", or for local errors "timeout",
 * "not-connected", "connection-closed", "unsupported-version", "negotiation-failed",
 * "media-unsupported"), `requestType` and `requestId`.
 */

export { ErrorCode, ManifoldError, PROTOCOL_VERSIONS, VERSION } from './protocol.js';
export { ManifoldClient, ManifoldClient as default } from './client.js';
