import type { SqlDb } from './sql.js';

export type OwnerKind = 'user' | 'group' | 'role';

// A type, not an interface: XML rendering takes it as a plain record.
export type IamTag = { Key: string; Value: string };

export interface UserRow {
  accountId: string;
  name: string;
  userId: string;
  arn: string;
  path: string;
  tags: IamTag[];
  createdAt: number;
}

export interface AccessKeyRow {
  id: string;
  secret: string;
  accountId: string;
  userName: string;
  status: 'Active' | 'Inactive';
  createdAt: number;
}

export interface GroupRow {
  accountId: string;
  name: string;
  groupId: string;
  arn: string;
  path: string;
  createdAt: number;
}

export interface RoleRow {
  accountId: string;
  name: string;
  roleId: string;
  arn: string;
  path: string;
  description?: string;
  maxSessionDuration: number;
  /** The trust policy: who may assume the role (JSON text, as given). */
  assumeRolePolicy: string;
  tags: IamTag[];
  createdAt: number;
}

/** A customer managed policy as created: no versions beyond v1, no attachments yet. */
export interface NewPolicyRow {
  arn: string;
  accountId: string;
  name: string;
  policyId: string;
  path: string;
  description: string;
  createdAt: number;
}

export interface ManagedPolicyRow extends NewPolicyRow {
  defaultVersion: string;
  updatedAt: number;
  attachmentCount: number;
}

export interface PolicyVersionRow {
  versionId: string;
  document: string;
  createdAt: number;
  isDefault: boolean;
}

type Raw = Record<string, string | number | null>;
const num = (v: string | number | null | undefined): number => Number(v ?? 0);

function toUser(r: Raw): UserRow {
  const tags = r.tags === null || r.tags === undefined ? [] : (JSON.parse(String(r.tags)) as IamTag[]);
  return { accountId: String(r.account_id), name: String(r.name), userId: String(r.user_id), arn: String(r.arn), path: String(r.path), tags, createdAt: num(r.created_at) };
}
function toGroup(r: Raw): GroupRow {
  return { accountId: String(r.account_id), name: String(r.name), groupId: String(r.group_id), arn: String(r.arn), path: String(r.path), createdAt: num(r.created_at) };
}
function toRole(r: Raw): RoleRow {
  return {
    accountId: String(r.account_id),
    name: String(r.name),
    roleId: String(r.role_id),
    arn: String(r.arn),
    path: String(r.path),
    ...(r.description === null || r.description === undefined ? {} : { description: String(r.description) }),
    maxSessionDuration: num(r.max_session_duration),
    assumeRolePolicy: String(r.assume_role_policy),
    tags: JSON.parse(String(r.tags)) as RoleRow['tags'],
    createdAt: num(r.created_at),
  };
}
function toKey(r: Raw): AccessKeyRow {
  return {
    id: String(r.id),
    secret: String(r.secret),
    accountId: String(r.account_id),
    userName: String(r.user_name),
    status: r.status === 'Inactive' ? 'Inactive' : 'Active',
    createdAt: num(r.created_at),
  };
}
function toPolicy(r: Raw): ManagedPolicyRow {
  return {
    arn: String(r.arn),
    accountId: String(r.account_id),
    name: String(r.name),
    policyId: String(r.policy_id),
    path: String(r.path),
    description: String(r.description ?? ''),
    defaultVersion: String(r.default_version),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    attachmentCount: num(r.attachments),
  };
}
function toVersion(r: Raw): PolicyVersionRow {
  return { versionId: String(r.version_id), document: String(r.document), createdAt: num(r.created_at), isDefault: r.default_version === r.version_id };
}

const POLICY_COLUMNS = 'p.*, (SELECT COUNT(*) FROM iam_attachments a WHERE a.policy_arn = p.arn) AS attachments';
const VERSION_COLUMNS = 'v.version_id, v.document, v.created_at, p.default_version';

/** Accounts, users, access keys, groups, inline and managed policies and their attachments. */
export class IdentityStore {
  constructor(private readonly db: SqlDb) {}

  // ---- accounts --------------------------------------------------------------------------------
  async accountExists(accountId: string): Promise<boolean> {
    return (await this.db.get('SELECT id FROM accounts WHERE id = ?', [accountId])) !== undefined;
  }

  /** False if the account exists already. */
  async createAccount(accountId: string, region: string, now = Date.now()): Promise<boolean> {
    const { changes } = await this.db.run('INSERT INTO accounts (id, region, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING', [accountId, region, now]);
    return changes > 0;
  }

