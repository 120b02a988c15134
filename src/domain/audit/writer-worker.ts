// The audit trail's writer thread (see writer-thread.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { AuditStore } from '../../store/meta/audit-store.js';
import { SqliteDb } from '../../store/meta/sqlite.js';
import { inThreadWriter } from './audit-writer.js';
import type { WriterReply, WriterRequest } from './writer-thread.js';

const db = new SqliteDb((workerData as { file: string }).file);
const store = new AuditStore(db);
const writer = inThreadWriter(() => store);
const port = parentPort!;

async function answer(request: WriterRequest): Promise<unknown> {
  switch (request.op) {
    case 'write':
      return writer.write(request.calls);
    case 'append':
      return store.append(request.rows);
    case 'prune':
      return writer.prune(request.before);
    case 'close':
      return db.close();
  }
}

port.on('message', (request: WriterRequest) => {
  answer(request).then(
    (result) => {
      port.postMessage({ id: request.id, result } satisfies WriterReply);
      if (request.op === 'close') port.close();
    },
    (err: unknown) => {
      const { message, code } = (err ?? {}) as { message?: string; code?: string };
      port.postMessage({ id: request.id, error: { message: message ?? String(err), code } } satisfies WriterReply);
    },
  );
});
