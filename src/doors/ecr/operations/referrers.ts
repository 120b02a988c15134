import { isValidDigest } from '../../../domain/registry/digest.js';
import { page } from '../../../domain/registry/paging.js';
import type { EcrContext, EcrInput, EcrOperations } from '../operation.js';
import { authorizedRepository } from '../repositories.js';
import { checkRegistryId, optionalEnum, optionalInteger, optionalObject, optionalString, parameterError, repositoryName, requiredObject, requiredString, stringList } from '../validate.js';

const ARTIFACT_STATUS_FILTER = ['ACTIVE', 'ARCHIVED', 'ACTIVATING', 'ANY'] as const;
const DEFAULT_PAGE = 20;

/** ListImageReferrers: the OCI referrers of a subject digest, as the /v2 referrers API lists them. */
async function listImageReferrers(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const subject = requiredString(requiredObject(input, 'subjectId'), 'imageDigest');
  if (!isValidDigest(subject)) throw parameterError('subjectId.imageDigest', "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'");
  const filter = optionalObject(input, 'filter') ?? {};
  const artifactTypes = stringList(filter, 'artifactTypes', 0, 5, false);
  artifactTypes?.forEach((t, i) => {
    if (t.length < 1 || t.length > 255) throw parameterError(`filter.artifactTypes.${i + 1}`, 'Member must have length between 1 and 255');
  });
  const status = optionalEnum(filter, 'artifactStatus', ARTIFACT_STATUS_FILTER) ?? 'ACTIVE';
  const maxResults = optionalInteger(input, 'maxResults', 1, 50);
  const nextToken = optionalString(input, 'nextToken');
  const repo = await authorizedRepository(ctx, 'ecr:BatchGetImage', name);

  // An artifact's status is its manifest's image status (ACTIVE, ARCHIVED, or ACTIVATING while it is restored).
  const referrers = (await ctx.registry.images.referrerManifests(repo, subject)).filter(
    (m) => (status === 'ANY' || m.imageStatus === status) && (!artifactTypes?.length || (m.artifactType !== null && artifactTypes.includes(m.artifactType))),
  );
  const { items, nextToken: next } = page(referrers, nextToken, maxResults ?? DEFAULT_PAGE, `referrers:${repo.id}:${subject}:${status}`);
  return {
    referrers: items.map((m) => ({
      digest: m.digest,
      mediaType: m.mediaType,
      ...(m.artifactType ? { artifactType: m.artifactType } : {}),
      size: m.size,
      ...(m.annotations && Object.keys(m.annotations).length > 0 ? { annotations: m.annotations } : {}),
      artifactStatus: m.imageStatus,
    })),
    ...(next ? { nextToken: next } : {}),
  };
}

export const REFERRER_OPERATIONS: EcrOperations = {
  ListImageReferrers: listImageReferrers,
};
