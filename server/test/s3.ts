import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

export interface LocalS3 {
  /** The environment that points Cabinet at this endpoint (STORAGE=s3 and the S3_* variables). */
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * An S3-compatible endpoint on a random port, backed by a temp folder. s3rver is a stand-in for
 * tests only: it speaks the S3 subset Cabinet uses (multipart upload, copy, ranged get, head,
 * delete, list v2), as MinIO, Ceph RGW, R2 and AWS do.
 */
export async function startLocalS3(bucket = 'cabinet'): Promise<LocalS3> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'cabinet-s3-'));
  const s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await s3.run();
  return {
    env: {
      STORAGE: 's3',
      S3_ENDPOINT: `http://127.0.0.1:${port}`,
      S3_BUCKET: bucket,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
    },
    async close() {
      await s3.close();
      await fs.rm(directory, { recursive: true, force: true });
    },
  };
}
