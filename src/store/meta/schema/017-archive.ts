/**
 * ECR's archive storage class. An image is ACTIVE (standard storage, pullable) or ARCHIVED
 * (archive storage, listed and described but not pullable); `last_archived_at` and
 * `last_activated_at` are when it last went into the archive and last came back (epoch ms).
 */
export const ARCHIVE_SCHEMA = `
  ALTER TABLE manifests ADD COLUMN image_status TEXT NOT NULL DEFAULT 'ACTIVE';
  ALTER TABLE manifests ADD COLUMN last_archived_at BIGINT;
  ALTER TABLE manifests ADD COLUMN last_activated_at BIGINT
  `;
