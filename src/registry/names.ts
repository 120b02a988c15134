import { RegistryError } from './errors.js';

// Grammar from the OCI distribution spec ("Pulling manifests": <name> and <reference>).
const NAME_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** ECR allows repository names of 2 to 256 characters. */
export const MAX_NAME_LENGTH = 256;

export function isValidRepositoryName(name: string): boolean {
  return name.length >= 1 && name.length <= MAX_NAME_LENGTH && NAME.test(name);
}

export function assertRepositoryName(name: string): void {
  if (!isValidRepositoryName(name)) throw new RegistryError('NAME_INVALID', `invalid repository name: ${name.slice(0, 300)}`);
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

export function assertTag(tag: string): void {
  if (!isValidTag(tag)) throw new RegistryError('TAG_INVALID', `invalid tag: ${tag.slice(0, 200)}`);
}
