import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startLocalS3 } from '../../test/s3.js';
import { loadConfig } from '../config.js';
import { newInstanceId } from './keys.js';
import { LocalStorage } from './local.js';
import { S3Storage } from './s3.js';
import { describeStorageContract } from './storage.contract.js';

const instance = newInstanceId();

describeStorageContract('local', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cabinet-storage-'));
  return {
    driver: new LocalStorage(root, { instance }),
    instance,
    countTemp: async () => (await fs.readdir(path.join(root, 'tmp'))).length,
    cutRounds: 1000,
    close: () => fs.rm(root, { recursive: true, force: true }),
  };
});

describeStorageContract('s3 (s3rver)', async () => {
  const s3 = await startLocalS3();
  const config = loadConfig(s3.env);
  if (config.storage.kind !== 's3') throw new Error('expected s3 config');
  const driver = new S3Storage(config.storage, { instance });
  const client = new S3Client({
    region: config.storage.region,
    endpoint: s3.env.S3_ENDPOINT,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  return {
    driver,
    instance,
    countTemp: async () => {
      const res = await client.send(
        new ListObjectsV2Command({ Bucket: s3.env.S3_BUCKET, Prefix: 'tmp/' }),
      );
      return res.KeyCount ?? 0;
    },
    close: async () => {
      driver.destroy();
      client.destroy();
      await s3.close();
    },
  };
});
