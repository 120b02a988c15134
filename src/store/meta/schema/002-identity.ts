/** Users, access keys, groups, policies. */
export const IDENTITY_SCHEMA = ``;
