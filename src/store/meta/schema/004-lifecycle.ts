/** Lifecycle runs, previews and garbage collection state. */
export const LIFECYCLE_SCHEMA = ``;
