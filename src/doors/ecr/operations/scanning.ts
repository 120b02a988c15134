import { createHash } from 'node:crypto';
import type { ImageScanRow } from '../../../store/meta/scan-store.js';
import type { Manifest, Repository } from '../../../domain/registry/model.js';
import type { RegistryScanningConfiguration, ScanningRule } from '../../../domain/scanning/configuration.js';
import { isScanError, type ScanErrorKind } from '../../../domain/scanning/errors.js';
import type { EnhancedFindingFacts } from '../../../domain/scanning/findings.js';
import { page } from '../../../domain/registry/paging.js';
import { isRegistryError } from '../../../domain/registry/errors.js';
import { EcrError } from '../errors.js';
import { imageNotFound, parseImageIds, type ImageId } from '../image-ids.js';
import type { EcrContext, EcrInput, EcrOperation, EcrOperations } from '../operation.js';
import { ACCOUNT_RESOURCE, authorizedRepository, epochSeconds, repositoryArn } from '../repositories.js';
import {
  checkRegistryId,
  checkRepositoryName,
  optionalEnum,
  optionalInteger,
  optionalList,
  optionalObject,
  optionalString,
  parameterError,
  repositoryName,
  requiredEnum,
  requiredList,
  stringList,
} from '../validate.js';

const SCAN_TYPES = ['BASIC', 'ENHANCED'] as const;
const FREQUENCIES = ['SCAN_ON_PUSH', 'CONTINUOUS_SCAN', 'MANUAL'] as const;
const FILTER_PATTERN = /^[a-z0-9*](?:[._\-/a-z0-9*]?[a-z0-9*]+)*$/;

/** The scanning domain's errors as ECR's exceptions. */
const SCAN_EXCEPTIONS: Record<ScanErrorKind, string> = {
  ScanNotFound: 'ScanNotFoundException',
  LimitExceeded: 'LimitExceededException',
  UnsupportedImageType: 'UnsupportedImageTypeException',
  ImageNotFound: 'ImageNotFoundException',
  InvalidLayer: 'ValidationException',
  InvalidRecord: 'ValidationException',
  InvalidParameter: 'InvalidParameterException',
  Validation: 'ValidationException',
};

function rendered(op: EcrOperation): EcrOperation {
  return async (input, ctx) => {
    try {
      return await op(input, ctx);
    } catch (e) {
      if (isScanError(e)) throw new EcrError(SCAN_EXCEPTIONS[e.kind], e.message);
      throw e;
    }
  };
}

function imageIdOf(input: EcrInput): ImageId {
  const raw = optionalObject(input, 'imageId');
  if (!raw) throw parameterError('imageId', 'must not be null');
  return parseImageIds([raw], 'imageId')[0]!;
}

/** The image an imageId names, or ECR's error for it. */
async function resolveImage(ctx: EcrContext, repo: Repository, id: ImageId): Promise<Manifest> {
  const found = await ctx.registry.images.resolve(repo, id);
  if ('manifest' in found) return found.manifest;
  if (found.failure.failureCode === 'ImageNotFound') throw imageNotFound(repo, id);
  throw new EcrError('InvalidParameterException', found.failure.failureReason);
}

function imageIdShape(id: ImageId, manifest: Manifest): Record<string, string> {
  return { imageDigest: manifest.digest, ...(id.imageTag !== undefined ? { imageTag: id.imageTag } : {}) };
}

/** Status as ECR reports it: a queued basic scan is IN_PROGRESS; a finished enhanced scan is ACTIVE. */
export function statusShape(scan: ImageScanRow): { status: string; description?: string } {
  let status: string = scan.status;
  if (scan.scanType === 'BASIC' && status === 'PENDING') status = 'IN_PROGRESS';
  if (scan.scanType === 'ENHANCED' && status === 'COMPLETE') status = 'ACTIVE';
  return scan.description ? { status, description: scan.description } : { status };
}

/** DescribeImages' summary of a scan: when it completed, how fresh the advisories were, the counts. */
export function findingsSummary(scan: ImageScanRow): Record<string, unknown> | undefined {
  if (scan.status !== 'COMPLETE' || !scan.counts) return undefined;
  return {
    imageScanCompletedAt: epochSeconds(scan.completedAt ?? scan.requestedAt),
    ...(scan.vulnSourceUpdatedAt !== null ? { vulnerabilitySourceUpdatedAt: epochSeconds(scan.vulnSourceUpdatedAt) } : {}),
    findingSeverityCounts: scan.counts,
  };
}

