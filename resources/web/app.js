'use strict';

// Sayline caption page: microphone -> /asr WebSocket -> captions.
//
// Layout of this file:
//   1. Pure transcript logic: applyMessage(state, message) and friends (no DOM, no I/O).
//   2. Rendering: draws a transcript state into the page.
//   3. Audio capture: AudioWorklet PCM or MediaRecorder, behind one small interface.
//   4. The session: socket, config, start/stop, close codes.
//   5. Wiring: buttons, scrolling, copy/download.
// The pure part is exported for Node (module.exports) so it can be checked without a browser.

const SILENCE_SPEAKER = -2;
const TARGET_SAMPLE_RATE = 16000;
const CHUNK_MS = 100;
const LAG_WARN_S = 2;
const LAG_BAD_S = 5;
const PASS_THROUGH_PARAMS = ['target_language', 'mode', 'token'];
const RECORDER_TYPES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus'];
const SPEAKER_COLORS = ['#6cb6ff', '#f0a56b', '#7ee2a8', '#d2a8ff', '#f47f8f', '#6fd6d0', '#e6d36f', '#a5b4fc'];

/* ---------------------------------------------------------------------------------
 * 1. Pure transcript logic
 * ------------------------------------------------------------------------------- */

function initialState() {
  return {
    seq: null, // last snapshot/diff sequence number (diff mode)
    lines: [],
    status: '',
    error: '',
    buffer_transcription: '',
    buffer_diarization: '',
    buffer_translation: '',
    remaining_time_transcription: null,
    remaining_time_diarization: null,
    speaker_names: {}, // speaker number -> remembered name (Sayline's profiles=1)
    outOfSync: false, // a diff did not fit: the lines may differ from the server's
    syncIssue: null, // the latest reason for outOfSync (a new object each time)
  };
}

const BUFFER_FIELDS = ['buffer_transcription', 'buffer_diarization', 'buffer_translation'];
const LAG_FIELDS = ['remaining_time_transcription', 'remaining_time_diarization'];

function asText(value) {
  return value === undefined || value === null ? '' : String(value);
}

