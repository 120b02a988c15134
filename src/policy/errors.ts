/** A policy document that does not follow the IAM policy grammar. `message` says what is wrong. */
export class PolicyValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyValidationError';
  }
}
