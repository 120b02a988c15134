import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { sendEmpty } from '../http/io.js';
import type { Registry } from '../../domain/registry/registry.js';
import type { OciAccess } from './access.js';
import { cancelUpload, deleteBlob, finishUpload, headOrGetBlob, patchUpload, startUpload, uploadStatus } from './blobs.js';
import { API_VERSION_HEADER, type OciContext } from './context.js';
import { asRegistryError, isRegistryError } from '../../domain/registry/errors.js';
import { addressedRepository, type AddressedRepository } from './addressed-repository.js';
import { OciError, sendOciError, toOciError } from './errors.js';
import { catalog, deleteManifest, headOrGetManifest, listTags, putManifest, referrers } from './manifests.js';
import { matchRoute, type RouteName } from './routes.js';
import { requestRecord } from '../http/request-record.js';
import { ociAction, ociAuditReport } from './observe.js';

type Handler = (ctx: OciContext) => Promise<void>;

const HANDLERS: Record<RouteName, Partial<Record<string, Handler>>> = {
  base: {
    GET: async (ctx) => sendEmpty(ctx.res, 200, { ...API_VERSION_HEADER, 'Content-Type': 'application/json' }),
    HEAD: async (ctx) => sendEmpty(ctx.res, 200, { ...API_VERSION_HEADER }),
  },
  catalog: { GET: catalog },
  tags: { GET: (ctx) => listTags(ctx, false), HEAD: (ctx) => listTags(ctx, true) },
  manifest: {
    GET: (ctx) => headOrGetManifest(ctx, false),
    HEAD: (ctx) => headOrGetManifest(ctx, true),
    PUT: putManifest,
    DELETE: deleteManifest,
  },
  uploadStart: { POST: startUpload },
  upload: { GET: uploadStatus, PATCH: patchUpload, PUT: finishUpload, DELETE: cancelUpload },
  blob: { GET: (ctx) => headOrGetBlob(ctx, false), HEAD: (ctx) => headOrGetBlob(ctx, true), DELETE: deleteBlob },
  referrers: { GET: referrers },
};

/** The OCI Distribution door: routes /v2 requests to the domain and renders its errors. */
export function createOciDoor(registry: Registry, access: OciAccess, log: Logger) {
  return async function handleOci(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const head = req.method === 'HEAD';
    let addressed: AddressedRepository | undefined;
    const record = requestRecord(req);
    record.door = 'oci';
    try {
      if (hasDotSegment(req.url ?? '')) throw new OciError('NAME_INVALID', 'path must not contain dot segments');
      const match = matchRoute(url.pathname);
      if (!match) throw new OciError('NAME_INVALID', 'no such route', undefined, 404);
      const handler = HANDLERS[match.route][req.method ?? ''];
      if (!handler) {
        throw new OciError('UNSUPPORTED', `${req.method} is not supported here`, undefined, 405);
      }
      const method = req.method ?? '';
      record.action = ociAction(match.route, method, url);
      if (match.name) record.repository = match.name;
      const caller = await access.authenticate(req);
      record.audit = ociAuditReport(match.route, method, url, req.headers.accept, caller.registryId, match.name, match.ref);
      addressed = await addressedRepository(registry, caller, match.name);
      if (match.name) record.usedRepository = addressed.repo;
      await handler({ req, res, url, registry, access, caller, name: match.name, repo: addressed.repo, ref: match.ref });
    } catch (err) {
      const headers: Record<string, string> = {};
      const e = toOciError(err);
      // A public repository's registry is known to its clients by its alias, as on public.ecr.aws.
      if (addressed?.alias !== undefined) e.message = e.message.replaceAll(addressed.repo.registryId, addressed.alias);
      record.errorCode = e.code;
      record.errorMessage = e.message;
      // The trail names a refusal as the ECR API does, whatever the registry protocol answered.
      if (record.audit && (e.code === 'DENIED' || e.code === 'UNAUTHORIZED')) record.audit.errorCode = 'AccessDeniedException';
      if (e.code === 'UNAUTHORIZED') headers['WWW-Authenticate'] = access.challenge();
      if (asRegistryError(err)?.kind === 'StorageFull') log.warn({ method: req.method, path: url.pathname }, e.message);
      else if (e.code === 'UNKNOWN') log.error({ err, method: req.method, path: url.pathname }, 'unexpected error on /v2');
      if (isRegistryError(err, 'UploadTooLarge')) {
        // Refused before a byte was read: reading it all would be what the refusal avoids. (HTTP/2
        // has no Connection header: ending the response resets just that stream.)
        if (req.httpVersionMajor < 2) headers.Connection = 'close';
      } else if (!req.readableEnded) {
        // Leave no unread body behind on the connection.
        req.resume();
      }
      sendOciError(res, e, head, headers);
    }
  };
}

/** `.` or `..` path segments, plain or percent-encoded, which URL parsing would silently resolve. */
function hasDotSegment(rawUrl: string): boolean {
  const path = rawUrl.split('?')[0]!;
  return path.split('/').some((seg) => /^(?:\.|%2e){1,2}$/i.test(seg));
}
