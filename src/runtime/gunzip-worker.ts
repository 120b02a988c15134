import { parentPort } from 'node:worker_threads';
import { loadIsalGunzip } from './gunzip.js';
import type { Gunzip } from './gunzip-engine.js';
import type { FromHost, ToHost } from './gunzip-worker-host.js';
import { collectShortLivedBytes, noteShortLivedBytes } from './heap.js';

/**
 * The inflating thread: ISA-L called inline, stream after stream, so it goes on inflating while the
 * main thread is busy with other work instead of waiting for it to hand out the next call.
 * Its side of the protocol is described in gunzip-worker-host.ts.
 */

/** Inflated chunks handed to the host and not yet taken by its consumer. */
const OUTPUT_CREDIT = 3;

interface Stream {
  inputs: Buffer[];
  inputEnded: boolean;
  closed: boolean;
  outstanding: number;
  /** Who waits for a message (for input, for credit); every message wakes them all to look again. */
  waiting: Array<() => void>;
}

function nextMessage(stream: Stream): Promise<void> {
  return new Promise<void>((resolve) => stream.waiting.push(resolve));
}

const port = parentPort!;
const streams = new Map<number, Stream>();
const post = (message: ToHost, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

/**
 * The chunk's bytes as an ArrayBuffer that can be moved to the other thread: a full chunk has one of
 * its own (allocated per inflate call) and moves without a copy; a partial one is copied.
 */
function ownArrayBuffer(chunk: Buffer): ArrayBuffer {
  const whole = chunk.buffer as ArrayBuffer;
  return chunk.byteOffset === 0 && whole.byteLength === chunk.length ? whole : whole.slice(chunk.byteOffset, chunk.byteOffset + chunk.length);
}

async function* inputOf(id: number, stream: Stream): AsyncGenerator<Buffer> {
  for (;;) {
    if (stream.closed) return;
    const next = stream.inputs.shift();
    if (next) {
      post({ type: 'need', id });
      yield next;
      continue;
    }
    if (stream.inputEnded) return;
    await nextMessage(stream);
  }
}

async function run(id: number, stream: Stream, engine: Gunzip): Promise<void> {
  try {
    for await (const chunk of engine.inflate(inputOf(id, stream))) {
      if (stream.closed) break;
      const data = ownArrayBuffer(chunk);
      post({ type: 'output', id, data, length: chunk.length }, [data]);
      stream.outstanding++;
      while (stream.outstanding >= OUTPUT_CREDIT && !stream.closed) await nextMessage(stream);
    }
    if (!stream.closed) post({ type: 'end', id });
  } catch (e) {
    if (!stream.closed) post({ type: 'error', id, message: (e as Error).message });
  } finally {
    streams.delete(id);
  }
}

// Its input chunks would otherwise wait for a collection this thread's small heap seldom starts.
collectShortLivedBytes();
const engine = await loadIsalGunzip(undefined, { inline: true });
post({ type: 'ready', ok: engine !== undefined });

port.on('message', (message: FromHost) => {
  if (!engine) return;
  if (message.type === 'open') {
    const stream: Stream = { inputs: [], inputEnded: false, closed: false, outstanding: 0, waiting: [] };
    streams.set(message.id, stream);
    void run(message.id, stream, engine);
    return;
  }
  const stream = streams.get(message.id);
  if (!stream) return;
  if (message.type === 'input') {
    stream.inputs.push(Buffer.from(message.data, 0, message.length));
    noteShortLivedBytes(message.length);
  } else if (message.type === 'input-end') stream.inputEnded = true;
  else if (message.type === 'taken') stream.outstanding--;
  else if (message.type === 'close') stream.closed = true;
  for (const wake of stream.waiting.splice(0)) wake();
});