async function startImageScan(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const id = imageIdOf(input);
  const repo = await authorizedRepository(ctx, 'ecr:StartImageScan', name);
  const manifest = await resolveImage(ctx, repo, id);
  const scan = await ctx.scanning.startScan(repo, manifest);
  return { registryId: repo.registryId, repositoryName: repo.name, imageId: imageIdShape(id, manifest), imageScanStatus: statusShape(scan) };
}

function enhancedShape(ctx: EcrContext, repo: Repository, scan: ImageScanRow, tags: string[], f: EnhancedFindingFacts): Record<string, unknown> {
  const observed = epochSeconds(scan.completedAt ?? scan.requestedAt);
  const hash = createHash('sha256').update(`${repo.id}\0${scan.digest}\0${f.recordId}\0${f.vulnerabilityId}\0${f.package.name}\0${f.package.filePath}`).digest('hex').slice(0, 32);
  const cvss = f.cvss.map((c) => ({ baseScore: c.baseScore, scoringVector: c.scoringVector, source: 'OSV', version: c.version }));
  const fixed = f.package.fixedInVersion;
  return {
    awsAccountId: repo.registryId,
    description: f.description,
    findingArn: `arn:aws:inspector2:${ctx.region}:${repo.registryId}:finding/${hash}`,
    firstObservedAt: observed,
    lastObservedAt: observed,
    updatedAt: observed,
    packageVulnerabilityDetails: {
      cvss,
      referenceUrls: f.referenceUrls,
      relatedVulnerabilities: f.relatedVulnerabilities,
      source: 'OSV',
      ...(f.sourceUrl ? { sourceUrl: f.sourceUrl } : {}),
      ...(f.vendorCreatedAt ? { vendorCreatedAt: epochSeconds(Date.parse(f.vendorCreatedAt)) } : {}),
      vendorSeverity: f.severity,
      ...(f.vendorUpdatedAt ? { vendorUpdatedAt: epochSeconds(Date.parse(f.vendorUpdatedAt)) } : {}),
      vulnerabilityId: f.vulnerabilityId,
      vulnerablePackages: [f.package],
    },
    remediation: { recommendation: { text: fixed ? `Upgrade ${f.package.name} to ${fixed} or later.` : 'None Provided' } },
    resources: [
      {
        details: { awsEcrContainerImage: { imageHash: scan.digest, imageTags: tags, registry: repo.registryId, repositoryName: repo.name } },
        id: `${repositoryArn(ctx, repo.name, repo.registryId)}/${scan.digest}`,
        type: 'AWS_ECR_CONTAINER_IMAGE',
      },
    ],
    ...(f.score !== undefined ? { score: f.score } : {}),
    ...(cvss[0] ? { scoreDetails: { cvss: { adjustments: [], score: cvss[0].baseScore, scoreSource: 'OSV', scoringVector: cvss[0].scoringVector, version: cvss[0].version } } } : {}),
    severity: f.severity,
    status: 'ACTIVE',
    title: f.title,
    type: 'PACKAGE_VULNERABILITY',
    fixAvailable: fixed ? 'YES' : 'NO',
    exploitAvailable: 'NO',
  };
}

async function describeImageScanFindings(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const id = imageIdOf(input);
  const maxResults = optionalInteger(input, 'maxResults', 1, 1000);
  const nextToken = optionalString(input, 'nextToken');
  const repo = await authorizedRepository(ctx, 'ecr:DescribeImageScanFindings', name);
  const manifest = await resolveImage(ctx, repo, id);
  const scan = await ctx.scanning.scanOf(repo, manifest.digest);
  if (!scan) {
    throw new EcrError(
      'ScanNotFoundException',
      `Image scan does not exist for the image with '{imageDigest:'${manifest.digest}', imageTag:'${id.imageTag ?? 'null'}'}' in the repository with name '${repo.name}' in the registry with id '${repo.registryId}'`,
    );
  }
  const out: Record<string, unknown> = { registryId: repo.registryId, repositoryName: repo.name, imageId: imageIdShape(id, manifest), imageScanStatus: statusShape(scan) };
  const result = await ctx.scanning.findingsOf(scan);
  if (!result) return out;
  const scope = `scan:${repo.id}:${scan.digest}:${scan.completedAt}`;
  const findings: Record<string, unknown> = {
    imageScanCompletedAt: epochSeconds(scan.completedAt ?? scan.requestedAt),
    ...(scan.vulnSourceUpdatedAt !== null ? { vulnerabilitySourceUpdatedAt: epochSeconds(scan.vulnSourceUpdatedAt) } : {}),
    findingSeverityCounts: result.counts,
  };
  if (scan.scanType === 'ENHANCED') {
    const { items, nextToken: next } = page(result.enhancedFindings ?? [], nextToken, maxResults, scope);
    const tags = await ctx.registry.images.tagsOf(repo, scan.digest);
    findings.enhancedFindings = items.map((f) => enhancedShape(ctx, repo, scan, tags, f));
    if (next) out.nextToken = next;
  } else {
    const { items, nextToken: next } = page(result.findings, nextToken, maxResults, scope);
    findings.findings = items;
    if (next) out.nextToken = next;
  }
  out.imageScanFindings = findings;
  return out;
}

