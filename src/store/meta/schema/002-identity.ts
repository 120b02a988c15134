/** Users, access keys, groups, inline and managed policies, and their attachments. */
export const IDENTITY_SCHEMA = `
  CREATE TABLE iam_users (
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    user_id TEXT NOT NULL UNIQUE,
    arn TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, name)
  );
  CREATE TABLE iam_access_keys (
    id TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    account_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX iam_access_keys_user ON iam_access_keys (account_id, user_name);
  CREATE TABLE iam_groups (
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    group_id TEXT NOT NULL UNIQUE,
    arn TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, name)
  );
  CREATE TABLE iam_group_members (
    account_id TEXT NOT NULL,
    group_name TEXT NOT NULL,
    user_name TEXT NOT NULL,
    PRIMARY KEY (account_id, group_name, user_name)
  );
  CREATE INDEX iam_group_members_user ON iam_group_members (account_id, user_name);
  CREATE TABLE iam_inline_policies (
    account_id TEXT NOT NULL,
    owner_kind TEXT NOT NULL,
    owner_name TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (account_id, owner_kind, owner_name, policy_name)
  );
  CREATE TABLE iam_policies (
    arn TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    policy_id TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    default_version TEXT NOT NULL,
    next_version INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (account_id, name)
  );
  CREATE TABLE iam_policy_versions (
    policy_arn TEXT NOT NULL,
    version_id TEXT NOT NULL,
    document TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (policy_arn, version_id)
  );
  CREATE TABLE iam_attachments (
    account_id TEXT NOT NULL,
    owner_kind TEXT NOT NULL,
    owner_name TEXT NOT NULL,
    policy_arn TEXT NOT NULL,
    PRIMARY KEY (account_id, owner_kind, owner_name, policy_arn)
  );
  CREATE INDEX iam_attachments_policy ON iam_attachments (policy_arn)
  `;