function asNumberOrNull(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

// {"2": "Dana"} as the server sends it; anything else is no names.
function asNames(value) {
  const names = {};
  if (!value || typeof value !== 'object' || Array.isArray(value)) return names;
  for (const [speaker, name] of Object.entries(value)) {
    if (/^\d+$/.test(speaker) && typeof name === 'string' && name.trim()) names[speaker] = name.trim().slice(0, 60);
  }
  return names;
}

function normalizeLine(raw) {
  const line = raw && typeof raw === 'object' ? raw : {};
  const speaker = Number(line.speaker);
  return {
    speaker: Number.isFinite(speaker) ? speaker : 0,
    text: asText(line.text),
    start: asText(line.start),
    end: asText(line.end),
    translation: asText(line.translation),
    detected_language: asText(line.detected_language),
  };
}

// Buffers, status, error and lag as a full message states them (absent = empty).
function fullFields(message) {
  const fields = {
    status: asText(message.status),
    error: asText(message.error),
    speaker_names: asNames(message.speaker_names),
  };
  for (const key of BUFFER_FIELDS) fields[key] = asText(message[key]);
  for (const key of LAG_FIELDS) fields[key] = asNumberOrNull(message[key]);
  return fields;
}

// Buffers, status, error and lag a diff carries; fields it leaves out keep their value.
function diffFields(message) {
  const fields = {};
  if ('status' in message) fields.status = asText(message.status);
  if ('error' in message) fields.error = asText(message.error);
  else if ('status' in message && message.status !== 'error') fields.error = '';
  // The server leaves names out when there are none, as it does the error.
  if ('speaker_names' in message) fields.speaker_names = asNames(message.speaker_names);
  else if ('status' in message) fields.speaker_names = {};
  for (const key of BUFFER_FIELDS) if (key in message) fields[key] = asText(message[key]);
  for (const key of LAG_FIELDS) if (key in message) fields[key] = asNumberOrNull(message[key]);
  return fields;
}

// A full update (no "type") or a diff-mode snapshot: the whole state.
function applyFull(state, message) {
  if (!Array.isArray(message.lines)) return state; // not an update we understand
  return {
    ...state,
    ...fullFields(message),
    seq: message.type === 'snapshot' ? asNumberOrNull(message.seq) : null,
    lines: message.lines.map(normalizeLine),
    outOfSync: false,
    syncIssue: null,
  };
}

// A diff: drop the last `lines_pruned` lines, append `new_lines`, check `n_lines`.
function applyDiff(state, message) {
  const newLines = Array.isArray(message.new_lines) ? message.new_lines.map(normalizeLine) : [];
  const requested = Number.isInteger(message.lines_pruned) ? message.lines_pruned : 0;
  const pruned = Math.min(Math.max(requested, 0), state.lines.length);
  const lines = state.lines.slice(0, state.lines.length - pruned).concat(newLines);
  const seq = asNumberOrNull(message.seq);

  const problems = [];
  if (Number.isInteger(message.n_lines) && lines.length !== message.n_lines) {
    problems.push(`expected ${message.n_lines} lines, have ${lines.length}`);
  }
  if (requested !== pruned) problems.push(`asked to prune ${requested} of ${state.lines.length} lines`);
  if (seq !== null && state.seq !== null && seq !== state.seq + 1) {
    problems.push(`seq ${seq} follows ${state.seq}`);
  }
  if (state.seq === null && seq !== null) problems.push('diff before any snapshot');

  return {
    ...state,
    ...diffFields(message),
    seq: seq !== null ? seq : state.seq,
    lines,
    outOfSync: state.outOfSync || problems.length > 0,
    syncIssue: problems.length > 0 ? { seq, problems } : state.syncIssue,
  };
}

// The transcript state after one server message. Pure: returns a new state object, or
// the same one for messages that change nothing (config, ready_to_stop, unknown types).
function applyMessage(state, message) {
  if (!message || typeof message !== 'object' || Array.isArray(message)) return state;
  switch (message.type) {
    case undefined:
    case 'snapshot':
      return applyFull(state, message);
    case 'diff':
      return applyDiff(state, message);
    default:
      return state;
  }
}

function isSilence(line) {
  return line.speaker === SILENCE_SPEAKER;
}

function speechLines(lines) {
  return lines.filter((line) => !isSilence(line));
}

function distinctSpeakers(lines) {
  return new Set(speechLines(lines).map((line) => line.speaker)).size;
}

function speakerLabel(speaker, names = {}) {
  if (names[String(speaker)]) return names[String(speaker)];
  return speaker > 0 ? `Speaker ${speaker}` : 'Unattributed';
}

function speakerColor(speaker) {
  if (!(speaker > 0)) return '';
  return SPEAKER_COLORS[(speaker - 1) % SPEAKER_COLORS.length];
}

// "H:MM:SS.cc" (or "MM:SS.cc", or a number of seconds) -> seconds, or null.
function parseClock(value) {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string' || value.trim() === '') return null;
  let seconds = 0;
  for (const part of value.trim().split(':')) {
    const n = Number(part);
    if (part === '' || !Number.isFinite(n)) return null;
    seconds = seconds * 60 + n;
  }
  return seconds;
}

// Seconds -> "m:ss" (or "h:mm:ss" from one hour on), for a line's start time.
function formatClock(seconds) {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

function formatDuration(seconds) {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  return `${m} min ${s} s`;
}

function pauseLabel(line) {
  const start = parseClock(line.start);
  const end = parseClock(line.end);
  if (start === null || end === null || end < start) return 'pause';
  return `pause · ${formatDuration(end - start)}`;
}

function lagLevel(seconds) {
  if (seconds > LAG_BAD_S) return 'bad';
  if (seconds > LAG_WARN_S) return 'warn';
  return 'ok';
}

// The committed transcript as plain text: one line per caption line, silence left out,
// "Speaker N: " in front when more than one speaker spoke, a translation after " → ".
function transcriptText(lines, names = {}) {
  const spoken = speechLines(lines).filter((line) => line.text.trim() !== '');
  const labelled = distinctSpeakers(spoken) > 1;
  return spoken
    .map((line) => {
      let text = line.text.trim();
      if (line.translation.trim()) text += ` → ${line.translation.trim()}`;
      return labelled ? `${speakerLabel(line.speaker, names)}: ${text}` : text;
    })
    .join('\n');
}

// ws(s)://host/asr?… with the page's own language/target_language/mode/token passed on;
// `language` is the language picker's value ('' = leave it to the server).
function buildSocketUrl(location, language) {
  const pageParams = new URLSearchParams(location.search);
  const params = new URLSearchParams();
  if (language) params.set('language', language);
  for (const name of PASS_THROUGH_PARAMS) {
    if (pageParams.has(name)) params.set(name, pageParams.get(name));
  }
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const query = params.toString();
  return `${scheme}//${location.host}/asr${query ? `?${query}` : ''}`;
}

// A readable sentence for a socket that closed on its own ('' when nothing went wrong).
// `context`: {opened, phase, serverError}.
function describeClose(code, reason, context) {
  const detail = context.serverError || reason || '';
  const withDetail = (text) => (detail ? `${text}: ${detail}` : `${text}.`);
  switch (code) {
    case 4400:
      return withDetail('Bad request parameters');
    case 4401:
      return 'Access token required or wrong. Open this page with ?token=… as given by the server.';
    case 1003:
      return withDetail('The server could not decode the audio');
    case 1013:
      return reason || 'The server is busy. Try again in a moment.';
    case 1008:
      return withDetail('The server closed the connection');
    default:
      break;
  }
  if (!context.opened) {
    return 'Could not connect to the Sayline server. Is it running, and does it accept this page\'s address?';
  }
  if (context.phase === 'finishing' && (code === 1000 || code === 1001)) return '';
  if (code === 1000 || code === 1001) return withDetail('The server closed the connection');
  if (code === 1006) return 'The connection to the server was lost.';
  return `The connection closed (code ${code}${reason ? `: ${reason}` : ''}).`;
}

function microphoneErrorMessage(error) {
  const name = error && error.name;
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') {
    return 'Microphone permission was denied. Allow microphone access for this page (the icon in the address bar) and press Start again.';
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No microphone was found.';
  if (name === 'NotReadableError' || name === 'AbortError') {
    return 'The microphone could not be opened; another application may be using it.';
  }
  if (name === 'InsecureContext') return error.message;
  return `The microphone could not be started${error && error.message ? `: ${error.message}` : '.'}`;
}

/* ---------------------------------------------------------------------------------
 * 2. Rendering
 * ------------------------------------------------------------------------------- */

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function renderSilenceLine(line) {
  const node = el('div', 'line silence');
  node.dataset.speaker = String(line.speaker);
  node.appendChild(el('span', 'pause', pauseLabel(line)));
  return node;
}

function renderSpeechLine(line, continued, name) {
  const node = el('div', continued ? 'line continued' : 'line');
  node.dataset.speaker = String(line.speaker);
  const color = speakerColor(line.speaker);
  if (color) node.style.setProperty('--speaker-color', color);

  const meta = el('div', 'meta');
  meta.appendChild(el('span', 'speaker', name));
  const start = parseClock(line.start);
  if (start !== null) meta.appendChild(el('span', 'time', formatClock(start)));

  const body = el('div', 'body');
  body.appendChild(el('p', 'text', line.text));
  if (line.translation) body.appendChild(el('p', 'translation', line.translation));

  node.append(meta, body);
  return node;
}

// Line i is drawn the same way as long as this key does not change.
function lineKey(line, continued, name) {
  return JSON.stringify([line.speaker, line.text, line.start, line.end, line.translation, continued, name]);
}

// Update the transcript container in place: only lines that changed are redrawn, so
// long transcripts stay cheap and a selection in older lines survives updates.
function renderLines(container, lines, names = {}) {
  const nodes = container.children;
  let previousSpeaker = null;
  lines.forEach((line, i) => {
    // The speaker label shows again after a change of speaker and after a pause.
    const continued = !isSilence(line) && line.speaker === previousSpeaker;
    previousSpeaker = isSilence(line) ? null : line.speaker;
    const name = speakerLabel(line.speaker, names);
    const key = lineKey(line, continued, name);
    const existing = nodes[i];
    if (existing && existing.sayKey === key) return;
    const node = isSilence(line) ? renderSilenceLine(line) : renderSpeechLine(line, continued, name);
    node.sayKey = key;
    if (existing) container.replaceChild(node, existing);
    else container.appendChild(node);
  });
  while (container.children.length > lines.length) container.lastChild.remove();
  container.classList.toggle('single-speaker', distinctSpeakers(lines) <= 1);
}

function renderBuffer(node, state) {
  node.querySelector('.buffer-diarization').textContent = state.buffer_diarization;
  node.querySelector('.buffer-transcription').textContent = state.buffer_transcription;
  node.querySelector('.buffer-translation').textContent = state.buffer_translation;
  node.hidden = !(state.buffer_diarization || state.buffer_transcription || state.buffer_translation);
}

function renderLag(node, state) {
  const lag = state.remaining_time_transcription;
  node.classList.remove('lag-ok', 'lag-warn', 'lag-bad');
  if (lag === null) {
    node.textContent = 'lag –';
    return;
  }
  node.textContent = `lag ${lag.toFixed(1)} s`;
  node.classList.add(`lag-${lagLevel(lag)}`);
  const diarization = state.remaining_time_diarization;
  node.title = diarization
    ? `Audio not yet transcribed: ${lag.toFixed(1)} s; not yet attributed to a speaker: ${diarization.toFixed(1)} s`
    : 'Audio received but not yet transcribed';
}

const PLACEHOLDERS = {
  idle: 'Press Start and speak — captions appear here.',
  connecting: 'Connecting…',
  listening: 'Listening — start speaking.',
  finishing: 'Finishing…',
  closed: 'No captions. Press Start to try again.',
};

function renderPlaceholder(node, state, phase) {
  const empty = state.lines.length === 0 && !state.buffer_transcription && !state.buffer_diarization;
  node.hidden = !empty;
  if (!empty) return;
  const heardNothing = phase === 'listening' && state.status === 'no_audio_detected';
  node.textContent = heardNothing ? 'Listening — no speech heard yet.' : PLACEHOLDERS[phase] || PLACEHOLDERS.idle;
}

/* ---------------------------------------------------------------------------------
 * 3. Audio capture. Each returns {stop(): Promise (resolves once every chunk is handed
 *    to onChunk), abort()} and hands binary chunks (ArrayBuffer) to onChunk.
 * ------------------------------------------------------------------------------- */

async function openMicrophone() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    const error = new Error(
      'This browser only allows the microphone on secure pages: open Sayline at http://localhost:PORT or over https.'
    );
    error.name = 'InsecureContext';
    throw error;
  }
  return navigator.mediaDevices.getUserMedia({ audio: true });
}

