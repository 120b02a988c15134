/** Lifecycle runs, previews and garbage collection state. */
export const LIFECYCLE_SCHEMA = `
  CREATE TABLE lifecycle_previews (
    repo_id TEXT PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,
    policy_text TEXT NOT NULL,
    status TEXT NOT NULL,
    results TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    completed_at BIGINT
  );
  CREATE TABLE lifecycle_events (
    id TEXT PRIMARY KEY,
    registry_id TEXT NOT NULL,
    repository_name TEXT NOT NULL,
    digest TEXT NOT NULL,
    tags TEXT NOT NULL,
    rule_priority INTEGER,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX lifecycle_events_repository ON lifecycle_events (registry_id, repository_name, created_at);
  CREATE TABLE gc_orphan_files (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    PRIMARY KEY (kind, name)
  );
  `;