function parseRules(input: EcrInput): ScanningRule[] {
  const raw = optionalList(input, 'rules', 0, 2) ?? [];
  return raw.map((r, i) => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new EcrError('SerializationException', `Expected an object for member 'rules.${i + 1}'`);
    const rule = r as EcrInput;
    const scanFrequency = requiredEnum(rule, 'scanFrequency', FREQUENCIES);
    const filters = requiredList(rule, 'repositoryFilters', 0, 100).map((f, j) => {
      const field = `rules.${i + 1}.member.repositoryFilters.${j + 1}.member`;
      if (typeof f !== 'object' || f === null || Array.isArray(f)) throw new EcrError('SerializationException', `Expected an object for member '${field}'`);
      const filterType = requiredEnum(f as EcrInput, 'filterType', ['WILDCARD'] as const);
      const filter = (f as EcrInput).filter;
      if (typeof filter !== 'string' || filter.length < 1 || filter.length > 255 || !FILTER_PATTERN.test(filter)) {
        throw parameterError(`${field}.filter`, `must satisfy regular expression '${FILTER_PATTERN.source}'`);
      }
      return { filter, filterType };
    });
    return { scanFrequency, repositoryFilters: filters };
  });
}

function configurationShape(config: RegistryScanningConfiguration) {
  return { scanType: config.scanType, rules: config.rules };
}

async function getRegistryScanningConfiguration(input: EcrInput, ctx: EcrContext) {
  await ctx.authorize('ecr:GetRegistryScanningConfiguration', ACCOUNT_RESOURCE);
  return { registryId: ctx.registryId, scanningConfiguration: configurationShape(await ctx.scanning.configuration(ctx.registryId)) };
}

async function putRegistryScanningConfiguration(input: EcrInput, ctx: EcrContext) {
  const scanType = optionalEnum(input, 'scanType', SCAN_TYPES) ?? 'BASIC';
  const rules = parseRules(input);
  await ctx.authorize('ecr:PutRegistryScanningConfiguration', ACCOUNT_RESOURCE);
  const stored = await ctx.scanning.putConfiguration(ctx.registryId, { scanType, rules });
  return { registryScanningConfiguration: configurationShape(stored) };
}

async function batchGetRepositoryScanningConfiguration(input: EcrInput, ctx: EcrContext) {
  const names = stringList(input, 'repositoryNames', 1, 25, true)!;
  const scanningConfigurations: Record<string, unknown>[] = [];
  const failures: Record<string, unknown>[] = [];
  for (const name of names) {
    checkRepositoryName(name, 'repositoryNames');
    try {
      const repo = await authorizedRepository(ctx, 'ecr:BatchGetRepositoryScanningConfiguration', name);
      const effective = await ctx.scanning.repositoryScanning(repo);
      scanningConfigurations.push({ repositoryArn: repositoryArn(ctx, repo.name, repo.registryId), repositoryName: repo.name, ...effective });
    } catch (e) {
      if (!isRegistryError(e, 'RepositoryNotFound')) throw e;
      failures.push({ repositoryName: name, failureCode: 'REPOSITORY_NOT_FOUND', failureReason: 'REPOSITORY_NOT_FOUND' });
    }
  }
  return { scanningConfigurations, failures };
}

export const SCANNING_OPERATIONS: EcrOperations = {
  StartImageScan: rendered(startImageScan),
  DescribeImageScanFindings: rendered(describeImageScanFindings),
  GetRegistryScanningConfiguration: rendered(getRegistryScanningConfiguration),
  PutRegistryScanningConfiguration: rendered(putRegistryScanningConfiguration),
  BatchGetRepositoryScanningConfiguration: rendered(batchGetRepositoryScanningConfiguration),
};
