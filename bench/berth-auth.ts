// Log in to berth the way `aws ecr get-login-password | docker login` does.
import { readFile } from 'node:fs/promises';
import type { Agent as HttpsAgent } from 'node:https';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand, RepositoryAlreadyExistsException } from '@aws-sdk/client-ecr';

interface Profile {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/** Parse one profile out of an AWS shared-credentials (INI) file. */
export function parseCredentialsProfile(text: string, profile: string): Profile | undefined {
  let current = '';
  const values: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (section) {
      current = section[1]!;
      continue;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (kv && current === profile) values[kv[1]!.toLowerCase()] = kv[2]!;
  }
  if (!values.aws_access_key_id || !values.aws_secret_access_key) return undefined;
  return { accessKeyId: values.aws_access_key_id, secretAccessKey: values.aws_secret_access_key, region: values.region || 'us-east-1' };
}

async function readProfile(file: string, waitMs: number): Promise<Profile> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const profile = parseCredentialsProfile(await readFile(file, 'utf8'), 'berth');
      if (profile) return profile;
      if (Date.now() > deadline) throw new Error(`${file} has no [berth] profile with aws_access_key_id and aws_secret_access_key`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (Date.now() > deadline) throw new Error(`berth asked for Basic auth but wrote no ${file}`);
    }
    await sleep(100);
  }
}

/** Returns the `Authorization: Basic …` value for /v2 requests. */
export async function berthAuthorization(origin: string, dataDir: string, httpsAgent?: HttpsAgent): Promise<string> {
  const profile = await readProfile(path.join(dataDir, 'admin-credentials'), 10_000);
  const ecr = new ECRClient({
    endpoint: origin,
    region: profile.region,
    credentials: { accessKeyId: profile.accessKeyId, secretAccessKey: profile.secretAccessKey },
    ...(httpsAgent ? { requestHandler: { httpsAgent } } : {}),
  });
  try {
    const out = await ecr.send(new GetAuthorizationTokenCommand({}));
    const token = out.authorizationData?.[0]?.authorizationToken;
    if (!token) throw new Error('GetAuthorizationToken returned no authorizationToken');
    const decoded = Buffer.from(token, 'base64').toString('utf8');
    if (!decoded.startsWith('AWS:')) throw new Error('GetAuthorizationToken token does not decode to "AWS:<password>"');
    return `Basic ${Buffer.from(decoded).toString('base64')}`;
  } finally {
    ecr.destroy();
  }
}

/** Creates a repository encrypted with the account's AWS managed KMS key (alias/aws/ecr), as ECR's console does. */
export async function createKmsRepository(origin: string, dataDir: string, name: string): Promise<void> {
  const profile = await readProfile(path.join(dataDir, 'admin-credentials'), 10_000);
  const ecr = new ECRClient({
    endpoint: origin,
    region: profile.region,
    credentials: { accessKeyId: profile.accessKeyId, secretAccessKey: profile.secretAccessKey },
  });
  try {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: name, encryptionConfiguration: { encryptionType: 'KMS' } }));
  } catch (err) {
    if (!(err instanceof RepositoryAlreadyExistsException)) throw err;
  } finally {
    ecr.destroy();
  }
}

/** An ECR client signed with berth's admin credentials (the caller destroys it). */
export async function berthEcrClient(origin: string, dataDir: string): Promise<ECRClient> {
  const profile = await readProfile(path.join(dataDir, 'admin-credentials'), 10_000);
  return new ECRClient({
    endpoint: origin,
    region: profile.region,
    credentials: { accessKeyId: profile.accessKeyId, secretAccessKey: profile.secretAccessKey },
  });
}