function stopTracks(stream) {
  stream.getTracks().forEach((track) => track.stop());
}

async function startWorkletCapture(stream, onChunk) {
  const AudioContextClass = window.AudioContext || window.webkitAudioContext;
  if (!AudioContextClass) throw new Error('this browser has no Web Audio support');
  const context = new AudioContextClass();
  let source = null;
  let node = null;
  try {
    if (!context.audioWorklet) throw new Error('this browser has no AudioWorklet support');
    await context.audioWorklet.addModule('pcm-worklet.js');
    source = context.createMediaStreamSource(stream);
    node = new AudioWorkletNode(context, 'pcm-downsampler', {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      outputChannelCount: [1],
      processorOptions: { targetRate: TARGET_SAMPLE_RATE, chunkMs: CHUNK_MS },
    });
  } catch (error) {
    context.close().catch(() => {});
    throw error;
  }

  let onFlushed = null;
  node.port.onmessage = (event) => {
    const data = event.data || {};
    if (data.type === 'pcm' && data.buffer.byteLength > 0) onChunk(data.buffer);
    else if (data.type === 'flushed' && onFlushed) onFlushed();
  };
  source.connect(node);
  node.connect(context.destination); // keeps the graph pulling; the node outputs silence
  if (context.state === 'suspended') context.resume().catch(() => {});

  const release = () => {
    node.port.onmessage = null;
    source.disconnect();
    node.disconnect();
    stopTracks(stream);
    context.close().catch(() => {});
  };

  return {
    stop() {
      source.disconnect();
      stopTracks(stream);
      return new Promise((resolve) => {
        const finish = () => {
          clearTimeout(timer);
          onFlushed = null;
          release();
          resolve();
        };
        const timer = setTimeout(finish, 1000);
        onFlushed = finish;
        node.port.postMessage({ type: 'flush' });
      });
    },
    abort: release,
  };
}

