// The audit trail's writer thread (see writer-thread.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { AuditStore } from '../../store/meta/audit-store.js';
import { SqliteDb } from '../../store/meta/sqlite.js';
import { inThreadWriter, type NumberedCall } from './audit-writer.js';
import type { AuditedCall } from './cloudtrail-record.js';
import type { CallBatch, WriterReply, WriterRequest } from './writer-thread.js';

const db = new SqliteDb((workerData as { file: string }).file);
const store = new AuditStore(db);
const writer = inThreadWriter(() => store);
const port = parentPort!;

const utf8 = new TextDecoder();

function calls({ lines, ids }: CallBatch): NumberedCall[] {
  return utf8.decode(lines).split('\n').map((line, i) => {
    const [eventId, principalId] = ids[i]!;
    const call = JSON.parse(line) as AuditedCall;
    if (principalId !== null) call.principalId = principalId;
    return { call, eventId };
  });
}

async function answer(request: WriterRequest): Promise<unknown> {
  switch (request.op) {
    case 'write':
      return writer.write(calls(request.batch));
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
