/** A CloudTrail exception, rendered as `{"__type": name, "message": ...}`. */
export class CloudTrailError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}
