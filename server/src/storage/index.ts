import { LocalStorage } from './local.js';
import { S3Storage, type S3StorageConfig } from './s3.js';
import type { DriverOptions, StorageDriver } from './storage.js';

export type { StorageDriver } from './storage.js';

export type StorageConfig = { kind: 'local'; filesDir: string } | S3StorageConfig;

export function createStorage(config: StorageConfig, options: DriverOptions = {}): StorageDriver {
  return config.kind === 's3'
    ? new S3Storage(config, options)
    : new LocalStorage(config.filesDir, options);
}
