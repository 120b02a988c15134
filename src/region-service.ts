import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { BerthConfig } from './config.js';
import { createCloudTrailDoor } from './doors/cloudtrail/door.js';
import { ecrContextFactory } from './doors/ecr/context.js';
import { createEcrDoor } from './doors/ecr/door.js';
import { OPERATIONS } from './doors/ecr/operations/index.js';
import { createEventsDoor } from './doors/events/door.js';
import { auditObserver } from './doors/http/audit-observer.js';
import type { BerthMetrics } from './doors/http/metrics.js';
import type { RequestObserver } from './doors/http/request-record.js';
import { usageObserver } from './doors/http/usage-observer.js';
import { createKmsDoor } from './doors/kms/door.js';
import { createOciDoor } from './doors/oci/door.js';
import { createIdentityAccess } from './doors/oci/identity-access.js';
import { AuditTrail } from './domain/audit/audit-trail.js';
import { AuditWriterThread } from './domain/audit/writer-thread.js';
import { AUDIT_PRUNE_JOB, auditPruneJobHandler, startAuditPruneScheduler } from './domain/audit/retention.js';
import { DELIVER_JOB, deliveryHandler } from './domain/eventbridge/delivery.js';
import { EventDispatcher } from './domain/eventbridge/dispatcher.js';
import { GC_JOB, gcJobHandler, startGcScheduler } from './domain/gc/scheduler.js';
import { JobWorker } from './domain/jobs/worker.js';
import { LIFECYCLE_JOB, lifecycleJobHandler, startLifecycleScheduler } from './domain/lifecycle/scheduler.js';
import { releaseClaimsOfEarlierRuns } from './domain/registry/claims.js';
import { RESTORE_JOB, restoreJobHandler } from './domain/registry/restore-job.js';
import { ENCRYPT_PLAINTEXT_JOB, encryptPlaintextJobHandler, startPlaintextMigration } from './domain/encryption/plaintext-migration.js';
import { RESCAN_JOB, SCAN_JOB } from './domain/scanning/scanning.js';
import { startUsageSampler, USAGE_SAMPLE_JOB, usageSampleJobHandler } from './domain/usage/storage-sampler.js';
import { UsageMeter } from './domain/usage/usage-meter.js';
import { createIdentity } from './iam/create-identity.js';
import type { Identity } from './iam/identity.js';
import { TtlCache } from './runtime/ttl-cache.js';
import { resourcePolicies, type Domain } from './wiring.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** One region's registry as the doors serve it: its domain, its doors, and its background work. */
export interface RegionService {
  region: string;
  domain: Domain;
  identity: Identity;
  oci(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
  ecr: Handler;
  events: Handler;
  kms: Handler;
  cloudtrail: Handler;
  /** The audit trail and usage meter of the requests this region answered. */
  observers: RequestObserver[];
  /** Starts the region's job workers, schedulers and event dispatcher. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface RegionServiceDeps {
  /** The deployment's config with `region` set to this region. */
  config: BerthConfig;
  domain: Domain;
  /** The account every region serves by default (the home region's). */
  accountId: string;
  log: Logger;
  metrics: BerthMetrics;
  /** The base URL of this region's registry that a request should be answered with (repository URIs, challenges). */
  baseUrl(req?: IncomingMessage): string;
  /** Whether this is the home region (it bootstraps the administrator). */
  home: boolean;
}

export async function startRegionService(deps: RegionServiceDeps): Promise<RegionService> {
  const { config, domain, log, metrics } = deps;
  const { registry, lifecycle } = domain;
  const { meta } = domain.stores;
  const region = config.region;
  // What this node's earlier run left claimed (killed mid-upload or mid-commit) is free again.
  await releaseClaimsOfEarlierRuns(meta);
  await registry.accounts.ensureDefaultAccount(region, deps.accountId);
  const identity = await createIdentity({ meta, directory: domain.identities, resources: resourcePolicies(registry, domain.kms, domain.eventbridge), config, accountId: deps.accountId, bootstrap: deps.home });

  // A repository's encryption is fixed at its creation, so its key is reused for as long as
  // policies are (a repository deleted and created again elsewhere is seen within that time).
  const keyArns = new TtlCache<string | undefined>(2000);
  const repositoryKeyArn = (ref: { registryId: string; name: string }) =>
    keyArns.get(`${ref.registryId}/${ref.name}`, async () => {
      const repo = await registry.repositories.find(ref);
      return repo && domain.encryption.kmsKeyArn(repo);
    });
  const oci = createOciDoor(registry, createIdentityAccess({ identity, region, baseUrl: () => deps.baseUrl(), repositoryKeyArn }), log);
  const makeContext = ecrContextFactory({ identity, registry, lifecycle, scanning: domain.scanning, region, baseUrl: deps.baseUrl });
  const { audit, auditFile } = domain.stores;
  const trail = new AuditTrail(() => audit, { log, writer: auditFile ? new AuditWriterThread(auditFile) : undefined, userIdOf: async (account, name) => (await domain.identities.getUser(account, name))?.userId });
  metrics.watchAuditTrail(trail);
  const usageMeter = new UsageMeter(meta, region, { log });

  const { jobs } = domain;
  const worker = new JobWorker(meta.jobs, { log })
    .register(LIFECYCLE_JOB, metrics.timeJob(LIFECYCLE_JOB, lifecycleJobHandler(registry, log, (results) => metrics.lifecycleFinished(results))))
    .register(GC_JOB, metrics.timeJob(GC_JOB, gcJobHandler(async (opts) => {
      const report = await domain.collectGarbage(opts);
      metrics.gcFinished(report);
      return report;
    }, config.gcGraceSeconds, log)))
    .register(AUDIT_PRUNE_JOB, metrics.timeJob(AUDIT_PRUNE_JOB, auditPruneJobHandler(trail, config.auditRetentionDays, log)))
    .register(USAGE_SAMPLE_JOB, metrics.timeJob(USAGE_SAMPLE_JOB, usageSampleJobHandler(meta, region, config.usage.retentionDays, log)))
    .register(SCAN_JOB, metrics.timeJob(SCAN_JOB, domain.scanning.scanJobHandler((outcome) => metrics.scanFinished(outcome))))
    .register(RESCAN_JOB, metrics.timeJob(RESCAN_JOB, domain.scanning.rescanJobHandler()))
    .register(RESTORE_JOB, metrics.timeJob(RESTORE_JOB, restoreJobHandler(registry.images)))
    .register(ENCRYPT_PLAINTEXT_JOB, metrics.timeJob(ENCRYPT_PLAINTEXT_JOB, encryptPlaintextJobHandler(meta, domain.encryption, log)));
  // Deliveries wait on other systems: their own worker, so a slow endpoint holds up no other job.
  const deliveries = new JobWorker(meta.jobs, { log, concurrency: 8 }).register(DELIVER_JOB, metrics.timeJob(DELIVER_JOB, deliveryHandler(domain.eventbridge, meta, log)));
  const dispatcher = new EventDispatcher(meta, region, log, () => deliveries.poke());
  let schedulers: { stop(): Promise<void> }[] = [];

  return {
    region,
    domain,
    identity,
    oci,
    ecr: createEcrDoor(identity, OPERATIONS, makeContext, log),
    events: createEventsDoor(identity, domain.eventbridge, log),
    kms: createKmsDoor({ identity, kms: domain.kms, region, log }),
    cloudtrail: createCloudTrailDoor({ identity, trail, log }),
    observers: [auditObserver(trail, region), usageObserver(usageMeter)],
    async start() {
      worker.start(jobs);
      deliveries.start();
      dispatcher.start();
      schedulers = [
        startLifecycleScheduler(jobs, config.lifecycleIntervalSeconds, log),
        startGcScheduler(jobs, config.gcIntervalSeconds, log),
        startAuditPruneScheduler(jobs, log),
        startUsageSampler(jobs, config.usage.sampleIntervalSeconds, log),
        await startPlaintextMigration(meta, jobs, log),
      ];
    },
    async close() {
      await Promise.all(schedulers.map((s) => s.stop()));
      await dispatcher.stop();
      await Promise.all([worker.stop(), deliveries.stop()]);
      await trail.close();
      await usageMeter.close();
      await domain.close();
    },
  };
}
