import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import pino, { type Logger } from 'pino';
import type { BerthConfig } from './config.js';
import { CLOUDTRAIL_TARGET_PREFIX } from './doors/cloudtrail/door.js';
import { createEcrPublicDoor, isEcrPublicRequest } from './doors/ecr-public/door.js';
import { handleLayerDownload } from './doors/ecr/layer-download.js';
import { EVENTS_TARGET_PREFIX } from './doors/events/door.js';
import { guardConnections, serverTimeouts } from './doors/http/connections.js';
import { sendJson } from './doors/http/io.js';
import { BerthMetrics } from './doors/http/metrics.js';
import { metricsEndpoint, metricsToken } from './doors/http/metrics-endpoint.js';
import { observeRequests, observedServerOptions, requestRecord, stampRequestId, type RequestObserver } from './doors/http/request-record.js';
import { createRequestLog } from './doors/http/request-log.js';
import { serveTls, type TlsListener } from './doors/http/tls.js';
import { handleQueryApi } from './doors/iam/query-api.js';
import { KMS_TARGET_PREFIX } from './doors/kms/door.js';
import { createOciDoor } from './doors/oci/door.js';
import { createIdentityAccess } from './doors/oci/identity-access.js';
import { createTokenEndpoint, publicRegistryPath, TOKEN_PATH } from './doors/oci/public-registry.js';
import type { Registry } from './domain/registry/registry.js';
import { CachedStorageFigures, combineRegions } from './domain/stats/storage-figures.js';
import { peekCredential } from './iam/auth/sigv4.js';
import type { Identity } from './iam/identity.js';
import { startRegionService, type RegionService } from './region-service.js';
import { openRegionDomains, type Domain } from './wiring.js';

export interface Berth {
  server: Server | Http2SecureServer;
  config: BerthConfig;
  registry: Registry;
  identity: Identity;
  log: Logger;
  url: string;
  close(): Promise<void>;
}

/** What a listener serves besides the regions' registries: ECR Public's registry (BERTH_PUBLIC_LISTEN). */
const PUBLIC_REGISTRY = 'ecr-public';

/** The region whose listener a request arrived at. */
const ARRIVED_AT = Symbol('listenerRegion');
type ArrivedRequest = IncomingMessage & { [ARRIVED_AT]?: string };

/** The region in a registry host name such as `123456789012.dkr.ecr.eu-west-1.example.com`. */
const REGISTRY_HOST_REGION = /^\d{12}\.dkr\.ecr\.([a-z0-9-]+)\./;

interface Listener {
  region: string;
  host: string;
  port: number;
  server: Server | Http2SecureServer;
  tls?: TlsListener;
  url: string;
}

/**
 * berth on one port per served region: every port answers every door, the AWS APIs for the region
 * a request is signed for, and /v2 for the region whose port (or registry host name) it reached.
 * IAM, STS and ECR Public are global and answered by the home region.
 */
