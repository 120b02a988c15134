// ECR's lifecycle evaluator: every rule selects and marks images on its own, then the rules are
// applied in ascending rulePriority. An image whose tags match a rule's selection belongs to that
// rule: lower-priority rules still count it, but can never expire or archive it. A rule only ever
// sees images of its storage class (standard, or archive for sinceImageTransitioned).

import type { LifecyclePolicy, LifecycleRule, LifecycleSelection, StorageClass } from './policy.js';

export interface LifecycleImage {
  digest: string;
  tags: string[];
  pushedAt: Date;
  lastPulledAt?: Date;
  /** `standard` unless the image is archived. */
  storageClass?: StorageClass;
  /** When the image last went into the archive, and last came back from it. */
  lastArchivedAt?: Date;
  lastActivatedAt?: Date;
}

export interface LifecycleDecision {
  digest: string;
  tags: string[];
  pushedAt: Date;
  rulePriority: number;
  /** EXPIRE deletes the image; TRANSITION moves it to the archive storage class. */
  action: 'EXPIRE' | 'TRANSITION';
  /** The storage class the image is in now. */
  storageClass: StorageClass;
}

/** One entry of GetLifecyclePolicyPreview's `previewResults`. */
export interface LifecyclePolicyPreviewResult {
  imageTags: string[];
  imageDigest: string;
  imagePushedAt: number;
  action: { type: 'EXPIRE' } | { type: 'TRANSITION'; targetStorageClass: 'ARCHIVE' };
  appliedRulePriority: number;
  storageClass: 'STANDARD' | 'ARCHIVE';
}

