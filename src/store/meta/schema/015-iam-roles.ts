/**
 * IAM roles: their trust (assume-role) policy and settings. Their inline policies and managed
 * policy attachments live in iam_inline_policies and iam_attachments with owner_kind 'role'.
 * Role names are unique in an account regardless of case, as in IAM.
 */
export const IAM_ROLES_SCHEMA = `
  CREATE TABLE iam_roles (
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    role_id TEXT NOT NULL UNIQUE,
    arn TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    description TEXT,
    max_session_duration INTEGER NOT NULL,
    assume_role_policy TEXT NOT NULL,
    tags TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, name)
  );
  CREATE UNIQUE INDEX iam_roles_name_any_case ON iam_roles (account_id, lower(name))
  `;
