/** Periodic work is enqueued as jobs now (one per interval, deduplicated); the leases went with it. */
export const DROP_LEASES_SCHEMA = `
  DROP TABLE IF EXISTS leases
  `;
