import type { SigningConfiguration, SigningRule } from '../../../domain/registry/signing.js';
import { EcrError } from '../errors.js';
import { findImage, requiredImageId } from '../one-image.js';
import type { EcrContext, EcrInput, EcrOperations } from '../operation.js';
import { ACCOUNT_RESOURCE, authorizedRepository } from '../repositories.js';
import { checkPattern, checkRegistryId, optionalList, repositoryName, requiredEnum, requiredList, requiredObject, requiredString } from '../validate.js';

const SIGNING_PROFILE_ARN_PATTERN = '^arn:aws(-[a-z]+)*:signer:[a-z0-9-]+:[0-9]{12}:\\/signing-profiles\\/[a-zA-Z0-9_]{2,}$';
const FILTER_PATTERN = '^(?:[a-z0-9*]+(?:[._-][a-z0-9*]+)*/)*[a-z0-9*]+(?:[._-][a-z0-9*]+)*$';

function object(v: unknown, field: string): EcrInput {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new EcrError('SerializationException', `Expected an object for member '${field}'`);
  return v as EcrInput;
}

/** A SigningConfiguration, checked against the model. */
function signingConfiguration(input: EcrInput): SigningConfiguration {
  const config = requiredObject(input, 'signingConfiguration');
  const rules = requiredList(config, 'rules', 0, 10).map((raw, i): SigningRule => {
    const field = `signingConfiguration.rules.${i + 1}`;
    const rule = object(raw, field);
    const signingProfileArn = checkPattern(requiredString(rule, 'signingProfileArn', { max: 200 }), `${field}.signingProfileArn`, SIGNING_PROFILE_ARN_PATTERN);
    const filters = optionalList(rule, 'repositoryFilters', 1, 100)?.map((f, j) => {
      const where = `${field}.repositoryFilters.${j + 1}`;
      const filter = object(f, where);
      return {
        filter: checkPattern(requiredString(filter, 'filter', { min: 1, max: 256 }), `${where}.filter`, FILTER_PATTERN),
        filterType: requiredEnum(filter, 'filterType', ['WILDCARD_MATCH'] as const),
      };
    });
    return filters ? { signingProfileArn, repositoryFilters: filters } : { signingProfileArn };
  });
  return { rules };
}

// The configuration operations have no registryId member: they act on the caller's registry.
async function putSigningConfiguration(input: EcrInput, ctx: EcrContext) {
  const config = signingConfiguration(input);
  await ctx.authorize('ecr:PutSigningConfiguration', ACCOUNT_RESOURCE);
  return { signingConfiguration: await ctx.registry.signing.put(ctx.principal.account, config) };
}

async function getSigningConfiguration(_input: EcrInput, ctx: EcrContext) {
  await ctx.authorize('ecr:GetSigningConfiguration', ACCOUNT_RESOURCE);
  const registryId = ctx.principal.account;
  return { registryId, signingConfiguration: await ctx.registry.signing.get(registryId) };
}

async function deleteSigningConfiguration(_input: EcrInput, ctx: EcrContext) {
  await ctx.authorize('ecr:DeleteSigningConfiguration', ACCOUNT_RESOURCE);
  const registryId = ctx.principal.account;
  return { registryId, signingConfiguration: await ctx.registry.signing.delete(registryId) };
}

async function describeImageSigningStatus(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const id = requiredImageId(input);
  const repo = await authorizedRepository(ctx, 'ecr:DescribeImageSigningStatus', name);
  const manifest = await findImage(ctx, repo, id);
  return {
    repositoryName: repo.name,
    imageId: { ...id, imageDigest: manifest.digest },
    registryId: repo.registryId,
    // A status exists per signing rule that matched the image; berth stores no signing rules
    // (PutSigningConfiguration refuses them), so no image has one.
    signingStatuses: [],
  };
}

/** Managed signing, answered honestly: berth signs nothing and says so. */
export const SIGNING_OPERATIONS: EcrOperations = {
  PutSigningConfiguration: putSigningConfiguration,
  GetSigningConfiguration: getSigningConfiguration,
  DeleteSigningConfiguration: deleteSigningConfiguration,
  DescribeImageSigningStatus: describeImageSigningStatus,
};
