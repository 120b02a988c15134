/**
 * EventBridge rules on the default event bus, their targets, and the connections and API
 * destinations targets deliver to. Deliveries themselves are jobs (kind `eventbridge.deliver`).
 */
export const EVENTBRIDGE_SCHEMA = `
  CREATE TABLE eb_connections (
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    arn TEXT NOT NULL,
    description TEXT,
    authorization_type TEXT NOT NULL,
    auth TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, name)
  );
  CREATE TABLE eb_api_destinations (
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    arn TEXT NOT NULL,
    description TEXT,
    connection_arn TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    http_method TEXT NOT NULL,
    rate_limit INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, name)
  );
  CREATE TABLE eb_rules (
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    arn TEXT NOT NULL,
    event_pattern TEXT NOT NULL,
    state TEXT NOT NULL,
    description TEXT,
    role_arn TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, name)
  );
  CREATE TABLE eb_targets (
    account_id TEXT NOT NULL,
    rule_name TEXT NOT NULL,
    target_id TEXT NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (account_id, rule_name, target_id)
  );
  `;
