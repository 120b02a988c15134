/** A KMS exception by its AWS name (NotFoundException, DisabledException, KMSInvalidStateException, …). */
export class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }

  /** HTTP status: KMS answers 400 for everything but its internal errors. */
  get status(): number {
    return this.type === 'KMSInternalException' ? 500 : 400;
  }
}
