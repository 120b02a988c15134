import { S3Client } from '@aws-sdk/client-s3';

export interface S3ClientSettings {
  /** Endpoint of an S3-compatible service; unset means AWS S3 itself. */
  endpoint?: string;
  region: string;
  /** Path-style URLs (`endpoint/bucket/key`), which most S3-compatible services need. */
  forcePathStyle: boolean;
  /** Static credentials; unset means the standard AWS credential chain. */
  accessKeyId?: string;
  secretAccessKey?: string;
}

export function createS3Client(s: S3ClientSettings): S3Client {
  return new S3Client({
    endpoint: s.endpoint,
    region: s.region,
    forcePathStyle: s.forcePathStyle,
    credentials: s.accessKeyId && s.secretAccessKey ? { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey } : undefined,
    // Checksums only where S3 requires them: many S3-compatible services reject the newer ones.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
}
