import type { Worker } from 'node:worker_threads';
import { spawnBeside } from '../../runtime/spawn-worker.js';
import type { AuditRow } from '../../store/meta/audit-store.js';
import type { AuditWriter, NumberedCall } from './audit-writer.js';
import { auditCallRow } from './cloudtrail-record.js';

export type WriterRequest =
  | { id: number; op: 'write'; calls: NumberedCall[] }
  | { id: number; op: 'append'; rows: AuditRow[] }
  | { id: number; op: 'prune'; before: number }
  | { id: number; op: 'close' };
export type WriterReply = { id: number; result?: unknown; error?: { message: string; code?: string } };
type Call = { op: 'write'; calls: NumberedCall[] } | { op: 'append'; rows: AuditRow[] } | { op: 'prune'; before: number } | { op: 'close' };

/**
 * The audit trail's writer on a thread of its own, with its own connection to the trail's SQLite
 * file: on the request thread, building a pull's row and inserting it cost several percent of a
 * manifest GET, and each batch's insert held up the requests waiting behind it. Calls cross as
 * plain objects (a structured clone costs less than their rows' JSON); the thread builds the rows.
 * Started on first use, and again if it dies.
 */
export class AuditWriterThread implements AuditWriter {
  private worker?: Worker;
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  private nextId = 1;

  constructor(private readonly file: string) {}

  async write(calls: NumberedCall[]): Promise<void> {
    if (calls.length === 0) return;
    try {
      await this.call({ op: 'write', calls: calls.map(plainCall) });
    } catch (err) {
      if ((err as Error).name !== 'DataCloneError') throw err;
      // Parameters a clone cannot copy (a door's object with functions): their rows, built here, can.
      await this.call({ op: 'append', rows: calls.map((call) => auditCallRow(call, call.eventId)) });
    }
  }

  prune(before: number): Promise<number> {
    return this.call({ op: 'prune', before }) as Promise<number>;
  }

  /** Waits for what was handed over, closes the file and ends the thread. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await this.call({ op: 'close' });
    this.worker = undefined;
    await worker.terminate();
  }

  private call(call: Call): Promise<unknown> {
    const worker = this.started();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      try {
        worker.postMessage({ ...call, id } satisfies WriterRequest);
      } catch (err) {
        this.waiting.delete(id);
        return reject(err as Error);
      }
      // Held open (ref) only while an answer is awaited, so an idle trail never keeps a process alive.
      if (this.waiting.size === 1) worker.ref();
    });
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = spawnBeside(import.meta.url, 'writer-worker', { workerData: { file: this.file } });
    worker.unref();
    worker.on('message', (reply: WriterReply) => this.settle(reply));
    const fail = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const { reject } of this.waiting.values()) reject(err);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the audit trail's writer thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private settle(reply: WriterReply): void {
    const waiter = this.waiting.get(reply.id);
    if (!waiter) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.worker?.unref();
    if (!reply.error) return waiter.resolve(reply.result);
    waiter.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
  }
}

/** The call with only the principal's recorded fields: a request's principal may carry more, not all of it cloneable. */
function plainCall(call: NumberedCall): NumberedCall {
  const { arn, account, userName, accessKeyId, anonymous } = call.principal;
  return { ...call, principal: { arn, account, userName, accessKeyId, anonymous } };
}
