import v8 from 'node:v8';
import vm from 'node:vm';

type CollectGarbage = (options: { type: 'minor'; execution: 'sync' }) => void;

/**
 * Bytes of short-lived buffers between two young-generation collections, on the request thread.
 * Each collection costs a fixed 0.2-0.5 ms here, whatever it frees: every 2 MiB, that was a tenth of
 * a large push's request thread; every 8 MiB it is a fortieth, for a one-off RSS rise of a few MiB
 * more (measured in BENCHMARKS.md).
 */
const SERVER_COLLECT_EVERY_BYTES = 8 << 20;
/**
 * The same for a worker thread, whose heap holds little else, and for callers whose buffers raise RSS
 * faster than received bodies do (a scan's layer reads: measured, its RSS rise was lower so).
 */
export const OFTEN_COLLECT_EVERY_BYTES = 2 << 20;

let collectYoung: CollectGarbage | undefined;
let collectEveryBytes = OFTEN_COLLECT_EVERY_BYTES;
let bytesSinceCollect = 0;

/**
 * Keeps a serving process's memory flat (measured in BENCHMARKS.md):
 * - The young generation stays at its initial size instead of growing to 16 MiB semi-spaces under
 *   high request rates; survivors are few, so the extra scavenges cost little.
 * - Every received body chunk, and every chunk a scan reads and inflates, is a fresh buffer that V8
 *   counts as external memory and frees only after a collection, which it starts by itself only at
 *   64 MiB of growth; what malloc hands back then stays in the process. A young-generation
 *   collection every few MiB of such bytes frees them while they are still young.
 * Both are V8 flags that take effect when set at run time.
 */
export function tuneHeapForServer(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  collectShortLivedBytes(SERVER_COLLECT_EVERY_BYTES);
}

/** Makes `noteShortLivedBytes` collect the young generation of this thread's heap (a worker thread calls it for its own). */
export function collectShortLivedBytes(everyBytes = OFTEN_COLLECT_EVERY_BYTES): void {
  collectEveryBytes = everyBytes;
  v8.setFlagsFromString('--expose-gc');
  try {
    collectYoung = vm.runInNewContext('gc') as CollectGarbage;
  } catch {
    collectYoung = undefined;
  }
}

/**
 * Counts bytes of short-lived buffers (received, read), collecting the young generation every few
 * MiB: every `collectEvery` bytes counted since the last collection, by default this thread's.
 */
export function noteShortLivedBytes(bytes: number, collectEvery = collectEveryBytes): void {
  bytesSinceCollect += bytes;
  if (bytesSinceCollect < collectEvery || !collectYoung) return;
  bytesSinceCollect = 0;
  collectYoung({ type: 'minor', execution: 'sync' });
}
