/**
 * KMS keys (their material wrapped by the master key, one row per rotation), aliases, and the
 * data keys of encrypted blobs, each wrapped once per key that needs it.
 */
export const KMS_SCHEMA = `
  CREATE TABLE kms_keys (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    description TEXT NOT NULL,
    key_usage TEXT NOT NULL,
    key_spec TEXT NOT NULL,
    origin TEXT NOT NULL,
    key_manager TEXT NOT NULL,
    state TEXT NOT NULL,
    policy TEXT NOT NULL,
    tags TEXT NOT NULL,
    rotation_enabled INTEGER NOT NULL,
    deletion_date BIGINT,
    pending_window_days INTEGER,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX kms_keys_by_account ON kms_keys (account_id, region, id);
  CREATE TABLE kms_key_versions (
    key_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    material {bytes} NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (key_id, version)
  );
  CREATE TABLE kms_aliases (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    key_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, name)
  );
  CREATE TABLE blob_data_keys (
    digest TEXT NOT NULL,
    wrapping_key TEXT NOT NULL,
    wrapped {bytes} NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (digest, wrapping_key)
  )
  `;