function pickRecorderType() {
  if (typeof MediaRecorder.isTypeSupported !== 'function') return '';
  return RECORDER_TYPES.find((type) => MediaRecorder.isTypeSupported(type)) || '';
}

function blobToArrayBuffer(blob) {
  return blob.arrayBuffer ? blob.arrayBuffer() : new Response(blob).arrayBuffer();
}

function startRecorderCapture(stream, onChunk) {
  if (typeof MediaRecorder === 'undefined') throw new Error('this browser has no MediaRecorder');
  const mimeType = pickRecorderType();
  const recorder = mimeType ? new MediaRecorder(stream, { mimeType }) : new MediaRecorder(stream);
  let pending = Promise.resolve(); // chunks are converted and sent strictly in order

  recorder.ondataavailable = (event) => {
    const blob = event.data;
    if (!blob || blob.size === 0) return; // an empty frame would mean "end of audio"
    pending = pending
      .then(() => blobToArrayBuffer(blob))
      .then(onChunk, (error) => console.warn('Sayline: could not read a recorded chunk', error));
  };
  recorder.start(CHUNK_MS);

  return {
    stop() {
      return new Promise((resolve) => {
        if (recorder.state === 'inactive') {
          resolve();
          return;
        }
        const timer = setTimeout(resolve, 2000);
        recorder.onstop = () => {
          clearTimeout(timer);
          resolve();
        };
        recorder.stop(); // fires a last dataavailable, then stop
      }).then(() => {
        stopTracks(stream);
        return pending;
      });
    },
    abort() {
      recorder.ondataavailable = null;
      if (recorder.state !== 'inactive') recorder.stop();
      stopTracks(stream);
    },
  };
}

