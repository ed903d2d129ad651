// app.js — the Manifold demo page: join a room, see who is there, publish camera and
// microphone, show everyone's video with live statistics.
//
// Uses only the client library the gateway serves at /lib/manifold.js. Opening
// /?room=NAME&name=NAME joins that room straight away. Add &codec=h264 (or vp8, vp9,
// av1) to send the camera with that codec: publish's `codec` asks the gateway to offer it
// first, and browsers send the first offered codec they support. Receivers decode
// whatever each publisher sends.
//
// For tests and debugging, `window.manifoldDebug.client` is the ManifoldClient of the
// current call (null outside a call): its peerConnection, remoteTracks, participants.

import { ManifoldClient, ErrorCode } from '/lib/manifold.js';

const $ = (id) => document.getElementById(id);

const ui = {
  statusDot: $('status-dot'),
  statusText: $('status-text'),
  mediaState: $('media-state'),
  notices: $('notices'),
  error: $('error'),
  joinView: $('join-view'),
  joinForm: $('join-form'),
  joinButton: $('join-button'),
  room: $('room'),
  name: $('name'),
  token: $('token'),
  callView: $('call-view'),
  roomName: $('room-name'),
  muteMic: $('mute-mic'),
  muteCam: $('mute-cam'),
  leave: $('leave'),
  grid: $('grid'),
  localTile: $('local-tile'),
  localVideo: $('local-video'),
  participants: $('participants'),
  peopleCount: $('people-count'),
  tileTemplate: $('tile-template'),
};

/** Camera codec asked for in the address (?codec=h264 -> "H264"); '' = the default. */
const codec = (() => {
  const value = new URLSearchParams(location.search).get('codec') ?? '';
  return /^[A-Za-z0-9]{1,16}$/.test(value) ? value.toUpperCase() : '';
})();

/** Everything that lives for one call; replaced on each join. */
let call = null;

function newCall(client, name) {
  return {
    client,
    name,
    leaving: false,
    localStream: null,
    published: { audio: null, video: null }, // kind -> trackId
    muted: { audio: false, video: false },
    tiles: new Map(),        // participantId -> tile record
    speaking: new Set(),     // participantIds currently speaking
    statsTimer: null,
  };
}

// ------------------------------------------------------------------ small UI helpers

function setStatus(text, tone = 'idle') {
  ui.statusText.textContent = text;
  ui.statusDot.dataset.tone = tone;
}

function setMediaState(state) {
  if (!state || state === 'closed') {
    ui.mediaState.hidden = true;
    ui.mediaState.textContent = '';
    return;
  }
  ui.mediaState.hidden = false;
  ui.mediaState.textContent = `media: ${state}`;
  ui.mediaState.dataset.state = state;
}

function describe(err) {
  if (!err) return 'unknown error';
  const text = err.message || String(err);
  if (err.code) return `${text} (error ${err.code}${err.reason ? ` ${err.reason}` : ''})`;
  return text;
}

function showError(text) {
  ui.error.textContent = text;
  ui.error.hidden = false;
}

function clearError() {
  ui.error.hidden = true;
  ui.error.textContent = '';
}

/** A notice that stays until the call ends; `key` avoids duplicates. */
function showNotice(key, text, tone = 'info') {
  let el = ui.notices.querySelector(`[data-key="${key}"]`);
  if (!el) {
    el = document.createElement('p');
    el.className = `notice ${tone}`;
    el.dataset.key = key;
    ui.notices.append(el);
  }
  el.textContent = text;
}

function clearNotices() {
  ui.notices.replaceChildren();
}

function initials(name) {
  const words = (name || '?').trim().split(/\s+/).slice(0, 2);
  return words.map((w) => w[0]?.toUpperCase() ?? '').join('') || '?';
}

function wsUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}

function setUrl(params) {
  const url = new URL(location.href);
  url.search = params ? new URLSearchParams(params).toString() : '';
  history.replaceState(null, '', url);
}

// ------------------------------------------------------------------ joining and leaving

