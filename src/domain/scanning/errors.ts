/**
 * What can go wrong in scanning, in its own words; the ECR door renders each kind as ECR's
 * exception. A scan that fails keeps its reason as the scan status description.
 */
export type ScanErrorKind =
  | 'ScanNotFound'
  | 'LimitExceeded'
  | 'UnsupportedImageType'
  | 'ImageNotFound'
  | 'InvalidLayer'
  | 'InvalidRecord'
  | 'InvalidParameter'
  | 'Validation';

export class ScanError extends Error {
  constructor(
    readonly kind: ScanErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export function isScanError(e: unknown, kind?: ScanErrorKind): e is ScanError {
  return e instanceof ScanError && (kind === undefined || e.kind === kind);
}
