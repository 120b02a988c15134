import type { AuthzDenial } from '../../iam/decision.js';

/** An ECR Public (or common AWS) exception, rendered as `{"__type": name, "message": ...}`. */
export class EcrPublicError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A constraint of the model that the input breaks, in ECR's words. */
export function invalidParameter(field: string, reason: string): EcrPublicError {
  return new EcrPublicError('InvalidParameterException', `Invalid parameter at '${field}' failed to satisfy constraint: '${reason}'`);
}

export function accessDenied(denial: AuthzDenial): EcrPublicError {
  return new EcrPublicError('AccessDeniedException', denial.message);
}
