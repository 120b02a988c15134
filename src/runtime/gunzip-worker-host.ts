import type { Worker } from 'node:worker_threads';
import { GunzipError, type Gunzip } from './gunzip-engine.js';
import { spawnBeside } from './spawn-worker.js';

/**
 * ISA-L in a worker thread of its own. Called from the main thread (each call a round trip through
 * libuv's pool), the inflater sat idle whenever the main thread was busy with anything else when a
 * call ended; in a worker it inflates on while the main thread works.
 *
 * Protocol, per stream (ids chosen here): `open`; the host sends two `input` chunks, then one more
 * for each `need` (the worker took one), then `input-end`; the worker sends `output` chunks (moved,
 * not copied), at most three not yet `taken`, then `end` or `error`. `close` ends a stream early.
 */
export type FromHost =
  | { type: 'open'; id: number }
  | { type: 'input'; id: number; data: ArrayBuffer; length: number }
  | { type: 'input-end'; id: number }
  | { type: 'taken'; id: number }
  | { type: 'close'; id: number };

export type ToHost =
  | { type: 'ready'; ok: boolean }
  | { type: 'need'; id: number }
  | { type: 'output'; id: number; data: ArrayBuffer; length: number }
  | { type: 'end'; id: number }
  | { type: 'error'; id: number; message: string };

/** Input chunks sent before the worker asks for more. */
const INPUT_AHEAD = 2;

interface Listener {
  need(): void;
  output(chunk: Buffer): void;
  end(): void;
  error(err: Error): void;
}

class WorkerGunzip {
  private readonly listeners = new Map<number, Listener>();
  private nextId = 1;
  private failed: Error | undefined;

  constructor(private readonly worker: Worker) {
    worker.unref();
    worker.on('message', (message: ToHost) => this.receive(message));
    const fail = (err: Error) => {
      this.failed = err;
      for (const listener of this.listeners.values()) listener.error(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the gunzip worker exited (code ${code})`)));
  }

  private receive(message: ToHost): void {
    if (message.type === 'ready') return;
    const listener = this.listeners.get(message.id);
    if (!listener) return;
    if (message.type === 'need') listener.need();
    else if (message.type === 'output') listener.output(Buffer.from(message.data, 0, message.length));
    else if (message.type === 'end') listener.end();
    else listener.error(new GunzipError(message.message));
  }

  private send(message: FromHost, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  async *inflate(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    if (this.failed) throw this.failed;
    const id = this.nextId++;
    const it = source[Symbol.asyncIterator]();
    const ready: Buffer[] = [];
    let ended = false;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const wakeUp = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };

    // Input goes one chunk per request, in order, from one feeding loop at a time.
    let wanted = 0;
    let feeding = false;
    let sourceDone = false;
    const feed = async () => {
      wanted++;
      if (feeding) return;
      feeding = true;
      try {
        while (wanted > 0 && !sourceDone && !failure) {
          wanted--;
          const r = await it.next();
          if (r.done) {
            sourceDone = true;
            this.send({ type: 'input-end', id });
          } else {
            // A copy of its own: the source's buffer may be a view of memory still in use.
            const data = r.value.buffer.slice(r.value.byteOffset, r.value.byteOffset + r.value.length) as ArrayBuffer;
            this.send({ type: 'input', id, data, length: r.value.length }, [data]);
          }
        }
      } catch (e) {
        sourceDone = true;
        failure ??= e as Error;
        wakeUp();
      } finally {
        feeding = false;
      }
    };

    this.listeners.set(id, {
      need: () => void feed(),
      output: (chunk) => {
        ready.push(chunk);
        wakeUp();
      },
      end: () => {
        ended = true;
        wakeUp();
      },
      error: (err) => {
        failure ??= err;
        wakeUp();
      },
    });
    // The worker thread keeps the process alive only while a stream needs it.
    if (this.listeners.size === 1) this.worker.ref();
    this.send({ type: 'open', id });
    for (let i = 0; i < INPUT_AHEAD; i++) void feed();
    try {
      for (;;) {
        const chunk = ready.shift();
        if (chunk) {
          this.send({ type: 'taken', id });
          yield chunk;
          continue;
        }
        if (failure) throw failure;
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      this.send({ type: 'close', id });
      this.listeners.delete(id);
      if (this.listeners.size === 0) this.worker.unref();
      if (!sourceDone) {
        sourceDone = true;
        await it.return?.();
      }
    }
  }
}

/**
 * Starts the gunzip worker; undefined where it cannot run ISA-L (no library, a failed self-test, no
 * worker threads), and the caller inflates on the main thread's side instead.
 */
export async function startWorkerGunzip(): Promise<Gunzip | undefined> {
  let worker: Worker;
  try {
    worker = spawnBeside(import.meta.url, 'gunzip-worker');
  } catch {
    return undefined;
  }
  const ok = await new Promise<boolean>((resolve) => {
    worker.once('message', (message: ToHost) => resolve(message.type === 'ready' && message.ok));
    worker.once('error', () => resolve(false));
    worker.once('exit', () => resolve(false));
  });
  if (!ok) {
    await worker.terminate().catch(() => undefined);
    return undefined;
  }
  const host = new WorkerGunzip(worker);
  return { engine: 'isa-l', inflate: (source) => host.inflate(source) };
}
