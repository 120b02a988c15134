import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RepoRef } from '../../domain/registry/names.js';
import type { Registry } from '../../domain/registry/registry.js';
import type { OciAccess, OciCaller } from './access.js';

/** Everything one /v2 request handler needs. */
export interface OciContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  registry: Registry;
  access: OciAccess;
  caller: OciCaller;
  /** Repository name from the path (validated by the domain). */
  name: string;
  /** The repository that name addresses (an ECR Public path names another account's namespace). */
  repo: RepoRef;
  /** The reference part of the path: tag, digest or upload id. */
  ref: string;
}

export const API_VERSION_HEADER = { 'Docker-Distribution-API-Version': 'registry/2.0' } as const;