// The microphone opened but its audio could not be set up (as opposed to a refused microphone).
class CaptureError extends Error {
  constructor(cause) {
    super(cause && cause.message ? cause.message : String(cause));
    this.name = 'CaptureError';
    this.cause = cause;
  }
}

async function startCapture(useAudioWorklet, onChunk) {
  const stream = await openMicrophone();
  try {
    return useAudioWorklet ? await startWorkletCapture(stream, onChunk) : startRecorderCapture(stream, onChunk);
  } catch (error) {
    stopTracks(stream);
    throw new CaptureError(error);
  }
}

/* ---------------------------------------------------------------------------------
 * 4. The session
 *    phase: idle -> connecting (socket, config, microphone) -> listening
 *           -> finishing (end of audio sent) -> closed
 * ------------------------------------------------------------------------------- */

const app = {
  els: null,
  session: null,
  transcript: initialState(),
  follow: true, // keep the view scrolled to the newest caption
};

function newSession() {
  return {
    phase: 'connecting',
    ws: null,
    config: null,
    capture: null,
    opened: false,
    ended: false,
    error: '',
    serverError: '',
  };
}

function currentPhase() {
  return app.session ? app.session.phase : 'idle';
}

function isCurrent(session) {
  return app.session === session && !session.ended;
}

function setPhase(session, phase) {
  session.phase = phase;
  renderSession();
}

function startSession() {
  const session = newSession();
  app.session = session;
  app.transcript = initialState();
  app.follow = true;
  renderAll();

  let ws;
  try {
    ws = new WebSocket(buildSocketUrl(window.location, app.els.language.value));
  } catch (error) {
    endSession(session, `Could not open a connection to the server: ${error.message}`);
    return;
  }
  session.ws = ws;
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => {
    session.opened = true;
  };
  ws.onmessage = (event) => onSocketMessage(session, event);
  ws.onclose = (event) => onSocketClose(session, event);
  ws.onerror = () => {}; // a close event with the details always follows
}