  // ---- users -----------------------------------------------------------------------------------
  /** False if the account has a user of that name already. */
  async insertUser(u: UserRow): Promise<boolean> {
    const { changes } = await this.db.run(
      'INSERT INTO iam_users (account_id, name, user_id, arn, path, tags, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      [u.accountId, u.name, u.userId, u.arn, u.path, JSON.stringify(u.tags), u.createdAt],
    );
    return changes > 0;
  }

  async getUser(accountId: string, name: string): Promise<UserRow | undefined> {
    const r = await this.db.get<Raw>('SELECT * FROM iam_users WHERE account_id = ? AND name = ?', [accountId, name]);
    return r && toUser(r);
  }

  async listUsers(accountId: string): Promise<UserRow[]> {
    return (await this.db.all<Raw>('SELECT * FROM iam_users WHERE account_id = ? ORDER BY name', [accountId])).map(toUser);
  }

  /** Whether the user still has keys, policies or groups. */
  async userHasDependents(accountId: string, name: string): Promise<boolean> {
    return this.anyRow([
      ['SELECT 1 AS x FROM iam_access_keys WHERE account_id = ? AND user_name = ? LIMIT 1', [accountId, name]],
      ['SELECT 1 AS x FROM iam_group_members WHERE account_id = ? AND user_name = ? LIMIT 1', [accountId, name]],
      ["SELECT 1 AS x FROM iam_inline_policies WHERE account_id = ? AND owner_kind = 'user' AND owner_name = ? LIMIT 1", [accountId, name]],
      ["SELECT 1 AS x FROM iam_attachments WHERE account_id = ? AND owner_kind = 'user' AND owner_name = ? LIMIT 1", [accountId, name]],
    ]);
  }

  /**
   * Replaces a user's or role's tags with what `change` makes of them, in one transaction, so that
   * concurrent changes do not lose each other's tags. Undefined if there is no such user or role.
   */
  async changeTags(kind: 'user' | 'role', accountId: string, name: string, change: (tags: IamTag[]) => IamTag[]): Promise<IamTag[] | undefined> {
    const table = kind === 'user' ? 'iam_users' : 'iam_roles';
    return this.db.transaction(async (tx) => {
      const row = await tx.get<Raw>(`SELECT tags FROM ${table} WHERE account_id = ? AND name = ?`, [accountId, name]);
      if (!row) return undefined;
      const tags = change(row.tags === null || row.tags === undefined ? [] : (JSON.parse(String(row.tags)) as IamTag[]));
      await tx.run(`UPDATE ${table} SET tags = ? WHERE account_id = ? AND name = ?`, [JSON.stringify(tags), accountId, name]);
      return tags;
    }, `iam-tags ${accountId}`);
  }

  async deleteUser(accountId: string, name: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM iam_users WHERE account_id = ? AND name = ?', [accountId, name])).changes > 0;
  }

