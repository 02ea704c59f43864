'use strict';

// AudioWorklet for the caption page: mixes the microphone down to mono, low-passes it,
// resamples it to 16 kHz by averaging each output sample's span of input samples (no
// samples are simply dropped), and posts ~100 ms chunks of signed 16-bit little-endian
// PCM to the main thread as {type: 'pcm', buffer: ArrayBuffer}.
//
// Control messages from the main thread: {type: 'flush'} posts what is buffered, then
// {type: 'flushed'}, and the processor stops.

const DEFAULT_TARGET_RATE = 16000;
const DEFAULT_CHUNK_MS = 100;

// A 4th-order Butterworth low-pass is two biquads with these Q values.
const BUTTERWORTH_4_QS = [0.5412, 1.3066];

// One low-pass biquad section (transposed direct form II), coefficients after the
// well-known "audio EQ cookbook" formulas.
class LowPassBiquad {
  constructor(rate, cutoff, q) {
    const w0 = (2 * Math.PI * cutoff) / rate;
    const cosW0 = Math.cos(w0);
    const alpha = Math.sin(w0) / (2 * q);
    const a0 = 1 + alpha;
    this.b0 = (1 - cosW0) / 2 / a0;
    this.b1 = (1 - cosW0) / a0;
    this.b2 = this.b0;
    this.a1 = (-2 * cosW0) / a0;
    this.a2 = (1 - alpha) / a0;
    this.z1 = 0;
    this.z2 = 0;
  }

  process(x) {
    const y = this.b0 * x + this.z1;
    this.z1 = this.b1 * x - this.a1 * y + this.z2;
    this.z2 = this.b2 * x - this.a2 * y;
    return y;
  }
}

function toInt16(sample) {
  const clamped = Math.max(-1, Math.min(1, sample));
  return Math.round(clamped < 0 ? clamped * 0x8000 : clamped * 0x7fff);
}

class PcmDownsampler extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const opts = (options && options.processorOptions) || {};
    const targetRate = opts.targetRate || DEFAULT_TARGET_RATE;
    const chunkMs = opts.chunkMs || DEFAULT_CHUNK_MS;

    // `sampleRate` is the AudioContext's rate (a global in the worklet scope).
    this.step = sampleRate / targetRate; // input samples per output sample
    this.filters = this.step > 1 ? makeAntiAliasFilters(sampleRate, targetRate) : [];
    this.sum = 0; // weighted sum of the input span of the output sample being built
    this.filled = 0; // how much of that span (in input samples) has been summed

    this.chunkSamples = Math.max(1, Math.round((targetRate * chunkMs) / 1000));
    this.newChunk();
    this.stopped = false;

    this.port.onmessage = (event) => this.onControl(event.data);
  }

  onControl(message) {
    if (message && message.type === 'flush') {
      this.postChunk();
      this.stopped = true;
      this.port.postMessage({ type: 'flushed' });
    }
  }

  process(inputs) {
    if (this.stopped) return false;
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const frames = channels[0].length;
    for (let i = 0; i < frames; i++) {
      let x = 0;
      for (let c = 0; c < channels.length; c++) x += channels[c][i];
      x /= channels.length;
      for (let f = 0; f < this.filters.length; f++) x = this.filters[f].process(x);
      this.accumulate(x);
    }
    return true;
  }

  // Spread one input sample over the output samples whose spans it covers; an output
  // sample is the average of its span (fractional at the edges when the ratio is not whole).
  accumulate(x) {
    let left = 1;
    while (left > 0) {
      const part = Math.min(left, this.step - this.filled);
      this.sum += x * part;
      this.filled += part;
      left -= part;
      if (this.filled >= this.step - 1e-9) {
        this.emit(this.sum / this.step);
        this.sum = 0;
        this.filled = 0;
      }
    }
  }

  emit(sample) {
    this.view.setInt16(this.count * 2, toInt16(sample), true);
    this.count += 1;
    if (this.count === this.chunkSamples) this.postChunk();
  }

  newChunk() {
    this.view = new DataView(new ArrayBuffer(this.chunkSamples * 2));
    this.count = 0;
  }

  postChunk() {
    if (this.count === 0) return;
    const buffer = this.view.buffer.slice(0, this.count * 2);
    this.port.postMessage({ type: 'pcm', buffer }, [buffer]);
    this.newChunk();
  }
}

function makeAntiAliasFilters(rate, targetRate) {
  // Cut a little below the new Nyquist frequency; the averaging that follows adds more.
  const cutoff = Math.min(0.45 * targetRate, 0.45 * rate);
  return BUTTERWORTH_4_QS.map((q) => new LowPassBiquad(rate, cutoff, q));
}

registerProcessor('pcm-downsampler', PcmDownsampler);
