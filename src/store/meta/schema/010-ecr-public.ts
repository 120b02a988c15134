/**
 * ECR Public registries: one per account that uses ECR Public, with its registry alias (unique
 * across accounts: anonymous pulls find the account by it) and its catalog data. Public
 * repositories themselves are rows of `repositories` in the account's public namespace.
 */
export const ECR_PUBLIC_SCHEMA = `
  CREATE TABLE public_registries (
    account_id TEXT PRIMARY KEY,
    alias TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
  )
  `;
