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
