import { join } from 'node:path';
import type { MetadataStore } from '../store/meta/metadata-store.js';
import { writeCredentialsFile } from './credentials-file.js';
import type { IdentityStore } from './identity-store.js';

export const ADMIN_USER = 'admin';
export const ADMIN_CREDENTIALS_FILE = 'admin-credentials';
export const ADMINISTRATOR_POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });

/**
 * On a data dir's first start: an administrator user in the default account, an access key, and
 * `<data-dir>/admin-credentials`. Returns the file's path when it was written now.
 */
export async function bootstrapAdministrator(meta: MetadataStore, store: IdentityStore, dataDir: string, accountId: string, region: string): Promise<string | undefined> {
  const flag = `iam:bootstrapped:${accountId}`;
  if (await meta.getSetting(flag)) return undefined;
  await store.createUser(accountId, ADMIN_USER);
  await store.putInlinePolicy(accountId, 'user', ADMIN_USER, 'AdministratorAccess', ADMINISTRATOR_POLICY);
  const key = await store.createAccessKey(accountId, ADMIN_USER);
  const path = join(dataDir, ADMIN_CREDENTIALS_FILE);
  await writeCredentialsFile(path, { profile: 'berth', accessKeyId: key.id, secretAccessKey: key.secret, region });
  await meta.setSetting(flag, String(Date.now()));
  return path;
}
