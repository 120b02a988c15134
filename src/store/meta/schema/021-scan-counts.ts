/**
 * A scan's severity counts in a column of their own: DescribeImages shows only the counts, and
 * reading them out of the whole result (every finding, often megabytes of JSON) cost a parse per
 * image. Rows from before this column keep NULL and are read from the result once more.
 */
export const SCAN_COUNTS_SCHEMA = `
  ALTER TABLE image_scans ADD COLUMN finding_counts TEXT
  `;
