/** ECR-only state beyond the core tables. */
export const ECR_SCHEMA = ``;
