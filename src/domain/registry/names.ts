import { RegistryError } from './errors.js';

/**
 * Repository names, tags and ARNs: the one place that knows their grammar. Names follow ECR's
 * CreateRepository constraint on every door, so /v2 and the API agree on what exists.
 */
export const REPOSITORY_NAME_PATTERN = '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*';
const NAME = new RegExp(`^${REPOSITORY_NAME_PATTERN}$`);
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const REPOSITORY_ARN = /^arn:(aws[a-z-]*):ecr:([a-z0-9-]*):(\d{12}):repository\/(.+)$/;
const ARN_ACCOUNT = /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/;

export const MIN_NAME_LENGTH = 2;
export const MAX_NAME_LENGTH = 256;

export interface RepoRef {
  registryId: string;
  name: string;
}

export function isValidRepositoryName(name: string): boolean {
  return name.length >= MIN_NAME_LENGTH && name.length <= MAX_NAME_LENGTH && NAME.test(name);
}

export function assertRepositoryName(name: string): void {
  if (!isValidRepositoryName(name)) {
    throw new RegistryError('InvalidRepositoryName', `invalid repository name: ${name.slice(0, 300)}`, { name: name.slice(0, 300) });
  }
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

export function assertTag(tag: string): void {
  if (!isValidTag(tag)) throw new RegistryError('InvalidTag', `invalid tag: ${tag.slice(0, 200)}`);
}

export function repositoryArn(region: string, ref: RepoRef): string {
  return `arn:aws:ecr:${region}:${ref.registryId}:repository/${ref.name}`;
}

export function parseRepositoryArn(arn: string): (RepoRef & { region: string }) | undefined {
  const m = REPOSITORY_ARN.exec(arn);
  return m ? { region: m[2]!, registryId: m[3]!, name: m[4]! } : undefined;
}

/** The account id of any ARN that names one. */
export function arnAccount(arn: string): string | undefined {
  return ARN_ACCOUNT.exec(arn)?.[1];
}

const PUBLIC_NAMESPACE_PREFIX = 'ecr-public:';

/** The registry id under which the account's public (ECR Public) repositories are kept. */
export function publicNamespace(accountId: string): string {
  return PUBLIC_NAMESPACE_PREFIX + accountId;
}

/** The account whose public namespace `registryId` is; undefined for a private registry id. */
export function publicNamespaceAccount(registryId: string): string | undefined {
  return registryId.startsWith(PUBLIC_NAMESPACE_PREFIX) ? registryId.slice(PUBLIC_NAMESPACE_PREFIX.length) : undefined;
}
