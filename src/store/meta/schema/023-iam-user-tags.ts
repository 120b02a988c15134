/** IAM users' tags (a JSON list of {Key, Value}, as roles keep theirs); NULL for users from before. */
export const IAM_USER_TAGS_SCHEMA = `
  ALTER TABLE iam_users ADD COLUMN tags TEXT
  `;
