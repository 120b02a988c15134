/**
 * The vulnerability database's age is its newest record's `modified` (what findings report as
 * `vulnerabilitySourceUpdatedAt`); every scan asks for it, so MAX(modified) reads an index, not
 * every record.
 */
export const SCAN_FRESHNESS_SCHEMA = `
  CREATE INDEX vuln_records_modified ON vuln_records (modified)
  `;
