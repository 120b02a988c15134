import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import pino, { type Logger } from 'pino';
import type { BerthConfig } from './config.js';
import { createEcrDoor } from './doors/ecr/door.js';
import { createKmsDoor, KMS_TARGET_PREFIX } from './doors/kms/door.js';
import { ecrContextFactory } from './doors/ecr/context.js';
import { handleLayerDownload } from './doors/ecr/layer-download.js';
import { OPERATIONS } from './doors/ecr/operations/index.js';
import { handleQueryApi } from './doors/iam/query-api.js';
import { createIdentity } from './iam/create-identity.js';
import type { Identity } from './iam/identity.js';
import { guardConnections, serverTimeouts } from './doors/http/connections.js';
import { sendJson } from './doors/http/io.js';
import { createOciDoor } from './doors/oci/door.js';
import { createIdentityAccess } from './doors/oci/identity-access.js';
import type { Registry } from './domain/registry/registry.js';
import { GC_JOB, gcJobHandler, startGcScheduler } from './domain/gc/scheduler.js';
import { JobWorker } from './domain/jobs/worker.js';
import { LIFECYCLE_JOB, lifecycleJobHandler, startLifecycleScheduler } from './domain/lifecycle/scheduler.js';
import { openDomain, resourcePolicies } from './wiring.js';

export interface Berth {
  server: Server;
  config: BerthConfig;
  registry: Registry;
  identity: Identity;
  log: Logger;
  url: string;
  close(): Promise<void>;
}

export async function startBerth(config: BerthConfig): Promise<Berth> {
  const log = pino({ level: config.logLevel, base: undefined });
  const domain = await openDomain(config, log);
  const { registry, lifecycle } = domain;
  const { meta } = domain.stores;
  const accountId = await registry.accounts.ensureDefaultAccount(config.region);
  const identity = await createIdentity({ meta, directory: domain.identities, resources: resourcePolicies(registry, domain.kms), config, accountId });

  let baseUrl = config.publicUrl ?? '';
  const repositoryKeyArn = async (ref: { registryId: string; name: string }) => {
    const repo = await registry.repositories.find(ref);
    return repo && domain.encryption.kmsKeyArn(repo);
  };
  const oci = createOciDoor(registry, createIdentityAccess({ identity, region: config.region, baseUrl: () => baseUrl, repositoryKeyArn }), log);

  const makeContext = ecrContextFactory({ identity, registry, lifecycle, region: config.region, publicUrl: config.publicUrl, listen: `${config.host}:${config.port}` });
  const ecr = createEcrDoor(identity, OPERATIONS, makeContext, log);
  const kmsDoor = createKmsDoor({ identity, kms: domain.kms, region: config.region, log });
  const iamDoor = { identity, directory: domain.identities, log, onChange: () => identity.resourcesChanged?.() };

  const server = createServer(serverTimeouts(config.limits), (req, res) => {
    route(req, res).catch((err) => {
      log.error({ err }, 'unhandled request error');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  guardConnections(server, config.limits);

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://berth');
    if (url.pathname === '/v2' || url.pathname.startsWith('/v2/')) return oci(req, res, url);
    if (url.pathname === '/' && req.method === 'POST' && String(req.headers['x-amz-target']).startsWith(KMS_TARGET_PREFIX)) return kmsDoor(req, res);
    if (url.pathname === '/' && req.method === 'POST' && req.headers['x-amz-target']) return ecr(req, res);
    if (url.pathname === '/' && req.method === 'POST') return handleQueryApi(req, res, iamDoor);
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') {
      const readiness = await registry.readiness(config.minFreeBytes);
      return sendJson(res, readiness.ready ? 200 : 503, { status: readiness.ready ? 'ok' : 'not ready', ...readiness });
    }
    if (url.pathname.startsWith('/layer-downloads/') && (await handleLayerDownload(registry, req, res, url))) return;
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
  const { jobs } = domain;
  const worker = new JobWorker(meta.jobs, { log })
    .register(LIFECYCLE_JOB, lifecycleJobHandler(registry, log))
    .register(GC_JOB, gcJobHandler(domain.collectGarbage, config.gcGraceSeconds, log));
  worker.start(jobs);
  const lifecycleScheduler = startLifecycleScheduler(jobs, config.lifecycleIntervalSeconds, log);
  const gcScheduler = startGcScheduler(jobs, config.gcIntervalSeconds, log);

  return {
    server,
    config,
    registry,
    identity,
    log,
    url,
    async close() {
      await Promise.all([lifecycleScheduler.stop(), gcScheduler.stop()]);
      await worker.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await domain.close();
    },
  };
}
