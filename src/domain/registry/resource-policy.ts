import { parsePolicyDocument } from '../../policy/index.js';
import { ECR_ACTIONS, namesOnly, REGISTRY_POLICY_V1_ACTIONS } from './ecr-actions.js';
import { RegistryError } from './errors.js';

/** Refuses a repository or registry policy that is not a valid resource-based policy document. */
export function assertResourcePolicy(text: string, what: 'repository' | 'registry', scope: 'V1' | 'V2' = 'V2'): void {
  const invalid = () => new RegistryError('InvalidPolicy', `Invalid ${what} policy provided`, { field: 'PolicyText' });
  let statements;
  try {
    statements = parsePolicyDocument(text, 'resource').statements;
  } catch {
    throw invalid();
  }
  if (what !== 'registry') return;
  // A registry policy grants ECR actions only: any under the V2 scope, three under V1.
  const allowed = scope === 'V1' ? REGISTRY_POLICY_V1_ACTIONS : ECR_ACTIONS;
  for (const statement of statements) {
    const actions = statement.action ?? statement.notAction ?? [];
    if (!actions.every((action) => namesOnly(action, allowed))) throw invalid();
  }
}
