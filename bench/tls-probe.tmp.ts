import { mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeSelfSigned } from '../src/doors/http/self-signed.js';
import { startServer } from './servers.js';
import { prepareBlob, pushBlob } from './workloads/blob-push.js';
import { pullBlob } from './workloads/blob-pull.js';
const root = await mkdtemp('/tmp/tlsprobe/r-');
const files = await writeSelfSigned(path.join(root, 'tls'), ['127.0.0.1']);
const tls = { certFile: files.serverCert, keyFile: files.serverKey, ca: await readFile(files.caCert) };
const kinds = (process.env.KINDS ?? 'berth,distribution').split(',') as ('berth' | 'distribution')[];
const servers = [];
for (const k of kinds) servers.push(await startServer(k, { label: k, dataDir: path.join(root, k), tls, berthCpuProfileDir: process.env.PROF }));
const blobs = [];
for (const s of servers) { const b = prepareBlob(Number(process.env.MB ?? 256) * 1024 * 1024); await pushBlob(s, b, 'monolithic', 0); blobs.push(b); }
for (const h2 of (process.env.PROTO ?? 'h1,h2').split(',')) for (let r = 0; r < Number(process.env.ROUNDS ?? 3); r++) {
  const line = [];
  for (const [i, s] of servers.entries()) line.push(`${s.label} ${(await pullBlob(s, blobs[i]!, h2 === 'h2')).toFixed(0)}`);
  console.log(h2, line.join('  '));
}
for (const s of servers) await s.stop();
await rm(root, { recursive: true, force: true });
