import type { SqlDb } from './sql.js';

export interface ConnectionRow {
  accountId: string;
  name: string;
  arn: string;
  description: string | null;
  authorizationType: string;
  /** The auth parameters as given, secrets included: delivery needs them. */
  auth: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export interface ApiDestinationRow {
  accountId: string;
  name: string;
  arn: string;
  description: string | null;
  connectionArn: string;
  endpoint: string;
  httpMethod: string;
  rateLimit: number;
  createdAt: number;
  updatedAt: number;
}

export interface RuleRow {
  accountId: string;
  name: string;
  arn: string;
  eventPattern: string;
  state: 'ENABLED' | 'DISABLED';
  description: string | null;
  roleArn: string | null;
  createdAt: number;
}

export interface TargetRow {
  accountId: string;
  ruleName: string;
  targetId: string;
  /** The target as stored (EventBridge's Target shape). */
  target: Record<string, unknown>;
}

export interface TagRow {
  key: string;
  value: string;
}

type Raw = Record<string, string | number | null>;

const num = (v: string | number | null) => Number(v);

function toConnection(r: Raw): ConnectionRow {
  return {
    accountId: String(r.account_id),
    name: String(r.name),
    arn: String(r.arn),
    description: r.description === null ? null : String(r.description),
    authorizationType: String(r.authorization_type),
    auth: JSON.parse(String(r.auth)) as Record<string, unknown>,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

function toDestination(r: Raw): ApiDestinationRow {
  return {
    accountId: String(r.account_id),
    name: String(r.name),
    arn: String(r.arn),
    description: r.description === null ? null : String(r.description),
    connectionArn: String(r.connection_arn),
    endpoint: String(r.endpoint),
    httpMethod: String(r.http_method),
    rateLimit: num(r.rate_limit),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

function toRule(r: Raw): RuleRow {
  return {
    accountId: String(r.account_id),
    name: String(r.name),
    arn: String(r.arn),
    eventPattern: String(r.event_pattern),
    state: String(r.state) as RuleRow['state'],
    description: r.description === null ? null : String(r.description),
    roleArn: r.role_arn === null ? null : String(r.role_arn),
    createdAt: num(r.created_at),
  };
}

function toTarget(r: Raw): TargetRow {
  return { accountId: String(r.account_id), ruleName: String(r.rule_name), targetId: String(r.target_id), target: JSON.parse(String(r.target)) as Record<string, unknown> };
}

/** EventBridge's rules, targets, connections and API destinations, per account. */
export class EventBridgeStore {
  constructor(private readonly db: SqlDb) {}

  // ---- connections ----------------------------------------------------------------------------
  /** False when the account already has a connection of that name. */
  async insertConnection(c: ConnectionRow): Promise<boolean> {
    const { changes } = await this.db.run(
      `INSERT INTO eb_connections (account_id, name, arn, description, authorization_type, auth, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, name) DO NOTHING`,
      [c.accountId, c.name, c.arn, c.description, c.authorizationType, JSON.stringify(c.auth), c.createdAt, c.updatedAt],
    );
    return changes === 1;
  }

  async updateConnection(c: ConnectionRow): Promise<boolean> {
    const { changes } = await this.db.run(
      `UPDATE eb_connections SET description = ?, authorization_type = ?, auth = ?, updated_at = ? WHERE account_id = ? AND name = ?`,
      [c.description, c.authorizationType, JSON.stringify(c.auth), c.updatedAt, c.accountId, c.name],
    );
    return changes === 1;
  }

  async getConnection(accountId: string, name: string): Promise<ConnectionRow | undefined> {
    const row = await this.db.get<Raw>('SELECT * FROM eb_connections WHERE account_id = ? AND name = ?', [accountId, name]);
    return row && toConnection(row);
  }

  async listConnections(accountId: string, namePrefix = ''): Promise<ConnectionRow[]> {
    const rows = await this.db.all<Raw>('SELECT * FROM eb_connections WHERE account_id = ? AND name >= ? ORDER BY name', [accountId, namePrefix]);
    return rows.map(toConnection).filter((c) => c.name.startsWith(namePrefix));
  }

  async deleteConnection(accountId: string, name: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM eb_connections WHERE account_id = ? AND name = ?', [accountId, name])).changes === 1;
  }

  // ---- API destinations -----------------------------------------------------------------------
  async insertDestination(d: ApiDestinationRow): Promise<boolean> {
    const { changes } = await this.db.run(
      `INSERT INTO eb_api_destinations (account_id, name, arn, description, connection_arn, endpoint, http_method, rate_limit, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, name) DO NOTHING`,
      [d.accountId, d.name, d.arn, d.description, d.connectionArn, d.endpoint, d.httpMethod, d.rateLimit, d.createdAt, d.updatedAt],
    );
    return changes === 1;
  }

  async updateDestination(d: ApiDestinationRow): Promise<boolean> {
    const { changes } = await this.db.run(
      `UPDATE eb_api_destinations SET description = ?, connection_arn = ?, endpoint = ?, http_method = ?, rate_limit = ?, updated_at = ? WHERE account_id = ? AND name = ?`,
      [d.description, d.connectionArn, d.endpoint, d.httpMethod, d.rateLimit, d.updatedAt, d.accountId, d.name],
    );
    return changes === 1;
  }

  async getDestination(accountId: string, name: string): Promise<ApiDestinationRow | undefined> {
    const row = await this.db.get<Raw>('SELECT * FROM eb_api_destinations WHERE account_id = ? AND name = ?', [accountId, name]);
    return row && toDestination(row);
  }

  async listDestinations(accountId: string, namePrefix = ''): Promise<ApiDestinationRow[]> {
    const rows = await this.db.all<Raw>('SELECT * FROM eb_api_destinations WHERE account_id = ? AND name >= ? ORDER BY name', [accountId, namePrefix]);
    return rows.map(toDestination).filter((d) => d.name.startsWith(namePrefix));
  }

  async destinationsUsing(connectionArn: string): Promise<number> {
    const row = await this.db.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM eb_api_destinations WHERE connection_arn = ?', [connectionArn]);
    return Number(row?.n ?? 0);
  }

  async deleteDestination(accountId: string, name: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM eb_api_destinations WHERE account_id = ? AND name = ?', [accountId, name])).changes === 1;
  }

  // ---- rules and targets ----------------------------------------------------------------------
  /** Creates the rule or replaces its pattern, state, description and role, keeping its creation time. */
  async putRule(r: RuleRow): Promise<void> {
    await this.db.run(
      `INSERT INTO eb_rules (account_id, name, arn, event_pattern, state, description, role_arn, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id, name) DO UPDATE SET event_pattern = excluded.event_pattern, state = excluded.state,
         description = excluded.description, role_arn = excluded.role_arn`,
      [r.accountId, r.name, r.arn, r.eventPattern, r.state, r.description, r.roleArn, r.createdAt],
    );
  }

  async getRule(accountId: string, name: string): Promise<RuleRow | undefined> {
    const row = await this.db.get<Raw>('SELECT * FROM eb_rules WHERE account_id = ? AND name = ?', [accountId, name]);
    return row && toRule(row);
  }

  async listRules(accountId: string, namePrefix = ''): Promise<RuleRow[]> {
    const rows = await this.db.all<Raw>('SELECT * FROM eb_rules WHERE account_id = ? AND name >= ? ORDER BY name', [accountId, namePrefix]);
    return rows.map(toRule).filter((r) => r.name.startsWith(namePrefix));
  }

  /** Every enabled rule of every account, for matching. */
  async enabledRules(): Promise<RuleRow[]> {
    return (await this.db.all<Raw>("SELECT * FROM eb_rules WHERE state = 'ENABLED' ORDER BY account_id, name")).map(toRule);
  }

  async setRuleState(accountId: string, name: string, state: RuleRow['state']): Promise<boolean> {
    return (await this.db.run('UPDATE eb_rules SET state = ? WHERE account_id = ? AND name = ?', [state, accountId, name])).changes === 1;
  }

  async deleteRule(accountId: string, name: string): Promise<boolean> {
    await this.db.run('DELETE FROM eb_targets WHERE account_id = ? AND rule_name = ?', [accountId, name]);
    await this.db.run('DELETE FROM eb_tags WHERE account_id = ? AND resource_arn IN (SELECT arn FROM eb_rules WHERE account_id = ? AND name = ?)', [accountId, accountId, name]);
    return (await this.db.run('DELETE FROM eb_rules WHERE account_id = ? AND name = ?', [accountId, name])).changes === 1;
  }

  async putTarget(t: TargetRow): Promise<void> {
    await this.db.run(
      `INSERT INTO eb_targets (account_id, rule_name, target_id, target) VALUES (?, ?, ?, ?)
       ON CONFLICT (account_id, rule_name, target_id) DO UPDATE SET target = excluded.target`,
      [t.accountId, t.ruleName, t.targetId, JSON.stringify(t.target)],
    );
  }

  async listTargets(accountId: string, ruleName: string): Promise<TargetRow[]> {
    const rows = await this.db.all<Raw>('SELECT * FROM eb_targets WHERE account_id = ? AND rule_name = ? ORDER BY target_id', [accountId, ruleName]);
    return rows.map(toTarget);
  }

  async getTarget(accountId: string, ruleName: string, targetId: string): Promise<TargetRow | undefined> {
    const row = await this.db.get<Raw>('SELECT * FROM eb_targets WHERE account_id = ? AND rule_name = ? AND target_id = ?', [accountId, ruleName, targetId]);
    return row && toTarget(row);
  }

  async deleteTarget(accountId: string, ruleName: string, targetId: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM eb_targets WHERE account_id = ? AND rule_name = ? AND target_id = ?', [accountId, ruleName, targetId])).changes === 1;
  }

  // ---- tags ------------------------------------------------------------------------------------
  /** A resource's tags, by key. */
  async tags(accountId: string, resourceArn: string): Promise<TagRow[]> {
    const rows = await this.db.all<Raw>('SELECT tag_key, tag_value FROM eb_tags WHERE account_id = ? AND resource_arn = ? ORDER BY tag_key', [accountId, resourceArn]);
    return rows.map((r) => ({ key: String(r.tag_key), value: String(r.tag_value) }));
  }

  /** Adds the tags, replacing the values of keys the resource already has. */
  async setTags(accountId: string, resourceArn: string, tags: TagRow[]): Promise<void> {
    for (const t of tags) {
      await this.db.run(
        `INSERT INTO eb_tags (account_id, resource_arn, tag_key, tag_value) VALUES (?, ?, ?, ?)
         ON CONFLICT (account_id, resource_arn, tag_key) DO UPDATE SET tag_value = excluded.tag_value`,
        [accountId, resourceArn, t.key, t.value],
      );
    }
  }

  async removeTags(accountId: string, resourceArn: string, keys: string[]): Promise<void> {
    for (const key of keys) await this.db.run('DELETE FROM eb_tags WHERE account_id = ? AND resource_arn = ? AND tag_key = ?', [accountId, resourceArn, key]);
  }

  /** Names of the rules with a target that delivers to `arn`, in order. */
  async ruleNamesWithTarget(accountId: string, arn: string): Promise<string[]> {
    const rows = await this.db.all<Raw>('SELECT rule_name, target FROM eb_targets WHERE account_id = ? ORDER BY rule_name', [accountId]);
    const names = rows.filter((r) => (JSON.parse(String(r.target)) as { Arn?: string }).Arn === arn).map((r) => String(r.rule_name));
    return [...new Set(names)];
  }

  /** Targets (of any rule) that deliver to `arn`. */
  async targetsUsing(accountId: string, arn: string): Promise<number> {
    const rows = await this.db.all<Raw>('SELECT target FROM eb_targets WHERE account_id = ?', [accountId]);
    return rows.filter((r) => (JSON.parse(String(r.target)) as { Arn?: string }).Arn === arn).length;
  }
}
