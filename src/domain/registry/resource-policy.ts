import { parsePolicyDocument } from '../../policy/index.js';
import { RegistryError } from './errors.js';

/** Refuses a repository or registry policy that is not a valid resource-based policy document. */
export function assertResourcePolicy(text: string, what: 'repository' | 'registry'): void {
  try {
    parsePolicyDocument(text, 'resource');
  } catch {
    throw new RegistryError('InvalidPolicy', `Invalid ${what} policy provided`, { field: 'PolicyText' });
  }
}
