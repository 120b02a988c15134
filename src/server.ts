import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import pino, { type Logger } from 'pino';
import type { BerthConfig } from './config.js';
import { createEcrDoor } from './doors/ecr/door.js';
import { createEventsDoor, EVENTS_TARGET_PREFIX } from './doors/events/door.js';
import { DELIVER_JOB, deliveryHandler } from './domain/eventbridge/delivery.js';
import { EventDispatcher } from './domain/eventbridge/dispatcher.js';
import { createEcrPublicDoor, isEcrPublicRequest } from './doors/ecr-public/door.js';
import { createKmsDoor, KMS_TARGET_PREFIX } from './doors/kms/door.js';
import { ecrContextFactory } from './doors/ecr/context.js';
import { handleLayerDownload } from './doors/ecr/layer-download.js';
import { OPERATIONS } from './doors/ecr/operations/index.js';
import { handleQueryApi } from './doors/iam/query-api.js';
import { createIdentity } from './iam/create-identity.js';
import type { Identity } from './iam/identity.js';
import { guardConnections, serverTimeouts } from './doors/http/connections.js';
import { serveTls } from './doors/http/tls.js';
import type { Http2SecureServer } from 'node:http2';
import { sendJson } from './doors/http/io.js';
import { observeRequests, observedServerOptions, requestRecord, stampRequestId } from './doors/http/request-record.js';
import { createRequestLog } from './doors/http/request-log.js';
import { BerthMetrics } from './doors/http/metrics.js';
import { metricsEndpoint, metricsToken } from './doors/http/metrics-endpoint.js';
import { CachedStorageFigures } from './domain/stats/storage-figures.js';
import { AuditTrail } from './domain/audit/audit-trail.js';
import { AUDIT_PRUNE_JOB, auditPruneJobHandler, startAuditPruneScheduler } from './domain/audit/retention.js';
import { auditObserver } from './doors/http/audit-observer.js';
import { usageObserver } from './doors/http/usage-observer.js';
import { UsageMeter } from './domain/usage/usage-meter.js';
import { startUsageSampler, USAGE_SAMPLE_JOB, usageSampleJobHandler } from './domain/usage/storage-sampler.js';
import { CLOUDTRAIL_TARGET_PREFIX, createCloudTrailDoor } from './doors/cloudtrail/door.js';
import { createOciDoor } from './doors/oci/door.js';
import { createIdentityAccess } from './doors/oci/identity-access.js';
import type { Registry } from './domain/registry/registry.js';
import { GC_JOB, gcJobHandler, startGcScheduler } from './domain/gc/scheduler.js';
import { JobWorker } from './domain/jobs/worker.js';
import { RESTORE_JOB, restoreJobHandler } from './domain/registry/restore-job.js';
import { LIFECYCLE_JOB, lifecycleJobHandler, startLifecycleScheduler } from './domain/lifecycle/scheduler.js';
import { RESCAN_JOB, SCAN_JOB } from './domain/scanning/scanning.js';
import { TtlCache } from './runtime/ttl-cache.js';
import { releaseClaimsOfEarlierRuns } from './domain/registry/claims.js';
import { openDomain, resourcePolicies } from './wiring.js';

export interface Berth {
  server: Server | Http2SecureServer;
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
  // What this node's earlier run left claimed (killed mid-upload or mid-commit) is free again.
  await releaseClaimsOfEarlierRuns(domain.stores.meta);
  const accountId = await registry.accounts.ensureDefaultAccount(config.region);
  const identity = await createIdentity({ meta, directory: domain.identities, resources: resourcePolicies(registry, domain.kms), config, accountId });

  const scheme = config.tls ? 'https' : 'http';
  let baseUrl = config.publicUrl ?? '';
  // A repository's encryption is fixed at its creation, so its key is reused for as long as
  // policies are (a repository deleted and created again elsewhere is seen within that time).
  const keyArns = new TtlCache<string | undefined>(2000);
  const repositoryKeyArn = (ref: { registryId: string; name: string }) =>
    keyArns.get(`${ref.registryId}/${ref.name}`, async () => {
      const repo = await registry.repositories.find(ref);
      return repo && domain.encryption.kmsKeyArn(repo);
    });
  const oci = createOciDoor(registry, createIdentityAccess({ identity, region: config.region, baseUrl: () => baseUrl, repositoryKeyArn }), log);

  const makeContext = ecrContextFactory({ identity, registry, lifecycle, scanning: domain.scanning, region: config.region, publicUrl: config.publicUrl, scheme, listen: `${config.host}:${config.port}` });
  const ecr = createEcrDoor(identity, OPERATIONS, makeContext, log);
  const eventsDoor = createEventsDoor(identity, domain.eventbridge, log);
  const ecrPublic = createEcrPublicDoor({ identity, registry, publicUrl: config.publicUrl, listen: `${config.host}:${config.port}` }, log);
  const kmsDoor = createKmsDoor({ identity, kms: domain.kms, region: config.region, log });
  const iamDoor = { identity, directory: domain.identities, log, onChange: () => identity.resourcesChanged?.() };

