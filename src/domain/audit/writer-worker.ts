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

function calls(batch: CallBatch): NumberedCall[] {
  return utf8.decode(batch).split('\n').map((line) => {
    const idEnd = line.indexOf('\t');
    const userEnd = line.indexOf('\t', idEnd + 1);
    const call = JSON.parse(line.slice(userEnd + 1)) as AuditedCall;
    if (userEnd > idEnd + 1) call.principalId = line.slice(idEnd + 1, userEnd);
    return { call, eventId: line.slice(0, idEnd) };
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
