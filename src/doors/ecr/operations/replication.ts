import { EcrError } from '../errors.js';
import { findImage, requiredImageId } from '../one-image.js';
import type { EcrContext, EcrInput, EcrOperations } from '../operation.js';
import { ACCOUNT_RESOURCE, authorizedRepository } from '../repositories.js';
import {
  checkPattern,
  checkRegistryId,
  optionalEnum,
  optionalInteger,
  optionalList,
  optionalString,
  repositoryName,
  requiredEnum,
  requiredList,
  requiredObject,
  requiredString,
} from '../validate.js';

// Constraints from botocore's ECR model (ReplicationDestination, RepositoryFilter).
const REGION_PATTERN = '[0-9a-z-]{2,25}';
const REGISTRY_ID_PATTERN = '[0-9]{12}';
const FILTER_PATTERN = '^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$';

/**
 * Replication is not built yet: a configuration with rules, or a backfill, would be accepted and
 * never carried out, so ECR's ValidationException refuses it instead.
 */
function replicationNotAvailable(): EcrError {
  return new EcrError('ValidationException', 'Replication is not available in this registry: no replication rule or backfill can be configured');
}

function object(v: unknown, field: string): EcrInput {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new EcrError('SerializationException', `Expected an object for member '${field}'`);
  return v as EcrInput;
}

function destination(raw: EcrInput, field: string): { region: string; registryId: string } {
  const region = checkPattern(requiredString(raw, 'region', { min: 2, max: 25 }), `${field}.region`, REGION_PATTERN);
  const registryId = checkPattern(requiredString(raw, 'registryId'), `${field}.registryId`, REGISTRY_ID_PATTERN);
  return { region, registryId };
}

/** Checks a ReplicationConfiguration against the model; returns how many rules it has. */
function replicationRules(input: EcrInput): number {
  const config = requiredObject(input, 'replicationConfiguration');
  const rules = requiredList(config, 'rules', 0, 10);
  rules.forEach((raw, i) => {
    const field = `replicationConfiguration.rules.${i + 1}`;
    const rule = object(raw, field);
    requiredList(rule, 'destinations', 0, 100).forEach((d, j) => destination(object(d, `${field}.destinations.${j + 1}`), `${field}.destinations.${j + 1}`));
    optionalList(rule, 'repositoryFilters', 1, 100)?.forEach((f, j) => {
      const where = `${field}.repositoryFilters.${j + 1}`;
      const filter = object(f, where);
      checkPattern(requiredString(filter, 'filter', { min: 2, max: 256 }), `${where}.filter`, FILTER_PATTERN);
      requiredEnum(filter, 'filterType', ['PREFIX_MATCH'] as const);
    });
  });
  return rules.length;
}

// PutReplicationConfiguration has no registryId member: it configures the caller's registry.
async function putReplicationConfiguration(input: EcrInput, ctx: EcrContext) {
  const ruleCount = replicationRules(input);
  await ctx.authorize('ecr:PutReplicationConfiguration', ACCOUNT_RESOURCE);
  // No rules is what the registry has already (DescribeRegistry shows it): nothing to store.
  if (ruleCount > 0) throw replicationNotAvailable();
  return { replicationConfiguration: { rules: [] } };
}

async function describeImageReplicationStatus(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const id = requiredImageId(input);
  const repo = await authorizedRepository(ctx, 'ecr:DescribeImageReplicationStatus', name);
  const manifest = await findImage(ctx, repo, id);
  // No replication rule exists, so no image is replicated anywhere.
  return { repositoryName: repo.name, imageId: { ...id, imageDigest: manifest.digest }, replicationStatuses: [] };
}

async function startReplicationBackfill(input: EcrInput, ctx: EcrContext): Promise<never> {
  checkRegistryId(input);
  destination(requiredObject(input, 'destination'), 'destination');
  await ctx.authorize('ecr:StartReplicationBackfill', ACCOUNT_RESOURCE);
  throw replicationNotAvailable();
}

function backfillNotFound(id: string, registryId: string): EcrError {
  return new EcrError('ReplicationBackfillNotFoundException', `The replication backfill with id '${id}' does not exist in the registry with id '${registryId}'`);
}

async function stopReplicationBackfill(input: EcrInput, ctx: EcrContext): Promise<never> {
  checkRegistryId(input);
  const id = requiredString(input, 'replicationBackfillId', { min: 1 });
  await ctx.authorize('ecr:StopReplicationBackfill', ACCOUNT_RESOURCE);
  throw backfillNotFound(id, ctx.registryId);
}

async function describeReplicationBackfillResults(input: EcrInput, ctx: EcrContext): Promise<never> {
  checkRegistryId(input);
  const id = requiredString(input, 'replicationBackfillId', { min: 1 });
  optionalEnum(input, 'resultStatusFilter', ['COMPLETE', 'FAILED'] as const);
  optionalInteger(input, 'maxResults', 1, 100);
  optionalString(input, 'nextToken');
  await ctx.authorize('ecr:DescribeReplicationBackfillResults', ACCOUNT_RESOURCE);
  throw backfillNotFound(id, ctx.registryId);
}

async function listReplicationBackfills(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  optionalInteger(input, 'maxResults', 1, 50);
  optionalString(input, 'nextToken');
  await ctx.authorize('ecr:ListReplicationBackfills', ACCOUNT_RESOURCE);
  // No backfill can be started, so there is none to list.
  return { backfills: [] };
}

/** Replication: not built yet; each operation answers what is true of a registry without it. */
export const REPLICATION_OPERATIONS: EcrOperations = {
  PutReplicationConfiguration: putReplicationConfiguration,
  DescribeImageReplicationStatus: describeImageReplicationStatus,
  StartReplicationBackfill: startReplicationBackfill,
  StopReplicationBackfill: stopReplicationBackfill,
  DescribeReplicationBackfillResults: describeReplicationBackfillResults,
  ListReplicationBackfills: listReplicationBackfills,
};
