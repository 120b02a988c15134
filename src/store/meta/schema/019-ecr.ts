/**
 * Archive storage in usage metering: ECR bills images in the archive storage class apart from
 * standard storage. Each hour row keeps the archive's byte-hours and the archive bytes of its
 * latest sample beside the standard ones (`storage_*`, which from now on count standard storage
 * only); each storage mark keeps the archive bytes of the repository's latest sample.
 */
export const USAGE_ARCHIVE_SCHEMA = `
  ALTER TABLE usage_hours ADD COLUMN archive_storage_byte_hours DOUBLE PRECISION NOT NULL DEFAULT 0;
  ALTER TABLE usage_hours ADD COLUMN archive_storage_bytes BIGINT;
  ALTER TABLE usage_storage_marks ADD COLUMN archive_bytes BIGINT NOT NULL DEFAULT 0
  `;
