import { LocalStorage } from './local.js';
import type { S3StorageConfig } from './s3.js';
import type { DriverOptions, StorageDriver } from './storage.js';

export type { StorageDriver } from './storage.js';

export type StorageConfig = { kind: 'local'; filesDir: string } | S3StorageConfig;

/**
 * The configured driver. The S3 driver, and with it the AWS SDK (a quarter of the server's code),
 * is loaded only when configured: a server on local storage starts without compiling it.
 */
export async function createStorage(
  config: StorageConfig,
  options: DriverOptions = {},
): Promise<StorageDriver> {
  if (config.kind !== 's3') return new LocalStorage(config.filesDir, options);
  const { S3Storage } = await import('./s3.js');
  return new S3Storage(config, options);
}