export interface LifecyclePolicyPreviewSummary {
  expiringImageTotalCount: number;
  /** Only present when at least one image would be transitioned. */
  transitioningImageTotalCounts?: Array<{ targetStorageClass: 'ARCHIVE'; imageTotalCount: number }>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Whole-string glob match where `*` stands for any run of characters, including none. */
export function matchesTagPattern(pattern: string, tag: string): boolean {
  const parts = pattern.split('*');
  const first = parts[0] ?? '';
  const last = parts[parts.length - 1] ?? '';
  if (parts.length === 1) return tag === pattern;
  if (!tag.startsWith(first) || tag.length < first.length + last.length || !tag.endsWith(last)) return false;
  // Greedy left-to-right placement of the middle literals is optimal for `*`-only globs.
  let position = first.length;
  const end = tag.length - last.length;
  for (const part of parts.slice(1, -1)) {
    const found = tag.indexOf(part, position);
    if (found === -1 || found + part.length > end) return false;
    position = found + part.length;
  }
  return true;
}

/** Whether the rule's tag selection covers the image (prefix and pattern lists are ANDed). */
export function selectionMatches(selection: LifecycleSelection, image: LifecycleImage): boolean {
  switch (selection.tagStatus) {
    case 'any':
      return true;
    case 'untagged':
      return image.tags.length === 0;
    case 'tagged': {
      if (image.tags.length === 0) return false;
      const prefixes = selection.tagPrefixList ?? [];
      const patterns = selection.tagPatternList ?? [];
      return (
        prefixes.every((prefix) => image.tags.some((tag) => tag.startsWith(prefix))) &&
        patterns.every((pattern) => image.tags.some((tag) => matchesTagPattern(pattern, tag)))
      );
    }
  }
}

/** When the image counts as new for imageCountMoreThan: its push, or its last restore from the archive. */
function countedFrom(image: LifecycleImage): number {
  return (image.lastActivatedAt ?? image.pushedAt).getTime();
}

/** Newest first; equal times fall back to digest order so results never depend on input order. */
function newestFirst(a: LifecycleImage, b: LifecycleImage): number {
  return countedFrom(b) - countedFrom(a) || compareStrings(a.digest, b.digest);
}

/**
 * The time sinceImagePulled measures from: the last recorded pull; the push for an image never
 * pulled; the restore for an image restored and not pulled since.
 */
function lastUsed(image: LifecycleImage): Date {
  const { lastPulledAt, lastActivatedAt, pushedAt } = image;
  if (lastActivatedAt && (!lastPulledAt || lastPulledAt.getTime() < lastActivatedAt.getTime())) return lastActivatedAt;
  return lastPulledAt ?? pushedAt;
}

function storageClassOf(image: LifecycleImage): StorageClass {
  return image.storageClass ?? 'standard';
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The candidates this rule would expire if nothing else claimed them. */
function markedByRule(rule: LifecycleRule, candidates: LifecycleImage[], now: Date): LifecycleImage[] {
  const { countType, countNumber } = rule.selection;
  if (countType === 'imageCountMoreThan') {
    return [...candidates].sort(newestFirst).slice(countNumber);
  }
  const cutoff = now.getTime() - countNumber * DAY_MS;
  return candidates.filter((image) => {
    const since =
      countType === 'sinceImagePulled' ? lastUsed(image) : countType === 'sinceImageTransitioned' ? image.lastArchivedAt : image.pushedAt;
    return since !== undefined && since.getTime() < cutoff;
  });
}

/**
 * The images the policy expires, oldest first. `policy.rules` must be in ascending rulePriority
 * (as parseLifecyclePolicy returns them); images are identified by digest.
 */
export function evaluateLifecycle(policy: LifecyclePolicy, images: LifecycleImage[], now: Date): LifecycleDecision[] {
  const rules = [...policy.rules].sort((a, b) => a.rulePriority - b.rulePriority);
  const claimed = new Set<string>();
  const decisions: LifecycleDecision[] = [];

  for (const rule of rules) {
    const candidates = images.filter((image) => storageClassOf(image) === rule.selection.storageClass && selectionMatches(rule.selection, image));
    for (const image of markedByRule(rule, candidates, now)) {
      if (claimed.has(image.digest)) continue;
      claimed.add(image.digest);
      decisions.push({
        digest: image.digest,
        tags: [...image.tags],
        pushedAt: image.pushedAt,
        rulePriority: rule.rulePriority,
        action: rule.action.type === 'transition' ? 'TRANSITION' : 'EXPIRE',
        storageClass: storageClassOf(image),
      });
    }
    for (const image of candidates) claimed.add(image.digest);
  }

  return decisions.sort(
    (a, b) => a.pushedAt.getTime() - b.pushedAt.getTime() || compareStrings(a.digest, b.digest),
  );
}

/** Maps decisions to GetLifecyclePolicyPreview's `previewResults` and `summary`. */
export function previewResult(decisions: LifecycleDecision[]): {
  previewResults: LifecyclePolicyPreviewResult[];
  summary: LifecyclePolicyPreviewSummary;
} {
  return {
    previewResults: decisions.map((decision) => ({
      imageTags: [...decision.tags],
      imageDigest: decision.digest,
      imagePushedAt: decision.pushedAt.getTime() / 1000,
      action: decision.action === 'TRANSITION' ? { type: 'TRANSITION', targetStorageClass: 'ARCHIVE' } : { type: 'EXPIRE' },
      appliedRulePriority: decision.rulePriority,
      storageClass: decision.storageClass === 'archive' ? 'ARCHIVE' : 'STANDARD',
    })),
    summary: summarizePreview(decisions.map((d) => ({ action: { type: d.action } }))),
  };
}

/** The preview's `summary` of some results: how many expire, and how many go to the archive. */
export function summarizePreview(results: Array<{ action: { type: string } }>): LifecyclePolicyPreviewSummary {
  const transitioning = results.filter((r) => r.action.type === 'TRANSITION').length;
  return {
    expiringImageTotalCount: results.length - transitioning,
    ...(transitioning > 0 ? { transitioningImageTotalCounts: [{ targetStorageClass: 'ARCHIVE' as const, imageTotalCount: transitioning }] } : {}),
  };
}