function onSocketMessage(session, event) {
  if (!isCurrent(session) || typeof event.data !== 'string') return;
  let message;
  try {
    message = JSON.parse(event.data);
  } catch (error) {
    console.warn('Sayline: ignoring a message that is not JSON', event.data);
    return;
  }
  if (!message || typeof message !== 'object') return;
  if (message.error) session.serverError = String(message.error);

  if (message.type === 'config') onConfig(session, message);
  else if (message.type === 'ready_to_stop') endSession(session, '');
  else updateTranscript(message);

  // An error in a message that is not a transcript update still deserves to be seen.
  if (message.error && app.transcript.error !== String(message.error) && !session.ended) {
    session.error = String(message.error);
    renderError();
  }
}

function updateTranscript(message) {
  const previous = app.transcript;
  const next = applyMessage(previous, message);
  if (next === previous) return;
  if (next.syncIssue && next.syncIssue !== previous.syncIssue) {
    console.warn(`Sayline: diff ${next.syncIssue.seq} does not fit: ${next.syncIssue.problems.join('; ')}`);
  }
  app.transcript = next;
  renderTranscript();
}

function onConfig(session, config) {
  if (session.config || session.phase !== 'connecting') return; // only the first one counts
  session.config = config;
  const sendChunk = (buffer) => sendBinary(session, buffer);
  startCapture(config.useAudioWorklet === true, sendChunk).then(
    (capture) => {
      if (!isCurrent(session) || session.phase !== 'connecting') {
        capture.abort(); // stopped while the microphone was being opened
        return;
      }
      session.capture = capture;
      setPhase(session, 'listening');
    },
    (error) => {
      if (!isCurrent(session)) return;
      const message =
        error.name === 'CaptureError'
          ? `Could not process the microphone's audio: ${error.message}.`
          : microphoneErrorMessage(error);
      endSession(session, message);
    }
  );
}

function sendBinary(session, buffer) {
  if (!isCurrent(session) || !session.ws || session.ws.readyState !== WebSocket.OPEN) return;
  session.ws.send(buffer);
}

// Stop button while listening: flush the microphone, then send the empty end-of-audio frame
// and keep drawing updates until ready_to_stop or the close.
async function finishSession(session) {
  setPhase(session, 'finishing');
  const capture = session.capture;
  session.capture = null;
  if (capture) {
    try {
      await capture.stop();
    } catch (error) {
      console.warn('Sayline: stopping the microphone failed', error);
    }
  }
  if (isCurrent(session) && session.ws.readyState === WebSocket.OPEN) {
    session.ws.send(new ArrayBuffer(0));
  }
}

// The session is over: release the microphone, close the socket, show `error` if any.
function endSession(session, error) {
  if (session.ended) return;
  session.ended = true;
  if (error) session.error = error;
  if (session.capture) {
    session.capture.abort();
    session.capture = null;
  }
  const ws = session.ws;
  if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) {
    ws.close(1000);
  }
  setPhase(session, 'closed');
}

function onSocketClose(session, event) {
  if (!isCurrent(session)) return;
  const message = describeClose(event.code, event.reason, {
    opened: session.opened,
    phase: session.phase,
    serverError: session.serverError,
  });
  endSession(session, message);
}

function onStartClick() {
  const session = app.session;
  const phase = currentPhase();
  if (phase === 'listening') finishSession(session);
  else if (phase === 'connecting' || phase === 'finishing') endSession(session, '');
  else startSession();
}

/* ---------------------------------------------------------------------------------
 * 5. Wiring
 * ------------------------------------------------------------------------------- */

const BUTTON_LABELS = { idle: 'Start', connecting: 'Cancel', listening: 'Stop', finishing: 'Close now', closed: 'Start' };

function renderSession() {
  const { els } = app;
  const phase = currentPhase();
  els.status.textContent = phase;
  els.status.dataset.state = phase;
  els.start.textContent = BUTTON_LABELS[phase];
  els.start.classList.toggle('running', phase === 'connecting' || phase === 'listening');
  els.start.classList.toggle('finishing', phase === 'finishing');
  els.start.title = phase === 'finishing' ? 'Waiting for the last captions; click to close at once' : '';
  els.language.disabled = phase === 'connecting' || phase === 'listening' || phase === 'finishing';
  renderError();
  renderPlaceholder(els.placeholder, app.transcript, phase);
}