async function join(room, name, token) {
  clearError();
  clearNotices();
  ui.joinButton.disabled = true;
  setStatus(`Connecting to ${location.host}…`, 'busy');

  const client = new ManifoldClient(wsUrl());
  call = newCall(client, name);
  const thisCall = call;
  wireEvents(thisCall);
  try {
    await client.connect();
    setStatus(`Joining room “${room}”…`, 'busy');
    await client.join(room, { name, token: token || undefined });
  } catch (err) {
    thisCall.leaving = true; // the close that follows is ours, not a lost connection
    client.close();
    if (call === thisCall) call = null;
    ui.joinButton.disabled = false;
    setStatus('Not connected', 'bad');
    showError(`Could not join room “${room}”: ${describe(err)}`);
    return;
  }

  setStatus(`In room “${client.room}” as ${name}`, 'ok');
  ui.roomName.textContent = `“${client.room}”`;
  ui.joinView.hidden = true;
  ui.callView.hidden = false;
  ui.joinButton.disabled = false;
  setUrl({ room: client.room, name, ...(codec ? { codec: codec.toLowerCase() } : {}) });
  document.title = `${client.room} — Manifold`;

  ui.localTile.querySelector('.who').textContent = `${name} (you)`;
  ui.localTile.querySelector('.placeholder').textContent = initials(name);
  for (const p of client.participants.values()) ensureTile(thisCall, p);
  renderParticipants();
  thisCall.statsTimer = setInterval(() => updateStats(thisCall), 1000);

  await startLocalMedia(thisCall);
}

async function leave() {
  const current = call;
  if (!current) return;
  current.leaving = true;
  ui.leave.disabled = true;
  setStatus('Leaving…', 'busy');
  try {
    if (current.client.state === 'joined') await current.client.leave();
  } catch (err) {
    showError(`Leaving did not complete cleanly: ${describe(err)}`);
  }
  current.client.close();
  endCall(current);
  setStatus('You left the room', 'idle');
  setUrl(null);
}

/** Tear down everything of `current` and go back to the join form. */
function endCall(current) {
  clearInterval(current.statsTimer);
  current.localStream?.getTracks().forEach((t) => t.stop());
  ui.localVideo.srcObject = null;
  ui.localTile.classList.remove('has-video', 'speaking');
  for (const tile of current.tiles.values()) tile.el.remove();
  current.tiles.clear();
  if (call === current) call = null;
  ui.participants.replaceChildren();
  ui.peopleCount.textContent = '';
  setMediaState(null);
  clearNotices();
  ui.callView.hidden = true;
  ui.joinView.hidden = false;
  ui.leave.disabled = false;
  ui.joinButton.disabled = false;
  for (const button of [ui.muteMic, ui.muteCam]) {
    button.disabled = true;
    button.setAttribute('aria-pressed', 'false');
  }
  ui.muteMic.textContent = 'Mute microphone';
  ui.muteCam.textContent = 'Mute camera';
  document.title = 'Manifold — group call';
}

function wireEvents(current) {
  const { client } = current;
  const live = () => call === current;

  client.on('participant-joined', ({ participant }) => {
    if (!live()) return;
    ensureTile(current, participant);
    renderParticipants();
  });
  client.on('participant-left', ({ participantId }) => {
    if (!live()) return;
    current.tiles.get(participantId)?.el.remove();
    current.tiles.delete(participantId);
    current.speaking.delete(participantId);
    renderParticipants();
  });
  for (const type of ['track-published', 'track-muted']) {
    client.on(type, () => { if (live()) { renderParticipants(); renderBadges(current); } });
  }
  client.on('track-unpublished', ({ trackId, participantId }) => {
    if (!live()) return;
    removeRemoteTrack(current, participantId, trackId);
    renderParticipants();
    renderBadges(current);
  });
  client.on('speaking', ({ participantId, speaking }) => {
    if (!live()) return;
    if (speaking) current.speaking.add(participantId); else current.speaking.delete(participantId);
    const el = participantId === client.participantId
        ? ui.localTile : current.tiles.get(participantId)?.el;
    el?.classList.toggle('speaking', Boolean(speaking));
    renderParticipants();
  });
  client.on('track', ({ track, trackId, participantId }) => {
    if (!live()) return;
    addRemoteTrack(current, participantId, trackId, track);
  });
  client.on('connectionstatechange', ({ state }) => {
    if (!live()) return;
    setMediaState(state);
    if (state === 'failed') showError('The media connection failed (ICE/DTLS). Signalling still works.');
  });
  client.on('disconnect', ({ reason, message }) => {
    if (!live()) return;
    showError(`The gateway is closing this connection: ${message || reason}` +
              (reason && message ? ` (${reason})` : ''));
  });
  client.on('error', ({ error }) => {
    if (!live()) return;
    showError(describe(error));
  });
  client.on('warning', ({ error }) => console.debug('manifold:', describe(error)));
  client.on('close', ({ code, disconnect }) => {
    if (!live() || current.leaving) return;
    endCall(current);
    setStatus('Disconnected', 'bad');
    if (!disconnect) showError(`Lost the connection to the gateway (WebSocket code ${code}).`);
  });
}

