/**
 * Usage metering. `usage_hours` holds one row per repository and hour (epoch ms of the hour's
 * start, UTC): storage as byte-hours (integrated between samples), the bytes held at the hour's
 * latest sample, and the transfer-out, push and pull counters, all added to by upserts so any
 * number of nodes can write them. `usage_storage_marks` is each repository's latest storage sample,
 * where the next integration starts.
 */
export const USAGE_SCHEMA = `
  CREATE TABLE usage_hours (
    registry_id TEXT NOT NULL,
    region TEXT NOT NULL,
    repository_name TEXT NOT NULL,
    hour BIGINT NOT NULL,
    storage_byte_hours DOUBLE PRECISION NOT NULL DEFAULT 0,
    storage_bytes BIGINT,
    storage_sampled_at BIGINT,
    transfer_out_bytes BIGINT NOT NULL DEFAULT 0,
    push_count BIGINT NOT NULL DEFAULT 0,
    pull_count BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (registry_id, region, repository_name, hour)
  );
  CREATE INDEX usage_hours_hour ON usage_hours (hour);
  CREATE TABLE usage_storage_marks (
    registry_id TEXT NOT NULL,
    region TEXT NOT NULL,
    repository_name TEXT NOT NULL,
    sampled_at BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    PRIMARY KEY (registry_id, region, repository_name)
  );
  `;
