/**
 * Image scanning: the vulnerability database (OSV records, indexed by the packages they affect),
 * the per-layer cache of detected packages, and each image's latest scan with its findings.
 */
export const SCANNING_SCHEMA = `
  CREATE TABLE vuln_records (
    id TEXT PRIMARY KEY,
    modified BIGINT NOT NULL,
    source TEXT NOT NULL,
    body TEXT NOT NULL,
    imported_at BIGINT NOT NULL
  );
  CREATE TABLE vuln_affected (
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    vuln_id TEXT NOT NULL REFERENCES vuln_records(id) ON DELETE CASCADE,
    PRIMARY KEY (ecosystem, name, vuln_id)
  );
  CREATE INDEX vuln_affected_vuln ON vuln_affected (vuln_id);
  CREATE TABLE scan_layers (
    digest TEXT NOT NULL,
    analyzer INTEGER NOT NULL,
    facts TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (digest, analyzer)
  );
  CREATE TABLE image_scans (
    repo_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    status TEXT NOT NULL,
    description TEXT,
    scan_type TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    completed_at BIGINT,
    vuln_source_updated_at BIGINT,
    result TEXT,
    PRIMARY KEY (repo_id, digest),
    FOREIGN KEY (repo_id, digest) REFERENCES manifests(repo_id, digest) ON DELETE CASCADE
  );
  `;
