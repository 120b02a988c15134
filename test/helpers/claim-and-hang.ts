// A worker process that claims one job and then hangs until killed: `kill -9` in the middle of a job.
// Usage: node --import tsx test/helpers/claim-and-hang.ts <metadata.db> <kind> <leaseMs>
import { JobStore } from '../../src/store/meta/job-store.js';
import { SqliteDb } from '../../src/store/meta/sqlite.js';

const [file, kind, leaseMs] = process.argv.slice(2);
const db = new SqliteDb(file!);
const job = await new JobStore(db).claim(`doomed:${process.pid}`, [kind!], Number(leaseMs));
process.stdout.write(job ? `claimed ${job.id}\n` : 'nothing to claim\n');
setInterval(() => undefined, 60_000);