// ------------------------------------------------------------------ local media

async function startLocalMedia(current) {
  const { client } = current;
  if (!navigator.mediaDevices?.getUserMedia) {
    showNotice('camera', 'This browser offers no camera access here (it needs https or ' +
               'localhost). You can still see who is in the room.');
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: { ideal: 640 }, height: { ideal: 480 } },
    });
  } catch (err) {
    showNotice('camera', `Could not open camera and microphone: ${err.message || err.name}. ` +
               'You can still see who is in the room.', 'warn');
    return;
  }
  if (call !== current) { stream.getTracks().forEach((t) => t.stop()); return; }
  current.localStream = stream;
  ui.localVideo.srcObject = stream;
  ui.localTile.classList.toggle('has-video', stream.getVideoTracks().length > 0);
  ui.muteMic.disabled = stream.getAudioTracks().length === 0;
  ui.muteCam.disabled = stream.getVideoTracks().length === 0;

  if (client.grants && !client.grants.publish) {
    showNotice('publish', 'You may watch this room but not publish: your camera stays ' +
               'on this device.', 'warn');
    return;
  }
  for (const track of [...stream.getAudioTracks(), ...stream.getVideoTracks()]) {
    const label = track.kind === 'audio' ? 'microphone' : 'camera';
    try {
      const info = await client.publish(track, { label, ...(track.kind === 'video' && codec ? { codec } : {}) });
      if (call !== current) return;
      current.published[track.kind] = info.id;
      if (current.muted[track.kind]) await client.mute(info.id, true);
    } catch (err) {
      if (call !== current) return;
      if (err.code === ErrorCode.MediaUnavailable) {
        showNotice('media', 'This gateway has no media plane yet: signalling only. ' +
                   'You can see who is in the room, but no audio or video is exchanged.',
                   'warn');
        break;
      }
      showError(`Could not publish your ${label}: ${describe(err)}`);
    }
  }
  renderParticipants();
  renderBadges(current);
}

async function toggleMute(kind) {
  const current = call;
  if (!current?.localStream) return;
  const muted = !current.muted[kind];
  const trackId = current.published[kind];
  try {
    if (trackId && current.client.state === 'joined') {
      await current.client.mute(trackId, muted); // also disables the local track
    }
    for (const t of current.localStream.getTracks()) if (t.kind === kind) t.enabled = !muted;
  } catch (err) {
    showError(`Could not ${muted ? 'mute' : 'unmute'}: ${describe(err)}`);
    return;
  }
  current.muted[kind] = muted;
  const button = kind === 'audio' ? ui.muteMic : ui.muteCam;
  const what = kind === 'audio' ? 'microphone' : 'camera';
  button.setAttribute('aria-pressed', String(muted));
  button.textContent = `${muted ? 'Unmute' : 'Mute'} ${what}`;
  if (kind === 'video') ui.localTile.classList.toggle('has-video', !muted);
  renderParticipants();
  renderBadges(current);
}

// ------------------------------------------------------------------ remote tiles

