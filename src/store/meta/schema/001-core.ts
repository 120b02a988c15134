/** Repositories, blobs and their links, manifests, tags, uploads. */
export const CORE_SCHEMA = `
  CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}'
  );
  CREATE TABLE repositories (
    id TEXT PRIMARY KEY,
    registry_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    UNIQUE (registry_id, name)
  );
  CREATE TABLE blobs (
    digest TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE repo_blobs (
    repo_id TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    digest TEXT NOT NULL REFERENCES blobs(digest),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (repo_id, digest)
  );
  CREATE INDEX repo_blobs_digest ON repo_blobs (digest);
  CREATE TABLE manifests (
    repo_id TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    media_type TEXT NOT NULL,
    artifact_type TEXT,
    config_media_type TEXT,
    subject TEXT,
    annotations TEXT,
    size BIGINT NOT NULL,
    layers_size BIGINT NOT NULL,
    body {bytes} NOT NULL,
    pushed_at BIGINT NOT NULL,
    last_pulled_at BIGINT,
    PRIMARY KEY (repo_id, digest)
  );
  CREATE INDEX manifests_subject ON manifests (repo_id, subject);
  CREATE TABLE manifest_refs (
    repo_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    child TEXT NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (repo_id, digest, child),
    FOREIGN KEY (repo_id, digest) REFERENCES manifests(repo_id, digest) ON DELETE CASCADE
  );
  CREATE INDEX manifest_refs_child ON manifest_refs (child);
  CREATE TABLE tags (
    repo_id TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    digest TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (repo_id, name),
    FOREIGN KEY (repo_id, digest) REFERENCES manifests(repo_id, digest) ON DELETE CASCADE
  );
  CREATE INDEX tags_digest ON tags (repo_id, digest);
  CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    repo_id TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE TABLE kv (
    k TEXT PRIMARY KEY,
    v TEXT NOT NULL
  );
  `;
