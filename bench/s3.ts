// S3 for the benchmark: one Ceph RADOS Gateway on loopback (the tests' harness), with a bucket for
// each server made up front (Distribution 2.8 does not create its bucket).
import { spawnSync } from 'node:child_process';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { startRgw } from '../test/helpers/rgw.js';
import type { S3Storage } from './servers.js';

export interface BenchS3 {
  endpoint: string;
  version: string;
  /** Credentials and endpoint, without a bucket. */
  storage: Omit<S3Storage, 'bucket'>;
  buckets: string[];
  stop(): Promise<void>;
}

export async function startS3(buckets: string[]): Promise<BenchS3> {
  const rgw = await startRgw();
  try {
    const storage = { endpoint: rgw.endpoint, region: rgw.region, accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey };
    const client = new S3Client({ ...storage, forcePathStyle: true, credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey } });
    try {
      for (const Bucket of buckets) await client.send(new CreateBucketCommand({ Bucket }));
    } finally {
      client.destroy();
    }
    const version = (spawnSync('radosgw', ['--version'], { encoding: 'utf8' }).stdout.match(/ceph version (\S+)/)?.[1] ?? '?').replace(/^/, 'Ceph ');
    return { endpoint: rgw.endpoint, version, storage, buckets, stop: () => rgw.stop() };
  } catch (e) {
    await rgw.stop();
    throw e;
  }
}
