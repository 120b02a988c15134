// Rows: manifest GET and HEAD by tag at 1/16/64 connections. GET is driven by wrk (C, so the
// load generator costs as little CPU as possible); HEAD by a bare-socket generator, because wrk
// hangs on HEAD responses that carry a Content-Length. Every response must be a 200.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { newBlob } from '../random-blob.js';
import { MANIFEST_ACCEPT, RegistryClient } from '../registry-client.js';
import { findOnPath, type RunningServer } from '../servers.js';
import { headLoad } from './head-load.js';
import { httpLoad } from './http-load.js';

export const MANIFEST_REPO = 'bench/manifest';
export const MANIFEST_TAG = 'latest';
const LUA_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'manifest-load.lua');

export interface ManifestLoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
}

/** Push the image whose manifest the rows fetch: three small layers, a config, a tag. */
export async function prepareManifestImage(server: RunningServer): Promise<void> {
  const client = new RegistryClient(server.origin, server.authorization, 1);
  try {
    const layers = [newBlob(4096), newBlob(64 * 1024), newBlob(512 * 1024)];
    await client.pushImage(MANIFEST_REPO, MANIFEST_TAG, layers);
    await client.headManifest(MANIFEST_REPO, MANIFEST_TAG);
  } finally {
    await client.close();
  }
}

export type LoadTool = 'wrk' | 'socket' | 'undici';

/** wrk where it works (GET), the bare-socket generator for HEAD; BENCH_MANIFEST_TOOL=undici forces undici for both. */
export function loadToolFor(method: 'GET' | 'HEAD'): LoadTool {
  const forced = process.env.BENCH_MANIFEST_TOOL;
  if (forced === 'undici' || (forced === 'wrk' && method === 'GET')) return forced;
  return method === 'GET' ? 'wrk' : 'socket';
}

export async function manifestLoad(server: RunningServer, method: 'GET' | 'HEAD', connections: number, seconds: number): Promise<ManifestLoadResult> {
  const what = `${server.label}: manifest ${method} at ${connections} connections`;
  const tool = loadToolFor(method);
  if (tool !== 'wrk') {
    const path = `/v2/${MANIFEST_REPO}/manifests/${MANIFEST_TAG}`;
    const headers = { accept: MANIFEST_ACCEPT, ...(server.authorization ? { authorization: server.authorization } : {}) };
    const r = tool === 'socket' ? await headLoad(server.origin, path, headers, connections, seconds) : await httpLoad(server.origin, path, method, headers, connections, seconds);
    if (r.non200 > 0) throw new Error(`${what}: ${r.non200} of ${r.requests} responses were not 200 (first: ${r.firstBadStatus})`);
    if (r.errors > 0) throw new Error(`${what}: ${r.errors} request errors (first: ${r.firstError})`);
    if (r.requests === 0) throw new Error(`${what}: no responses`);
    return { rps: r.rps, p50Ms: r.p50Ms, p99Ms: r.p99Ms, requests: r.requests };
  }
  return wrkLoad(server, method, connections, seconds, what);
}

async function wrkLoad(server: RunningServer, method: 'GET' | 'HEAD', connections: number, seconds: number, what: string): Promise<ManifestLoadResult> {
  const wrk = findOnPath(['wrk']);
  if (!wrk) throw new Error('wrk not found on PATH (install the wrk package)');
  const threads = Math.max(1, Math.min(connections, os.availableParallelism()));
  const args = [
    '-t', String(threads),
    '-c', String(connections),
    '-d', `${seconds}s`,
    '--timeout', '10s',
    '-s', LUA_SCRIPT,
    '-H', `Accept: ${MANIFEST_ACCEPT}`,
  ];
  if (server.authorization) args.push('-H', `Authorization: ${server.authorization}`);
  args.push(`${server.origin}/v2/${MANIFEST_REPO}/manifests/${MANIFEST_TAG}`);

  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(wrk, args, { env: { ...process.env, BENCH_METHOD: method }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}:\n${out}`))));
  });
  const line = /^BENCH_RESULT (.+)$/m.exec(output);
  if (!line) throw new Error(`wrk printed no result line:\n${output}`);
  const r = JSON.parse(line[1]!) as Record<string, number>;
  const socketErrors = r.connect_errors! + r.read_errors! + r.write_errors! + r.timeouts!;
  if (r.non200! > 0) throw new Error(`${what}: ${r.non200} of ${r.responses} responses were not 200 (first: ${r.first_bad_status})`);
  if (socketErrors > 0) throw new Error(`${what}: socket errors ${JSON.stringify(r)}`);
  if (r.responses === 0) throw new Error(`${what}: no responses`);
  return { rps: r.responses! / (r.duration_us! / 1e6), p50Ms: r.p50_us! / 1000, p99Ms: r.p99_us! / 1000, requests: r.responses! };
}
