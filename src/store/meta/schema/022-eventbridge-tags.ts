/**
 * Tags on EventBridge resources (rules and the default event bus), one row per key, so that
 * concurrent TagResource calls each set their own keys.
 */
export const EVENTBRIDGE_TAGS_SCHEMA = `
  CREATE TABLE eb_tags (
    account_id TEXT NOT NULL,
    resource_arn TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (account_id, resource_arn, tag_key)
  );
  `;
