import { writeFile } from 'node:fs/promises';

export interface ProfileCredentials {
  profile: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/** The AWS shared-credentials file text for one profile. */
export function credentialsFileText(c: ProfileCredentials): string {
  return `[${c.profile}]\naws_access_key_id = ${c.accessKeyId}\naws_secret_access_key = ${c.secretAccessKey}\nregion = ${c.region}\n`;
}

/** Writes a credentials file readable only by its owner. */
export async function writeCredentialsFile(path: string, c: ProfileCredentials): Promise<void> {
  await writeFile(path, credentialsFileText(c), { mode: 0o600 });
}
