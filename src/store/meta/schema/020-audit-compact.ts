/**
 * The audit trail stores what a call's CloudTrail record is made of rather than the record itself:
 * the record is built when it is read (LookupEvents, `berth admin audit`), which keeps the work on
 * the request path to a few short columns. Rows written before this migration keep their record;
 * rows written since have an empty `record` and these columns (`principal_arn` NULL: anonymous).
 */
export const AUDIT_COMPACT_SCHEMA = `
  ALTER TABLE audit_events ADD COLUMN request_id TEXT;
  ALTER TABLE audit_events ADD COLUMN principal_arn TEXT;
  ALTER TABLE audit_events ADD COLUMN principal_account TEXT;
  ALTER TABLE audit_events ADD COLUMN principal_id TEXT;
  ALTER TABLE audit_events ADD COLUMN source_ip TEXT;
  ALTER TABLE audit_events ADD COLUMN user_agent TEXT;
  ALTER TABLE audit_events ADD COLUMN request_parameters TEXT;
  ALTER TABLE audit_events ADD COLUMN response_elements TEXT;
  ALTER TABLE audit_events ADD COLUMN error_code TEXT;
  ALTER TABLE audit_events ADD COLUMN error_message TEXT;
  ALTER TABLE audit_events ADD COLUMN recipient_account_id TEXT;
  ALTER TABLE audit_events ADD COLUMN region TEXT
  `;
