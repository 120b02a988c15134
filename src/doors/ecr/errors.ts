import type { AuthzDenial } from '../../iam/decision.js';

/** An ECR (or common AWS) exception, rendered as `{"__type": name, "message": ...}`. */
export class EcrError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function invalidParameter(message: string): EcrError {
  return new EcrError('InvalidParameterException', message);
}

/** A denial as ECR reports it. */
export function accessDenied(denial: AuthzDenial): EcrError {
  return new EcrError('AccessDeniedException', denial.message, 400);
}
