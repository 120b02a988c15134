import { join } from 'node:path';
import { writeCredentialsFile } from './credentials-file.js';
import type { IdentityDirectory } from './directory.js';

export const ADMIN_USER = 'admin';
export const ADMIN_CREDENTIALS_FILE = 'admin-credentials';
export const ADMINISTRATOR_POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });

/** Where bootstrap records that it ran. */
export interface BootstrapSettings {
  getSetting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;
}

/**
 * On a data dir's first start: an administrator user in the default account, an access key, and
 * `<data-dir>/admin-credentials`. Returns the file's path when it was written now.
 */
export async function bootstrapAdministrator(
  settings: BootstrapSettings,
  directory: IdentityDirectory,
  dataDir: string,
  accountId: string,
  region: string,
): Promise<string | undefined> {
  const flag = `iam:bootstrapped:${accountId}`;
  if (await settings.getSetting(flag)) return undefined;
  // Nodes starting together on one empty database: the one whose user is created bootstraps.
  if (!(await directory.createUser(accountId, ADMIN_USER))) return undefined;
  await directory.putInlinePolicy(accountId, 'user', ADMIN_USER, 'AdministratorAccess', ADMINISTRATOR_POLICY);
  const key = await directory.createAccessKey(accountId, ADMIN_USER);
  const path = join(dataDir, ADMIN_CREDENTIALS_FILE);
  await writeCredentialsFile(path, { profile: 'berth', accessKeyId: key.id, secretAccessKey: key.secret, region });
  await settings.setSetting(flag, String(Date.now()));
  return path;
}
