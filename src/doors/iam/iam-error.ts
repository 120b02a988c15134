/** An IAM/STS query-API error: its code, HTTP status and message. */
export class IamError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export const noSuchEntity = (message: string) => new IamError('NoSuchEntity', message, 404);
export const alreadyExists = (message: string) => new IamError('EntityAlreadyExists', message, 409);
export const deleteConflict = (message: string) => new IamError('DeleteConflict', message, 409);
export const validationError = (message: string) => new IamError('ValidationError', message, 400);
