/**
 * A request whose credentials could not be verified. `code` is AWS's name for the failure
 * (e.g. `InvalidSignatureException`); each door renders it in its protocol.
 */
export class AuthenticationError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}