function ensureTile(current, participant) {
  let tile = current.tiles.get(participant.id);
  if (tile) return tile;
  const el = ui.tileTemplate.content.firstElementChild.cloneNode(true);
  el.dataset.participantId = participant.id;
  const name = participant.name || participant.identity || participant.id;
  el.querySelector('.who').textContent = name;
  el.querySelector('.placeholder').textContent = initials(name);
  const video = el.querySelector('video');
  video.setAttribute('aria-label', `Video of ${name}`);
  const stream = new MediaStream();
  video.srcObject = stream;
  const unmute = el.querySelector('.unmute-audio');
  unmute.addEventListener('click', () => {
    video.muted = false;
    video.play().catch(() => {});
    unmute.hidden = true;
  });
  tile = { el, video, stream, tracks: new Map(), previous: new Map() };
  current.tiles.set(participant.id, tile);
  ui.grid.append(el);
  renderBadges(current);
  return tile;
}

function addRemoteTrack(current, participantId, trackId, track) {
  const participant = current.client.participants.get(participantId) ?? { id: participantId };
  const tile = ensureTile(current, participant);
  const old = tile.tracks.get(trackId);
  if (old && old !== track) tile.stream.removeTrack(old);
  const known = [...tile.tracks.values()].includes(track);
  tile.tracks.set(trackId, track);
  if (!tile.stream.getTracks().includes(track)) tile.stream.addTrack(track);
  const refresh = () => updateTileVideo(current, participantId, tile);
  if (!known) {
    track.addEventListener('mute', refresh);
    track.addEventListener('unmute', refresh);
    track.addEventListener('ended', refresh);
  }
  refresh();
  tile.video.play().catch(() => {
    // Autoplay with sound needs a user gesture: play muted and offer a button.
    tile.video.muted = true;
    tile.video.play().catch(() => {});
    if (tile.stream.getAudioTracks().length > 0) tile.el.querySelector('.unmute-audio').hidden = false;
  });
}

function removeRemoteTrack(current, participantId, trackId) {
  const tile = current.tiles.get(participantId);
  const track = tile?.tracks.get(trackId);
  if (!track) return;
  tile.stream.removeTrack(track);
  tile.tracks.delete(trackId);
  tile.previous.delete(trackId);
  updateTileVideo(current, participantId, tile);
}

/** Show the video, or the initials while no video track is live and unmuted. */
function updateTileVideo(current, participantId, tile) {
  const infos = current.client.participants.get(participantId)?.tracks ?? [];
  const hasVideo = [...tile.tracks].some(([trackId, t]) =>
      t.kind === 'video' && t.readyState === 'live' && !t.muted &&
      !infos.find((info) => info.id === trackId)?.muted);
  tile.el.classList.toggle('has-video', hasVideo);
}

// ------------------------------------------------------------------ participant list

function trackBadge(track) {
  const el = document.createElement('span');
  const what = track.kind === 'audio' ? 'mic' : 'cam';
  el.className = `badge ${track.kind}${track.muted ? ' muted' : ''}`;
  el.textContent = what;
  el.title = `${track.label || track.kind}${track.muted ? ' (muted)' : ''}`;
  el.setAttribute('aria-label', `${track.kind} track “${track.label || track.kind}”` +
                                (track.muted ? ', muted' : ''));
  return el;
}

function selfTracks(current) {
  return [...current.client.localTracks.values()].map(({ info }) => info);
}

/** Audio before video, then by label: the same order everywhere. */
function sortedTracks(tracks) {
  return [...tracks].sort((a, b) => a.kind.localeCompare(b.kind) ||
                                    (a.label || '').localeCompare(b.label || ''));
}

function renderBadges(current) {
  if (!current) return;
  ui.localTile.querySelector('.badges')
      .replaceChildren(...sortedTracks(selfTracks(current)).map(trackBadge));
  for (const [participantId, tile] of current.tiles) {
    const p = current.client.participants.get(participantId);
    tile.el.querySelector('.badges').replaceChildren(...sortedTracks(p?.tracks ?? []).map(trackBadge));
    updateTileVideo(current, participantId, tile);
  }
}

