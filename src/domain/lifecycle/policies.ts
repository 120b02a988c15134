import { RegistryError } from '../registry/errors.js';
import type { Repository } from '../registry/model.js';
import type { Registry } from '../registry/registry.js';
import type { LifecycleStore, StoredPreview } from '../../store/meta/lifecycle-store.js';
import { previewResult, type LifecyclePolicyPreviewResult } from './evaluate.js';
import { planLifecycle } from './plan.js';
import { checkLifecyclePolicyTextLength, LifecyclePolicyValidationError, parseLifecyclePolicy, type LifecyclePolicy } from './policy.js';

export type Preview = StoredPreview<LifecyclePolicyPreviewResult>;

/** Lifecycle policies of repositories and their previews: the lifecycle feature over the domain. */
export class LifecyclePolicies {
  constructor(
    private readonly registry: Registry,
    private readonly store: LifecycleStore,
  ) {}

  async put(repo: Repository, text: string): Promise<void> {
    parse(text);
    await this.registry.repositories.changeSettings(repo, { lifecyclePolicyText: text });
  }

  get(repo: Repository): { text: string; lastEvaluatedAt?: number } {
    const text = repo.settings.lifecyclePolicyText;
    if (text === undefined) throw policyNotFound(repo);
    return { text, lastEvaluatedAt: repo.settings.lifecyclePolicyLastEvaluatedAt };
  }

  /** Removes the policy; returns what it was. */
  async delete(repo: Repository): Promise<{ text: string; lastEvaluatedAt?: number }> {
    let removed: { text: string; lastEvaluatedAt?: number } | undefined;
    await this.registry.repositories.updateSettings(repo, (s) => {
      if (s.lifecyclePolicyText !== undefined) removed = { text: s.lifecyclePolicyText, lastEvaluatedAt: s.lifecyclePolicyLastEvaluatedAt };
      return { lifecyclePolicyText: undefined, lifecyclePolicyLastEvaluatedAt: undefined };
    });
    if (!removed) throw policyNotFound(repo);
    return removed;
  }

  /**
   * Evaluates `draft` (or the stored policy) against the repository now. Evaluation is quick and
   * purely metadata, so it completes before returning; callers still see IN_PROGRESS first, as on ECR.
   */
  async startPreview(repo: Repository, draft: string | undefined): Promise<string> {
    const text = draft ?? repo.settings.lifecyclePolicyText;
    if (text === undefined) throw policyNotFound(repo);
    const policy = parse(text);
    const existing = await this.store.loadPreview(repo.id);
    if (existing?.status === 'IN_PROGRESS') {
      throw new RegistryError(
        'LifecyclePreviewInProgress',
        `Lifecycle policy preview for the repository with name '${repo.name}' in the registry with id '${repo.registryId}' is in progress`,
      );
    }
    const startedAt = Date.now();
    await this.store.savePreview(repo.id, { policyText: text, status: 'IN_PROGRESS', results: [], startedAt, completedAt: null });
    try {
      const { previewResults } = previewResult(await planLifecycle(this.registry, repo, policy, new Date(startedAt)));
      await this.store.savePreview(repo.id, { policyText: text, status: 'COMPLETE', results: previewResults, startedAt, completedAt: Date.now() });
    } catch (err) {
      await this.store.savePreview(repo.id, { policyText: text, status: 'FAILED', results: [], startedAt, completedAt: Date.now() });
      throw err;
    }
    return text;
  }

  async preview(repo: Repository): Promise<Preview> {
    const preview = await this.store.loadPreview<LifecyclePolicyPreviewResult>(repo.id);
    if (!preview) {
      throw new RegistryError(
        'LifecyclePreviewNotFound',
        `There is no lifecycle policy preview for the repository with name '${repo.name}' in the registry with id '${repo.registryId}'`,
      );
    }
    return preview;
  }
}

function parse(text: string): LifecyclePolicy {
  try {
    checkLifecyclePolicyTextLength(text);
    return parseLifecyclePolicy(text);
  } catch (err) {
    if (err instanceof LifecyclePolicyValidationError) throw new RegistryError('InvalidLifecyclePolicy', err.message);
    throw err;
  }
}

function policyNotFound(repo: Repository): RegistryError {
  return new RegistryError(
    'LifecyclePolicyNotFound',
    `Lifecycle policy does not exist for the repository with name '${repo.name}' in the registry with id '${repo.registryId}'`,
  );
}
