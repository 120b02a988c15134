import { randomInt } from 'node:crypto';
import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { writeCredentialsFile } from '../../iam/identity/credentials-file.js';
import type { IdentityDirectory } from '../../iam/identity/directory.js';
import { managedPolicyByArn } from '../../policy/managed-policies.js';
import { openDomain } from '../../wiring.js';

interface StoreOptions {
  dataDir?: string;
  databaseUrl?: string;
  blobStore?: string;
  account?: string;
}

/** Opens the data dir's domain, runs `fn`, closes it; `account` defaults to the default account. */
async function withDirectory<T>(opts: StoreOptions, fn: (directory: IdentityDirectory, accountId: string, region: string) => Promise<T>): Promise<T> {
  const config = loadConfig({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, blobStore: opts.blobStore });
  const domain = await openDomain(config);
  try {
    const directory = domain.identities;
    const accountId = opts.account ?? (await domain.registry.accounts.defaultAccountId());
    if (!accountId) throw new Error('this data dir has no default account yet: start berth once, or pass --account');
    if (!(await directory.accountExists(accountId))) throw new Error(`account ${accountId} does not exist (create it with: berth admin account create)`);
    return await fn(directory, accountId, config.region);
  } finally {
    await domain.close();
  }
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `berth admin` commands for accounts, users, access keys and public repositories. */
export function registerIdentityAdmin(admin: Command): void {
  admin
    .command('account')
    .description('accounts')
    .command('create')
    .description('create an account (prints its id)')
    .option('--id <account-id>', '12-digit account id (default: random)')
    .option('--data-dir <dir>', 'data dir (env BERTH_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL metadata database (env BERTH_DATABASE_URL)')
    .option('--blob-store <url>', 'S3 blob store, s3://BUCKET/PREFIX (env BERTH_BLOB_STORE)')
    .action(async (opts: { id?: string; dataDir?: string; databaseUrl?: string; blobStore?: string }) => {
      const id = opts.id ?? String(randomInt(100_000, 999_999)) + String(randomInt(100_000, 999_999));
      if (!/^\d{12}$/.test(id)) throw new Error(`account id must be 12 digits, got ${id}`);
      const config = loadConfig({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, blobStore: opts.blobStore });
      const domain = await openDomain(config);
      try {
        if (!(await domain.identities.createAccount(id, config.region))) throw new Error(`account ${id} exists already`);
        process.stdout.write(`${id}\n`);
      } finally {
        await domain.close();
      }
    });

  admin
    .command('user')
    .description('IAM users')
    .command('create <name>')
    .description('create a user, optionally attaching managed policies')
    .option('--account <id>', 'account (default: the default account)')
    .option('--policy-arn <arn>', 'attach this managed policy (repeatable)', collect)
    .option('--data-dir <dir>', 'data dir (env BERTH_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL metadata database (env BERTH_DATABASE_URL)')
    .option('--blob-store <url>', 'S3 blob store, s3://BUCKET/PREFIX (env BERTH_BLOB_STORE)')
    .action(async (name: string, opts: StoreOptions & { policyArn?: string[] }) => {
      await withDirectory(opts, async (directory, accountId) => {
        for (const arn of opts.policyArn ?? []) {
          const p = managedPolicyByArn(arn) ?? (await directory.getPolicy(arn));
          if (!p) throw new Error(`policy ${arn} does not exist`);
        }
        const user = await directory.createUser(accountId, name);
        if (!user) throw new Error(`user ${name} exists already in account ${accountId}`);
        for (const arn of opts.policyArn ?? []) await directory.attachPolicy(accountId, 'user', name, arn);
        process.stdout.write(`${user.arn}\n`);
      });
    });

  admin
    .command('access-key')
    .description('access keys')
    .command('create <user>')
    .description("create an access key for a user; prints it, or writes a credentials file")
    .option('--account <id>', 'account (default: the default account)')
    .option('--output <file>', 'write an AWS shared-credentials file (mode 0600) instead of printing')
    .option('--profile <name>', 'profile name in the credentials file', 'default')
    .option('--data-dir <dir>', 'data dir (env BERTH_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL metadata database (env BERTH_DATABASE_URL)')
    .option('--blob-store <url>', 'S3 blob store, s3://BUCKET/PREFIX (env BERTH_BLOB_STORE)')
    .action(async (userName: string, opts: StoreOptions & { output?: string; profile: string }) => {
      await withDirectory(opts, async (directory, accountId, region) => {
        if (!(await directory.getUser(accountId, userName))) throw new Error(`user ${userName} does not exist in account ${accountId}`);
        const key = await directory.createAccessKey(accountId, userName);
        if (opts.output) {
          await writeCredentialsFile(opts.output, { profile: opts.profile, accessKeyId: key.id, secretAccessKey: key.secret, region });
          process.stdout.write(`wrote profile ${opts.profile} for ${userName} to ${opts.output}\n`);
        } else {
          process.stdout.write(`aws_access_key_id = ${key.id}\naws_secret_access_key = ${key.secret}\nregion = ${region}\n`);
        }
      });
    });

  admin
    .command('repository')
    .description('repository access')
    .command('set-public <name>')
    .description('let anyone, without credentials, pull from a repository (--off to undo)')
    .option('--off', 'make the repository private again')
    .option('--account <id>', 'account (default: the default account)')
    .option('--data-dir <dir>', 'data dir (env BERTH_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL metadata database (env BERTH_DATABASE_URL)')
    .option('--blob-store <url>', 'S3 blob store, s3://BUCKET/PREFIX (env BERTH_BLOB_STORE)')
    .action(async (name: string, opts: StoreOptions & { off?: boolean }) => {
      const domain = await openDomain(loadConfig({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, blobStore: opts.blobStore }));
      try {
        const accountId = opts.account ?? (await domain.registry.accounts.defaultAccountId());
        if (!accountId) throw new Error('this data dir has no default account yet: start berth once, or pass --account');
        const repo = await domain.registry.repositories.find({ registryId: accountId, name });
        if (!repo) throw new Error(`repository ${name} does not exist in account ${accountId}`);
        await domain.registry.repositories.setPublic(repo, !opts.off);
        process.stdout.write(`${name} is now ${opts.off ? 'private' : 'public'}\n`);
      } finally {
        await domain.close();
      }
    });
}
