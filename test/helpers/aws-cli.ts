// The aws CLI (v2, from the Debian package) calling a berth under test.
import { readAdminCredentials, type Berth } from './berth.js';

export const AWS = '/usr/bin/aws';

export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
}

/**
 * The environment for the aws CLI to call berth (the endpoint still goes in `--endpoint-url`):
 * the keys given, or the administrator's from the server's data dir (placeholders when it has none,
 * as for a Distribution target); region us-east-1 unless the keys name one; no config or
 * credentials file of the machine's, no pager, and one attempt, so a refusal shows at once.
 */
export async function awsCliEnv(from: Berth | AwsKeys): Promise<Record<string, string>> {
  const keys = 'dataDir' in from ? await readAdminCredentials(from.dataDir) : from;
  return {
    AWS_ACCESS_KEY_ID: keys?.accessKeyId ?? 'AKIDPLACEHOLDER00000',
    AWS_SECRET_ACCESS_KEY: keys?.secretAccessKey ?? 'placeholder',
    AWS_DEFAULT_REGION: keys?.region ?? 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
    AWS_MAX_ATTEMPTS: '1',
  };
}
