import { parsePolicyDocument } from '../../policy/index.js';
import { ECR_ACTIONS, namesOnly } from './ecr-actions.js';
import { RegistryError } from './errors.js';

/** Refuses a repository or registry policy that is not a valid resource-based policy document. */
export function assertResourcePolicy(text: string, what: 'repository' | 'registry'): void {
  const invalid = () => new RegistryError('InvalidPolicy', `Invalid ${what} policy provided`, { field: 'PolicyText' });
  let statements;
  try {
    statements = parsePolicyDocument(text, 'resource').statements;
  } catch {
    throw invalid();
  }
  if (what !== 'registry') return;
  // A registry policy grants ECR actions only (the V2 scope; ECR no longer accepts V1).
  const allowed = ECR_ACTIONS;
  for (const statement of statements) {
    const actions = statement.action ?? statement.notAction ?? [];
    if (!actions.every((action) => namesOnly(action, allowed))) throw invalid();
  }
}
