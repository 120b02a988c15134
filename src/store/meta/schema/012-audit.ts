/**
 * The audit trail: one row per recorded API call, its CloudTrail record as JSON beside the
 * columns LookupEvents filters on. Rows are listed newest first, by (event_time, event_id).
 */
export const AUDIT_SCHEMA = `
  CREATE TABLE audit_events (
    event_id TEXT PRIMARY KEY,
    event_time BIGINT NOT NULL,
    event_name TEXT NOT NULL,
    event_source TEXT NOT NULL,
    username TEXT,
    access_key_id TEXT,
    read_only INTEGER NOT NULL,
    resource_type TEXT,
    resource_name TEXT,
    record TEXT NOT NULL
  );
  CREATE INDEX audit_events_time ON audit_events (event_time, event_id);
  CREATE INDEX audit_events_name ON audit_events (event_name, event_time);
  CREATE INDEX audit_events_user ON audit_events (username, event_time);
  CREATE INDEX audit_events_resource ON audit_events (resource_name, event_time);
  `;
