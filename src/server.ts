import { randomInt } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { BerthConfig } from './config.js';
import { createEcrDoor } from './ecr/door.js';
import { accessDenied } from './ecr/errors.js';
import { handleLayerDownload } from './ecr/layer-download.js';
import type { EcrContext } from './ecr/operation.js';
import { OPERATIONS } from './ecr/operations/index.js';
import { createIdentity } from './iam/create-identity.js';
import type { Identity } from './iam/identity.js';
import { sendJson } from './http/io.js';
import { createOciDoor } from './oci/door.js';
import { createIdentityAccess } from './oci/identity-access.js';
import { PullRecorder } from './registry/pull-recorder.js';
import { Registry } from './registry/registry.js';
import { FsBlobStore } from './store/blob/fs-blob-store.js';
import { startGcScheduler } from './gc/scheduler.js';
import { startLifecycleScheduler } from './lifecycle/scheduler.js';
import { IdentityStore } from './store/meta/identity-store.js';
import { MetadataStore } from './store/meta/metadata-store.js';
import { migrate } from './store/meta/migrations.js';
import { metadataResourcePolicies } from './store/meta/resource-policies.js';
import type { SqlDb } from './store/meta/sql.js';
import { SqliteDb } from './store/meta/sqlite.js';

export interface Berth {
  server: Server;
  config: BerthConfig;
  meta: MetadataStore;
  registry: Registry;
  identity: Identity;
  log: Logger;
  url: string;
  close(): Promise<void>;
}

/** Filesystem blobs under the data dir; metadata in PostgreSQL when configured, else SQLite there too. */
export async function openStores(config: BerthConfig): Promise<{ meta: MetadataStore; blobs: FsBlobStore }> {
  await mkdir(config.dataDir, { recursive: true });
  const db = config.databaseUrl ? await openPostgres(config.databaseUrl) : new SqliteDb(join(config.dataDir, 'metadata.db'));
  try {
    await migrate(db);
  } catch (e) {
    await db.close();
    throw e;
  }
  const blobs = new FsBlobStore(config.dataDir);
  await blobs.init();
  return { meta: new MetadataStore(db), blobs };
}

/** Loaded only when configured: the PostgreSQL client costs a few MiB of memory in every process. */
async function openPostgres(url: string): Promise<SqlDb> {
  const { PostgresDb } = await import('./store/meta/postgres.js');
  return new PostgresDb(url);
}

/** The account the registry serves by default, created on first start. */
export async function ensureDefaultAccount(meta: MetadataStore, region: string): Promise<string> {
  // One transaction, so servers starting together on a shared database agree on the account.
  return meta.transaction(async (tx) => {
    const existing = await tx.getSetting('default_account_id');
    if (existing) return existing;
    const id = String(randomInt(100_000, 999_999)) + String(randomInt(100_000, 999_999));
    await new IdentityStore(tx.db).createAccount(id, region);
    await tx.setSetting('default_account_id', id);
    return id;
  });
}

export async function startBerth(config: BerthConfig): Promise<Berth> {
  const log = pino({ level: config.logLevel, base: undefined });
  const { meta, blobs } = await openStores(config);
  const accountId = await ensureDefaultAccount(meta, config.region);
  const accountSetting = async (registryId: string, name: string): Promise<string | undefined> =>
    meta.getSetting(`account:${registryId}:${name}`);
  const registry = new Registry(meta, blobs, {
    createOnPush: async (registryId) => config.createOnPush || (await accountSetting(registryId, 'CREATE_ON_PUSH')) === 'ENABLED',
    blobMounting: async (registryId) => (await accountSetting(registryId, 'BLOB_MOUNTING')) !== 'DISABLED',
  });
  const pulls = new PullRecorder(registry, meta, log);
  const identity = await createIdentity({ meta, resources: metadataResourcePolicies(meta), config, accountId, log });
  let baseUrl = config.publicUrl ?? '';
  const oci = createOciDoor(registry, createIdentityAccess({ identity, region: config.region, baseUrl: () => baseUrl }), log);

  const makeContext = (req: IncomingMessage, principal: EcrContext['principal'], input: Record<string, unknown>): EcrContext => {
    const registryId = typeof input.registryId === 'string' ? input.registryId : principal.account;
    const base = config.publicUrl ?? `http://${req.headers.host ?? `${config.host}:${config.port}`}`;
    return {
      principal,
      identity,
      registryId,
      region: config.region,
      registry,
      meta,
      config,
      baseUrl: base,
      registryHost: new URL(base).host,
      sourceIp: req.socket.remoteAddress ?? '',
      authorize: async (action, resourceArn, context) => {
        const decision = await identity.authorize(principal, action, resourceArn, { 'aws:SourceIp': req.socket.remoteAddress, ...context });
        if (!decision.allowed) throw accessDenied(decision);
      },
    };
  };
  const ecr = createEcrDoor(identity, OPERATIONS, makeContext, log);

  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
    route(req, res).catch((err) => {
      log.error({ err }, 'unhandled request error');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://berth');
    if (url.pathname === '/v2' || url.pathname.startsWith('/v2/')) return oci(req, res, url);
    if (url.pathname === '/' && req.method === 'POST' && req.headers['x-amz-target']) return ecr(req, res);
    if (url.pathname === '/' && req.method === 'POST' && identity.handleQueryApi) return identity.handleQueryApi(req, res);
    if (url.pathname === '/healthz' || url.pathname === '/readyz') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname.startsWith('/layer-downloads/') && (await handleLayerDownload(registry, req, res, url))) return;
    if (identity.handleExtraRoute && (await identity.handleExtraRoute(req, res, url))) return;
    sendJson(res, 404, { message: 'not found' });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${hostForUrl}:${port}`;
  baseUrl ||= url;
  await identity.afterListen?.(baseUrl);
  const lifecycleScheduler = startLifecycleScheduler(registry, config.lifecycleIntervalSeconds, log);
  const gcScheduler = startGcScheduler(meta, blobs, config.gcIntervalSeconds, config.gcGraceSeconds, log);

  return {
    server,
    config,
    meta,
    registry,
    identity,
    log,
    url,
    async close() {
      await Promise.all([lifecycleScheduler.stop(), gcScheduler.stop()]);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await pulls.close();
      await meta.db.close();
    },
  };
}
