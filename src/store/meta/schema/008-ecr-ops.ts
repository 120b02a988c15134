/** Repository creation templates and pull-time update exclusions, per registry (account). */
export const ECR_OPS_SCHEMA = `
  CREATE TABLE creation_templates (
    registry_id TEXT NOT NULL,
    prefix TEXT NOT NULL,
    template TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (registry_id, prefix)
  );
  CREATE TABLE pull_time_exclusions (
    registry_id TEXT NOT NULL,
    principal_arn TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (registry_id, principal_arn)
  );
  `;
