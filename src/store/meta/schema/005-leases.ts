/** Leases: which node runs a periodic background task (lifecycle, garbage collection) right now. */
export const LEASES_SCHEMA = `
  CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
  );
  `;
