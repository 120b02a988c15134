/**
 * Uploads carry their running hash state (so another node can continue the hash) and the append
 * lease that keeps two nodes from writing the same upload at once.
 */
export const UPLOAD_APPENDS_SCHEMA = `
  ALTER TABLE uploads ADD COLUMN hash_state {bytes};
  ALTER TABLE uploads ADD COLUMN appender TEXT;
  ALTER TABLE uploads ADD COLUMN append_until BIGINT
`;
