/** A KMS exception by its AWS name (NotFoundException, DisabledException, KMSInvalidStateException, …). */
export class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }

  /** HTTP status: KMS answers 400 for everything but its internal errors and a dry run's answer. */
  get status(): number {
    if (this.type === 'KMSInternalException') return 500;
    return this.type === 'DryRunOperationException' ? 412 : 400;
  }
}
