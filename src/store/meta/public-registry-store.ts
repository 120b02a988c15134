import type { SqlDb } from './sql.js';

export interface PublicRegistryRow {
  accountId: string;
  alias: string;
  displayName: string;
  createdAt: number;
}

interface RawPublicRegistry {
  account_id: string;
  alias: string;
  display_name: string;
  created_at: number | string;
}

function toRow(r: RawPublicRegistry): PublicRegistryRow {
  return { accountId: r.account_id, alias: r.alias, displayName: r.display_name, createdAt: Number(r.created_at) };
}

/** ECR Public registries: each account's alias and registry catalog data. */
export class PublicRegistryStore {
  constructor(private readonly db: SqlDb) {}

  async get(accountId: string): Promise<PublicRegistryRow | undefined> {
    const r = await this.db.get<RawPublicRegistry>('SELECT * FROM public_registries WHERE account_id = ?', [accountId]);
    return r && toRow(r);
  }

  async byAlias(alias: string): Promise<PublicRegistryRow | undefined> {
    const r = await this.db.get<RawPublicRegistry>('SELECT * FROM public_registries WHERE alias = ?', [alias]);
    return r && toRow(r);
  }

  /**
   * The account's registry, created with `alias` when it has none. Undefined when `alias` is taken
   * by another account (the caller picks another).
   */
  async ensure(accountId: string, alias: string, now = Date.now()): Promise<PublicRegistryRow | undefined> {
    // A conflict on either key inserts nothing: a registry made meanwhile for the account wins, and
    // an alias another account holds is reported as taken.
    await this.db.run('INSERT INTO public_registries (account_id, alias, display_name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [
      accountId,
      alias,
      '',
      now,
    ]);
    return this.get(accountId);
  }

  async setDisplayName(accountId: string, displayName: string): Promise<boolean> {
    return (await this.db.run('UPDATE public_registries SET display_name = ? WHERE account_id = ?', [displayName, accountId])).changes > 0;
  }
}
