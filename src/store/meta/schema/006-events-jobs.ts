/**
 * The event outbox and the job queue. `{serial}` is an auto-incrementing integer primary key: the
 * outbox's order, and the jobs' tie-breaker after run_after.
 */
export const EVENTS_JOBS_SCHEMA = `
  CREATE TABLE events (
    seq {serial},
    event_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    registry_id TEXT NOT NULL,
    repository_name TEXT NOT NULL,
    digest TEXT,
    tag TEXT,
    detail TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX events_type ON events (type, seq);
  CREATE TABLE jobs (
    id {serial},
    kind TEXT NOT NULL,
    dedupe_key TEXT UNIQUE,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    run_after BIGINT NOT NULL,
    claimed_by TEXT,
    lease_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE INDEX jobs_claimable ON jobs (status, run_after, id);
  CREATE INDEX jobs_kind ON jobs (kind, status);
  CREATE INDEX jobs_finished ON jobs (status, updated_at);
  `;