  // ---- access keys -----------------------------------------------------------------------------
  async insertAccessKey(k: AccessKeyRow): Promise<void> {
    await this.db.run('INSERT INTO iam_access_keys (id, secret, account_id, user_name, status, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
      k.id,
      k.secret,
      k.accountId,
      k.userName,
      k.status,
      k.createdAt,
    ]);
  }

  async getAccessKey(id: string): Promise<AccessKeyRow | undefined> {
    const r = await this.db.get<Raw>('SELECT * FROM iam_access_keys WHERE id = ?', [id]);
    return r && toKey(r);
  }

  async listAccessKeys(accountId: string, userName: string): Promise<AccessKeyRow[]> {
    return (await this.db.all<Raw>('SELECT * FROM iam_access_keys WHERE account_id = ? AND user_name = ? ORDER BY created_at, id', [accountId, userName])).map(toKey);
  }

  async setAccessKeyStatus(accountId: string, userName: string, id: string, status: 'Active' | 'Inactive'): Promise<boolean> {
    return (await this.db.run('UPDATE iam_access_keys SET status = ? WHERE id = ? AND account_id = ? AND user_name = ?', [status, id, accountId, userName])).changes > 0;
  }

  async deleteAccessKey(accountId: string, userName: string, id: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM iam_access_keys WHERE id = ? AND account_id = ? AND user_name = ?', [id, accountId, userName])).changes > 0;
  }

  // ---- groups ----------------------------------------------------------------------------------
  /** False if the account has a group of that name already. */
  async insertGroup(g: GroupRow): Promise<boolean> {
    const { changes } = await this.db.run(
      'INSERT INTO iam_groups (account_id, name, group_id, arn, path, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, name) DO NOTHING',
      [g.accountId, g.name, g.groupId, g.arn, g.path, g.createdAt],
    );
    return changes > 0;
  }

  async getGroup(accountId: string, name: string): Promise<GroupRow | undefined> {
    const r = await this.db.get<Raw>('SELECT * FROM iam_groups WHERE account_id = ? AND name = ?', [accountId, name]);
    return r && toGroup(r);
  }

  async listGroups(accountId: string): Promise<GroupRow[]> {
    return (await this.db.all<Raw>('SELECT * FROM iam_groups WHERE account_id = ? ORDER BY name', [accountId])).map(toGroup);
  }

  /** Whether the group still has members or policies. */
  async groupHasDependents(accountId: string, name: string): Promise<boolean> {
    return this.anyRow([
      ['SELECT 1 AS x FROM iam_group_members WHERE account_id = ? AND group_name = ? LIMIT 1', [accountId, name]],
      ["SELECT 1 AS x FROM iam_inline_policies WHERE account_id = ? AND owner_kind = 'group' AND owner_name = ? LIMIT 1", [accountId, name]],
      ["SELECT 1 AS x FROM iam_attachments WHERE account_id = ? AND owner_kind = 'group' AND owner_name = ? LIMIT 1", [accountId, name]],
    ]);
  }

  async deleteGroup(accountId: string, name: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM iam_groups WHERE account_id = ? AND name = ?', [accountId, name])).changes > 0;
  }

  async addUserToGroup(accountId: string, groupName: string, userName: string): Promise<void> {
    await this.db.run('INSERT INTO iam_group_members (account_id, group_name, user_name) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [accountId, groupName, userName]);
  }

  async removeUserFromGroup(accountId: string, groupName: string, userName: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM iam_group_members WHERE account_id = ? AND group_name = ? AND user_name = ?', [accountId, groupName, userName])).changes > 0;
  }

  async groupMembers(accountId: string, groupName: string): Promise<UserRow[]> {
    const rows = await this.db.all<Raw>(
      'SELECT u.* FROM iam_group_members m JOIN iam_users u ON u.account_id = m.account_id AND u.name = m.user_name WHERE m.account_id = ? AND m.group_name = ? ORDER BY u.name',
      [accountId, groupName],
    );
    return rows.map(toUser);
  }

  async groupsOfUser(accountId: string, userName: string): Promise<string[]> {
    const rows = await this.db.all<{ group_name: string }>('SELECT group_name FROM iam_group_members WHERE account_id = ? AND user_name = ? ORDER BY group_name', [accountId, userName]);
    return rows.map((r) => r.group_name);
  }

  // ---- roles ----------------------------------------------------------------------------------
  /** False if the account has a role of that name already (in any case). */
  async insertRole(r: RoleRow): Promise<boolean> {
    const { changes } = await this.db.run(
      `INSERT INTO iam_roles (account_id, name, role_id, arn, path, description, max_session_duration, assume_role_policy, tags, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [r.accountId, r.name, r.roleId, r.arn, r.path, r.description ?? null, r.maxSessionDuration, r.assumeRolePolicy, JSON.stringify(r.tags), r.createdAt],
    );
    return changes > 0;
  }

  async getRole(accountId: string, name: string): Promise<RoleRow | undefined> {
    const r = await this.db.get<Raw>('SELECT * FROM iam_roles WHERE account_id = ? AND name = ?', [accountId, name]);
    return r && toRole(r);
  }

  async getRoleByArn(arn: string): Promise<RoleRow | undefined> {
    const r = await this.db.get<Raw>('SELECT * FROM iam_roles WHERE arn = ?', [arn]);
    return r && toRole(r);
  }

  async listRoles(accountId: string): Promise<RoleRow[]> {
    return (await this.db.all<Raw>('SELECT * FROM iam_roles WHERE account_id = ? ORDER BY name', [accountId])).map(toRole);
  }

  /** Changes the settings given; false if there is no such role. */
  async updateRole(accountId: string, name: string, change: { description?: string; maxSessionDuration?: number; assumeRolePolicy?: string }): Promise<boolean> {
    const columns: Array<[string, string | number | undefined]> = [
      ['description', change.description],
      ['max_session_duration', change.maxSessionDuration],
      ['assume_role_policy', change.assumeRolePolicy],
    ];
    const given = columns.filter((c): c is [string, string | number] => c[1] !== undefined);
    const sets = given.map(([column]) => `${column} = ?`);
    const params = given.map(([, value]) => value);
    if (sets.length === 0) return (await this.getRole(accountId, name)) !== undefined;
    return (await this.db.run(`UPDATE iam_roles SET ${sets.join(', ')} WHERE account_id = ? AND name = ?`, [...params, accountId, name])).changes > 0;
  }

  /** Whether the role still has inline or attached policies. */
  async roleHasDependents(accountId: string, name: string): Promise<boolean> {
    return this.anyRow([
      ["SELECT 1 AS x FROM iam_inline_policies WHERE account_id = ? AND owner_kind = 'role' AND owner_name = ? LIMIT 1", [accountId, name]],
      ["SELECT 1 AS x FROM iam_attachments WHERE account_id = ? AND owner_kind = 'role' AND owner_name = ? LIMIT 1", [accountId, name]],
    ]);
  }

  async deleteRole(accountId: string, name: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM iam_roles WHERE account_id = ? AND name = ?', [accountId, name])).changes > 0;
  }

  // ---- inline policies -------------------------------------------------------------------------
  async putInlinePolicy(accountId: string, kind: OwnerKind, owner: string, policyName: string, document: string): Promise<void> {
    await this.db.run(
      'INSERT INTO iam_inline_policies (account_id, owner_kind, owner_name, policy_name, document) VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, owner_kind, owner_name, policy_name) DO UPDATE SET document = excluded.document',
      [accountId, kind, owner, policyName, document],
    );
  }

  async getInlinePolicy(accountId: string, kind: OwnerKind, owner: string, policyName: string): Promise<string | undefined> {
    const r = await this.db.get<{ document: string }>(
      'SELECT document FROM iam_inline_policies WHERE account_id = ? AND owner_kind = ? AND owner_name = ? AND policy_name = ?',
      [accountId, kind, owner, policyName],
    );
    return r?.document;
  }

  async listInlinePolicies(accountId: string, kind: OwnerKind, owner: string): Promise<Array<{ name: string; document: string }>> {
    const rows = await this.db.all<{ policy_name: string; document: string }>(
      'SELECT policy_name, document FROM iam_inline_policies WHERE account_id = ? AND owner_kind = ? AND owner_name = ? ORDER BY policy_name',
      [accountId, kind, owner],
    );
    return rows.map((r) => ({ name: r.policy_name, document: r.document }));
  }

  async deleteInlinePolicy(accountId: string, kind: OwnerKind, owner: string, policyName: string): Promise<boolean> {
    return (
      await this.db.run('DELETE FROM iam_inline_policies WHERE account_id = ? AND owner_kind = ? AND owner_name = ? AND policy_name = ?', [accountId, kind, owner, policyName])
    ).changes > 0;
  }

  // ---- customer managed policies ---------------------------------------------------------------
  /** Inserts the policy with `document` as its default version v1; false if the ARN or name is taken. */
  async insertPolicy(p: NewPolicyRow, document: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { changes } = await tx.run(
        `INSERT INTO iam_policies (arn, account_id, name, policy_id, path, description, default_version, next_version, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'v1', 2, ?, ?) ON CONFLICT DO NOTHING`,
        [p.arn, p.accountId, p.name, p.policyId, p.path, p.description, p.createdAt, p.createdAt],
      );
      if (changes === 0) return false;
      await tx.run('INSERT INTO iam_policy_versions (policy_arn, version_id, document, created_at) VALUES (?, ?, ?, ?)', [p.arn, 'v1', document, p.createdAt]);
      return true;
    });
  }

  async getPolicy(arn: string): Promise<ManagedPolicyRow | undefined> {
    const r = await this.db.get<Raw>(`SELECT ${POLICY_COLUMNS} FROM iam_policies p WHERE p.arn = ?`, [arn]);
    return r && toPolicy(r);
  }

  async listPolicies(accountId: string): Promise<ManagedPolicyRow[]> {
    return (await this.db.all<Raw>(`SELECT ${POLICY_COLUMNS} FROM iam_policies p WHERE p.account_id = ? ORDER BY p.name`, [accountId])).map(toPolicy);
  }

  async getPolicyVersion(arn: string, versionId: string): Promise<PolicyVersionRow | undefined> {
    const r = await this.db.get<Raw>(
      `SELECT ${VERSION_COLUMNS} FROM iam_policy_versions v JOIN iam_policies p ON p.arn = v.policy_arn WHERE v.policy_arn = ? AND v.version_id = ?`,
      [arn, versionId],
    );
    return r && toVersion(r);
  }

  async countPolicyVersions(arn: string): Promise<number> {
    return num((await this.db.get<Raw>('SELECT COUNT(*) AS n FROM iam_policy_versions WHERE policy_arn = ?', [arn]))?.n);
  }

  /** Adds the policy's next version (v2, v3, … never reused); returns its id. */
  async createPolicyVersion(arn: string, document: string, setAsDefault: boolean, now = Date.now()): Promise<string> {
    return this.db.transaction(async (tx) => {
      const r = await tx.get<Raw>('SELECT next_version FROM iam_policies WHERE arn = ?', [arn]);
      const versionId = `v${num(r?.next_version)}`;
      await tx.run('INSERT INTO iam_policy_versions (policy_arn, version_id, document, created_at) VALUES (?, ?, ?, ?)', [arn, versionId, document, now]);
      await tx.run(
        `UPDATE iam_policies SET next_version = next_version + 1, updated_at = ?${setAsDefault ? ', default_version = ?' : ''} WHERE arn = ?`,
        setAsDefault ? [now, versionId, arn] : [now, arn],
      );
      return versionId;
    });
  }

  /** Newest first. */
  async listPolicyVersions(arn: string): Promise<PolicyVersionRow[]> {
    const rows = await this.db.all<Raw>(
      `SELECT ${VERSION_COLUMNS} FROM iam_policy_versions v JOIN iam_policies p ON p.arn = v.policy_arn WHERE v.policy_arn = ? ORDER BY v.created_at DESC, v.version_id DESC`,
      [arn],
    );
    return rows.map(toVersion);
  }

  /** False if there is no such version. */
  async deletePolicyVersion(arn: string, versionId: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM iam_policy_versions WHERE policy_arn = ? AND version_id = ?', [arn, versionId])).changes > 0;
  }

  /** Makes an existing version the default; false if there is no such version. */
  async setDefaultPolicyVersion(arn: string, versionId: string, now = Date.now()): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      if (!(await tx.get('SELECT 1 AS one FROM iam_policy_versions WHERE policy_arn = ? AND version_id = ?', [arn, versionId]))) return false;
      await tx.run('UPDATE iam_policies SET default_version = ?, updated_at = ? WHERE arn = ?', [versionId, now, arn]);
      return true;
    });
  }

  async policyAttachmentCount(arn: string): Promise<number> {
    return num((await this.db.get<Raw>('SELECT COUNT(*) AS n FROM iam_attachments WHERE policy_arn = ?', [arn]))?.n);
  }

  async deletePolicy(arn: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await tx.run('DELETE FROM iam_policy_versions WHERE policy_arn = ?', [arn]);
      return (await tx.run('DELETE FROM iam_policies WHERE arn = ?', [arn])).changes > 0;
    });
  }

  /** The document of the policy's default version. */
  async defaultPolicyDocument(arn: string): Promise<string | undefined> {
    const r = await this.db.get<{ document: string }>(
      'SELECT v.document FROM iam_policies p JOIN iam_policy_versions v ON v.policy_arn = p.arn AND v.version_id = p.default_version WHERE p.arn = ?',
      [arn],
    );
    return r?.document;
  }

  // ---- attachments -----------------------------------------------------------------------------
  async attachPolicy(accountId: string, kind: OwnerKind, owner: string, policyArn: string): Promise<void> {
    await this.db.run('INSERT INTO iam_attachments (account_id, owner_kind, owner_name, policy_arn) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [
      accountId,
      kind,
      owner,
      policyArn,
    ]);
  }

  async detachPolicy(accountId: string, kind: OwnerKind, owner: string, policyArn: string): Promise<boolean> {
    return (
      await this.db.run('DELETE FROM iam_attachments WHERE account_id = ? AND owner_kind = ? AND owner_name = ? AND policy_arn = ?', [accountId, kind, owner, policyArn])
    ).changes > 0;
  }

  async attachedPolicies(accountId: string, kind: OwnerKind, owner: string): Promise<string[]> {
    const rows = await this.db.all<{ policy_arn: string }>(
      'SELECT policy_arn FROM iam_attachments WHERE account_id = ? AND owner_kind = ? AND owner_name = ? ORDER BY policy_arn',
      [accountId, kind, owner],
    );
    return rows.map((r) => r.policy_arn);
  }

  /** The account's users, groups and roles the policy is attached to, by kind and name. */
  async policyOwners(accountId: string, policyArn: string): Promise<Array<{ kind: OwnerKind; name: string }>> {
    const rows = await this.db.all<{ owner_kind: string; owner_name: string }>(
      'SELECT owner_kind, owner_name FROM iam_attachments WHERE account_id = ? AND policy_arn = ? ORDER BY owner_kind, owner_name',
      [accountId, policyArn],
    );
    return rows.map((r) => ({ kind: r.owner_kind as OwnerKind, name: r.owner_name }));
  }

  private async anyRow(queries: Array<[string, string[]]>): Promise<boolean> {
    for (const [sql, params] of queries) if (await this.db.get(sql, params)) return true;
    return false;
  }
}