  const metrics = new BerthMetrics();
  const storageFigures = new CachedStorageFigures(() => meta.stats);
  const scrape = metricsEndpoint({
    metrics,
    figures: () => storageFigures.current(),
    token: await metricsToken({ dataDir: config.dataDir, token: config.metricsToken, public: config.metricsPublic }),
  });
  const trail = new AuditTrail(() => meta.audit, { log, userIdOf: async (account, name) => (await domain.identities.getUser(account, name))?.userId });
  metrics.watchAuditTrail(trail);
  const cloudtrail = createCloudTrailDoor({ identity, trail, log });
  const requestLog = createRequestLog(config.logLevel);
  const usageMeter = new UsageMeter(meta, config.region, { log });
  const observers = [requestLog.observer, metrics.observer, auditObserver(trail, config.region), usageObserver(usageMeter)];
  const handle = observeRequests((req, res) => {
    if (tlsServer) stampRequestId(req, res);
    route(req, res).catch((err) => {
      log.error({ err }, 'unhandled request error');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  }, observers);
  const tlsServer = config.tls ? await serveTls(config.tls, config.limits, handle, log) : undefined;
  const server = tlsServer?.server ?? createServer({ ...serverTimeouts(config.limits), ...observedServerOptions }, handle);
  if (!tlsServer) guardConnections(server, config.limits);

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://berth');
    if (url.pathname === '/v2' || url.pathname.startsWith('/v2/')) return oci(req, res, url);
    if (url.pathname === '/' && req.method === 'POST' && String(req.headers['x-amz-target']).startsWith(EVENTS_TARGET_PREFIX)) return eventsDoor(req, res);
    if (isEcrPublicRequest(req, url)) return ecrPublic(req, res, url);
    if (url.pathname === '/' && req.method === 'POST' && String(req.headers['x-amz-target']).startsWith(CLOUDTRAIL_TARGET_PREFIX)) return cloudtrail(req, res);
    if (url.pathname === '/' && req.method === 'POST' && String(req.headers['x-amz-target']).startsWith(KMS_TARGET_PREFIX)) return kmsDoor(req, res);
    if (url.pathname === '/' && req.method === 'POST' && req.headers['x-amz-target']) return ecr(req, res);
    if (url.pathname === '/' && req.method === 'POST') return handleQueryApi(req, res, iamDoor);
    if (url.pathname === '/metrics') return scrape(req, res);
    if (url.pathname === '/healthz' || url.pathname === '/readyz') requestRecord(req).door = 'health';
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
  const url = `${scheme}://${hostForUrl}:${port}`;
  baseUrl ||= url;
  await identity.afterListen?.(baseUrl);
  const { jobs } = domain;
  const worker = new JobWorker(meta.jobs, { log })
    .register(LIFECYCLE_JOB, metrics.timeJob(LIFECYCLE_JOB, lifecycleJobHandler(registry, log, (results) => metrics.lifecycleFinished(results))))
    .register(GC_JOB, metrics.timeJob(GC_JOB, gcJobHandler(async (opts) => {
      const report = await domain.collectGarbage(opts);
      metrics.gcFinished(report);
      return report;
    }, config.gcGraceSeconds, log)))
    .register(AUDIT_PRUNE_JOB, metrics.timeJob(AUDIT_PRUNE_JOB, auditPruneJobHandler(trail, config.auditRetentionDays, log)))
    .register(USAGE_SAMPLE_JOB, metrics.timeJob(USAGE_SAMPLE_JOB, usageSampleJobHandler(meta, config.region, config.usage.retentionDays, log)))
    .register(SCAN_JOB, domain.scanning.scanJobHandler())
    .register(RESCAN_JOB, domain.scanning.rescanJobHandler())
    .register(RESTORE_JOB, metrics.timeJob(RESTORE_JOB, restoreJobHandler(registry.images)));
  worker.start(jobs);
  // Deliveries wait on other systems: their own worker, so a slow endpoint holds up no other job.
  const deliveries = new JobWorker(meta.jobs, { log, concurrency: 8 }).register(DELIVER_JOB, deliveryHandler(domain.eventbridge, meta, log));
  deliveries.start();
  const dispatcher = new EventDispatcher(meta, config.region, log, () => deliveries.poke());
  dispatcher.start();
  const lifecycleScheduler = startLifecycleScheduler(jobs, config.lifecycleIntervalSeconds, log);
  const gcScheduler = startGcScheduler(jobs, config.gcIntervalSeconds, log);
  const auditPruneScheduler = startAuditPruneScheduler(jobs, log);
  const usageSampler = startUsageSampler(jobs, config.usage.sampleIntervalSeconds, log);

  return {
    server,
    config,
    registry,
    identity,
    log,
    url,
    async close() {
      await Promise.all([lifecycleScheduler.stop(), gcScheduler.stop(), auditPruneScheduler.stop(), usageSampler.stop()]);
      await dispatcher.stop();
      await Promise.all([worker.stop(), deliveries.stop()]);
      if (tlsServer) await tlsServer.close();
      else {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        (server as Server).closeAllConnections();
      }
      await trail.close();
      await usageMeter.close();
      await domain.close();
      requestLog.flush();
    },
  };
}
