/**
 * Uploads carry their running hash state (so another node can continue the hash) and the append
 * claim that keeps two nodes from writing one upload at once; named claims serialize other work
 * across nodes (the commit of one digest).
 */
export const CLAIMS_SCHEMA = `
  ALTER TABLE uploads ADD COLUMN hash_state {bytes};
  ALTER TABLE uploads ADD COLUMN appender TEXT;
  ALTER TABLE uploads ADD COLUMN append_until BIGINT;
  CREATE TABLE claims (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until BIGINT NOT NULL
  )
`;