export async function startBerth(config: BerthConfig): Promise<Berth> {
  const log = pino({ level: config.logLevel, base: undefined });
  const scheme = config.tls ? 'https' : 'http';
  const domains = new Map<string, Domain>();
  let home: RegionService;
  const services = new Map<string, RegionService>();
  const metrics = new BerthMetrics();
  const listeners = new Map<string, Listener>();
  const urlOf = (region: string) => listeners.get(region)?.url ?? '';
  // A request reaching a region's own listener is answered with the host it used; one for that
  // region reaching another listener, with the region's own address.
  const baseUrl = (region: string) => (req?: IncomingMessage) => {
    if (region === config.region && config.publicUrl) return config.publicUrl;
    const arrived = req && (req as ArrivedRequest)[ARRIVED_AT] === region && req.headers.host;
    return arrived ? `${scheme}://${req.headers.host}` : urlOf(region);
  };
  try {
    for (const [region, domain] of await openRegionDomains(config, log)) domains.set(region, domain);
    const accountId = await domains.get(config.region)!.registry.accounts.ensureDefaultAccount(config.region);
    for (const [region, domain] of domains) {
      const service = await startRegionService({ config: { ...config, region }, domain, accountId, log, metrics, baseUrl: baseUrl(region), home: region === config.region });
      services.set(region, service);
    }
    home = services.get(config.region)!;
  } catch (e) {
    // A started region's service closes its domain; the others' domains are closed here.
    await Promise.all([...domains].map(([region, d]) => (services.get(region)?.close() ?? d.close()).catch(() => undefined)));
    throw e;
  }
  const { identity } = home;
  const { registry } = home.domain;
  let publicListener: Listener | undefined;
  const publicRegistryHost = () => publicListener && new URL(publicListener.url).host;
  const ecrPublic = createEcrPublicDoor({ identity, registry, baseUrl: baseUrl(config.region), publicRegistryHost }, log);
  // ECR Public's registry on its own address, as public.ecr.aws: token authentication, anonymous pulls.
  const publicOci = createOciDoor(
    registry,
    createIdentityAccess({
      identity,
      region: config.region,
      baseUrl: () => publicListener?.url ?? '',
      bearer: { realm: () => `${publicListener?.url ?? ''}${TOKEN_PATH}`, service: () => publicRegistryHost() ?? '' },
    }),
    log,
  );
  const tokenEndpoint = createTokenEndpoint(identity);
  const iamDoor = { identity, directory: home.domain.identities, log, onChange: () => services.forEach((s) => s.identity.resourcesChanged?.()) };

  const storageFigures = [...services].map(([region, service]) => ({ region, cached: new CachedStorageFigures(() => service.domain.stores.meta.stats) }));
  const scrape = metricsEndpoint({
    metrics,
    figures: async () => combineRegions(await Promise.all(storageFigures.map(async ({ region, cached }) => ({ region, figures: await cached.current() })))),
    token: await metricsToken({ dataDir: config.dataDir, token: config.metricsToken, public: config.metricsPublic }),
  });
  const requestLog = createRequestLog(config.logLevel);
  const regionObservers: RequestObserver = (record, figures) => {
    for (const observe of (services.get(record.region ?? '') ?? home).observers) observe(record, figures);
  };
  const observers = [requestLog.observer, metrics.observer, regionObservers];

  /** The region a signed API request is for; the home region answers one that names none it serves. */
  function signedFor(req: IncomingMessage): RegionService {
    const region = peekCredential(req.headers)?.region;
    return (region !== undefined && services.get(region)) || home;
  }

  /** The region whose registry a /v2 request reached: by registry host name, else by listener. */
  function registryFor(req: IncomingMessage, arrivedAt: string): RegionService {
    const named = REGISTRY_HOST_REGION.exec(req.headers.host ?? '')?.[1];
    return (named !== undefined && services.get(named)) || services.get(arrivedAt) || home;
  }

  async function route(req: IncomingMessage, res: ServerResponse, arrivedAt: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://berth');
    const record = requestRecord(req);
    if (arrivedAt === PUBLIC_REGISTRY && (url.pathname === TOKEN_PATH || url.pathname === `${TOKEN_PATH}/`)) return tokenEndpoint(req, res);
    if (arrivedAt === PUBLIC_REGISTRY && (url.pathname === '/v2' || url.pathname.startsWith('/v2/'))) {
      url.pathname = publicRegistryPath(url.pathname);
      req.url = url.pathname + url.search;
      return publicOci(req, res, url);
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    const regional = (pick: RegionService, handle: (service: RegionService) => Promise<void>) => {
      record.region = pick.region;
      return handle(pick);
    };
    if (url.pathname === '/v2' || url.pathname.startsWith('/v2/')) return regional(registryFor(req, arrivedAt), (s) => s.oci(req, res, url));
    const apiCall = url.pathname === '/' && req.method === 'POST';
    if (apiCall && target.startsWith(EVENTS_TARGET_PREFIX)) return regional(signedFor(req), (s) => s.events(req, res));
    if (isEcrPublicRequest(req, url)) return ecrPublic(req, res, url);
    if (apiCall && target.startsWith(CLOUDTRAIL_TARGET_PREFIX)) return regional(signedFor(req), (s) => s.cloudtrail(req, res));
    if (apiCall && target.startsWith(KMS_TARGET_PREFIX)) return regional(signedFor(req), (s) => s.kms(req, res));
    if (apiCall && target) return regional(signedFor(req), (s) => s.ecr(req, res));
    if (apiCall) return handleQueryApi(req, res, iamDoor);
    if (url.pathname === '/metrics') return scrape(req, res);
    if (url.pathname === '/healthz' || url.pathname === '/readyz') record.door = 'health';
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') {
      const [readiness, ...others] = await Promise.all([home, ...[...services.values()].filter((s) => s !== home)].map((s) => s.domain.registry.readiness(config.minFreeBytes)));
      const ready = readiness!.ready && others.every((r) => r.ready);
      return sendJson(res, ready ? 200 : 503, { status: ready ? 'ok' : 'not ready', ...readiness, ready });
    }
    if (url.pathname.startsWith('/layer-downloads/')) {
      const service = services.get(arrivedAt) ?? home;
      record.region = service.region;
      if (await handleLayerDownload(service.domain.registry, req, res, url)) return;
    }
    sendJson(res, 404, { message: 'not found' });
  }

  async function listen(region: string, host: string, port: number): Promise<Listener> {
    const handle = observeRequests((req, res) => {
      (req as ArrivedRequest)[ARRIVED_AT] = region;
      if (tls) stampRequestId(req, res);
      route(req, res, region).catch((err) => {
        log.error({ err }, 'unhandled request error');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    }, observers);
    const tls = config.tls ? await serveTls(config.tls, config.limits, handle, log) : undefined;
    const server = tls?.server ?? createServer({ ...serverTimeouts(config.limits), ...observedServerOptions }, handle);
    if (!tls) guardConnections(server, config.limits);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
    } catch (e) {
      await tls?.close();
      throw e;
    }
    const address = server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    const hostForUrl = host.includes(':') ? `[${host}]` : host;
    return { region, host, port: bound, server, tls, url: `${scheme}://${hostForUrl}:${bound}` };
  }

  async function stopListening(l: Listener): Promise<void> {
    if (l.tls) return l.tls.close();
    await new Promise<void>((resolve) => l.server.close(() => resolve()));
    (l.server as Server).closeAllConnections();
  }

  try {
    for (const r of config.regions) {
      const at = r.listen ?? { host: config.host, port: config.port };
      listeners.set(r.name, await listen(r.name, at.host, at.port));
    }
    if (config.publicListen) publicListener = await listen(PUBLIC_REGISTRY, config.publicListen.host, config.publicListen.port);
  } catch (e) {
    await Promise.all([...listeners.values(), ...(publicListener ? [publicListener] : [])].map(stopListening));
    await Promise.all([...services.values()].map((s) => s.close().catch(() => undefined)));
    throw e;
  }
  const main = listeners.get(config.region)!;
  await identity.afterListen?.(config.publicUrl ?? main.url);
  for (const service of services.values()) await service.start();

  return {
    server: main.server,
    config,
    registry,
    identity,
    log,
    url: main.url,
    async close() {
      await Promise.all([...listeners.values(), ...(publicListener ? [publicListener] : [])].map(stopListening));
      await Promise.all([...services.values()].map((s) => s.close()));
      await requestLog.drain();
    },
  };
}