function participantItem(current, { id, name, tracks, self }) {
  const li = document.createElement('li');
  li.dataset.participantId = id;
  if (current.speaking.has(id)) li.classList.add('speaking');
  const avatar = document.createElement('span');
  avatar.className = 'avatar';
  avatar.setAttribute('aria-hidden', 'true');
  avatar.textContent = initials(name);
  const label = document.createElement('span');
  label.className = 'person-name';
  label.textContent = name;
  if (self) {
    const you = document.createElement('span');
    you.className = 'you';
    you.textContent = ' (you)';
    label.append(you);
  }
  const trackList = document.createElement('span');
  trackList.className = 'tracks';
  if (tracks.length === 0) {
    const none = document.createElement('span');
    none.className = 'no-tracks';
    none.textContent = 'no tracks';
    trackList.append(none);
  } else {
    trackList.append(...sortedTracks(tracks).map(trackBadge));
  }
  li.append(avatar, label, trackList);
  return li;
}

function renderParticipants() {
  const current = call;
  if (!current) return;
  const { client } = current;
  const items = [participantItem(current, {
    id: client.participantId, name: current.name, tracks: selfTracks(current), self: true,
  })];
  for (const p of client.participants.values()) {
    items.push(participantItem(current, {
      id: p.id, name: p.name || p.identity || p.id, tracks: p.tracks ?? [], self: false,
    }));
  }
  ui.participants.replaceChildren(...items);
  ui.peopleCount.textContent = `(${items.length})`;
}

// ------------------------------------------------------------------ statistics

function formatRate(bitsPerSecond) {
  if (bitsPerSecond >= 1e6) return `${(bitsPerSecond / 1e6).toFixed(1)} Mbit/s`;
  return `${Math.round(bitsPerSecond / 1e3)} kbit/s`;
}

async function trackStats(client, trackId, previous, kind) {
  const report = await client.getStats(trackId).catch(() => null);
  if (!report) return null;
  let rtp = null;
  report.forEach((s) => { if (s.type === kind && !rtp) rtp = s; });
  if (!rtp) return null;
  const bytes = kind === 'inbound-rtp' ? rtp.bytesReceived : rtp.bytesSent;
  const before = previous.get(trackId);
  previous.set(trackId, { bytes, timestamp: rtp.timestamp });
  const parts = [rtp.kind ?? ''];
  if (before && rtp.timestamp > before.timestamp) {
    parts.push(formatRate((8 * (bytes - before.bytes) * 1000) / (rtp.timestamp - before.timestamp)));
  }
  if (rtp.framesPerSecond !== undefined) parts.push(`${Math.round(rtp.framesPerSecond)} fps`);
  if (kind === 'inbound-rtp') parts.push(`lost ${rtp.packetsLost ?? 0}`);
  return parts.filter(Boolean).join(' · ');
}

async function updateStats(current) {
  const { client } = current;
  if (call !== current || !client.peerConnection) return;
  for (const tile of current.tiles.values()) {
    const lines = [];
    for (const trackId of tile.tracks.keys()) {
      const line = await trackStats(client, trackId, tile.previous, 'inbound-rtp');
      if (line) lines.push(line);
    }
    tile.el.querySelector('.stats').textContent = lines.join('\n');
  }
}

// ------------------------------------------------------------------ start-up

ui.joinForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!ui.joinForm.reportValidity()) return;
  join(ui.room.value.trim(), ui.name.value.trim(), ui.token.value.trim());
});
ui.leave.addEventListener('click', () => leave());
ui.muteMic.addEventListener('click', () => toggleMute('audio'));
ui.muteCam.addEventListener('click', () => toggleMute('video'));
window.addEventListener('pagehide', () => call?.client.close());

window.manifoldDebug = Object.freeze({ get client() { return call?.client ?? null; } });

const params = new URLSearchParams(location.search);
ui.room.value = params.get('room') ?? '';
ui.name.value = params.get('name') ?? '';
if (ui.room.value && ui.name.value) {
  if (ui.joinForm.checkValidity()) {
    join(ui.room.value.trim(), ui.name.value.trim(), '');
  } else {
    showError('The room or name in the address is not valid: room names use letters, ' +
              'digits and . _ ~ - (up to 128 characters).');
  }
} else {
  (ui.room.value ? ui.name : ui.room).focus();
}