function renderError() {
  const sessionError = app.session ? app.session.error : '';
  const message = sessionError || app.transcript.error;
  app.els.error.textContent = message;
  app.els.error.hidden = !message;
}

function renderTranscript() {
  const { els, transcript } = app;
  renderLines(els.transcript, transcript.lines, transcript.speaker_names);
  renderBuffer(els.buffer, transcript);
  renderLag(els.lag, transcript);
  els.sync.hidden = !transcript.outOfSync;
  const empty = transcriptText(transcript.lines) === '';
  els.copy.disabled = empty;
  els.download.disabled = empty;
  renderError();
  renderPlaceholder(els.placeholder, transcript, currentPhase());
  followNewest();
}

function renderAll() {
  renderSession();
  renderTranscript();
}

function isNearBottom(scroller) {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 48;
}

function followNewest() {
  const { captions, jump } = app.els;
  if (app.follow) captions.scrollTop = captions.scrollHeight;
  jump.hidden = app.follow || app.transcript.lines.length === 0;
}

function onCaptionsScroll() {
  app.follow = isNearBottom(app.els.captions);
  app.els.jump.hidden = app.follow;
}

function flashLabel(button, text) {
  const original = button.dataset.label || button.textContent;
  button.dataset.label = original;
  button.textContent = text;
  clearTimeout(button.flashTimer);
  button.flashTimer = setTimeout(() => {
    button.textContent = original;
  }, 1500);
}

function copyWithTextarea(text) {
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('copy command refused');
}

async function onCopyClick() {
  const text = transcriptText(app.transcript.lines, app.transcript.speaker_names);
  try {
    if (navigator.clipboard && window.isSecureContext) await navigator.clipboard.writeText(text);
    else copyWithTextarea(text);
    flashLabel(app.els.copy, 'Copied');
  } catch (error) {
    console.warn('Sayline: copying failed', error);
    flashLabel(app.els.copy, 'Copy failed');
  }
}

function downloadName(now) {
  const pad = (n) => String(n).padStart(2, '0');
  const date = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  return `sayline-${date}-${pad(now.getHours())}${pad(now.getMinutes())}.txt`;
}

function onDownloadClick() {
  const text = `${transcriptText(app.transcript.lines, app.transcript.speaker_names)}\n`;
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = downloadName(new Date());
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// Preselect the page URL's ?language=…, adding it to the picker if it is not listed.
function initLanguagePicker(select) {
  const wanted = new URLSearchParams(window.location.search).get('language');
  if (wanted === null) return;
  if (![...select.options].some((option) => option.value === wanted)) {
    const option = document.createElement('option');
    option.value = wanted;
    option.textContent = wanted;
    select.appendChild(option);
  }
  select.value = wanted;
}

function boot() {
  const byId = (id) => document.getElementById(id);
  app.els = {
    start: byId('start'),
    status: byId('status'),
    language: byId('language'),
    copy: byId('copy'),
    download: byId('download'),
    error: byId('error'),
    lag: byId('lag'),
    sync: byId('sync'),
    captions: byId('captions'),
    placeholder: byId('placeholder'),
    transcript: byId('transcript'),
    buffer: byId('buffer'),
    jump: byId('jump'),
  };
  initLanguagePicker(app.els.language);
  app.els.start.addEventListener('click', onStartClick);
  app.els.copy.addEventListener('click', onCopyClick);
  app.els.download.addEventListener('click', onDownloadClick);
  app.els.captions.addEventListener('scroll', onCaptionsScroll, { passive: true });
  app.els.jump.addEventListener('click', () => {
    app.follow = true;
    followNewest();
  });
  renderAll();
}

if (typeof module === 'object' && module && module.exports) {
  module.exports = {
    initialState,
    applyMessage,
    transcriptText,
    buildSocketUrl,
    describeClose,
    parseClock,
    pauseLabel,
    lagLevel,
  };
} else if (typeof document !== 'undefined') {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
}
