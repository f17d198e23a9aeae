import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError } from '../errors.js';
import { assertBlobKey, assertTempKey, isBlobKey, isTempKey, newTempKey } from './keys.js';
import { HashMeter } from '../streams/hash-meter.js';
import type * as driver from './storage.js';

export interface S3StorageConfig {
  kind: 's3';
  bucket: string;
  region: string;
  /** Any S3-compatible endpoint (MinIO, Ceph RGW, R2); omitted for AWS itself. */
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

const TEMP_PREFIX = 'tmp/';
const BLOB_PREFIX = 'blobs/';
// 8 MiB parts, two in flight: at most ~16 MiB of an upload is in memory at a time, whatever its
// size, and 10,000 parts reach 80 GiB, above any sensible MAX_UPLOAD_BYTES.
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;

/**
 * Blobs in an S3-compatible bucket under `blobs/<sha256>`, temp uploads under `tmp/<key>`. Only
 * operations every S3-compatible store implements are used (multipart upload, copy, ranged get,
 * head, delete, list v2), so MinIO, Ceph RGW, Cloudflare R2 and AWS S3 all work; object keys come
 * only from validated hex keys.
 */
export class S3Storage implements driver.StorageDriver {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #instance: string | null;

  constructor(config: S3StorageConfig, options: driver.DriverOptions = {}) {
    this.#bucket = config.bucket;
    this.#instance = options.instance ?? null;
    this.#client = new S3Client({
      region: config.region,
      // Path-style addressing, and checksums only where S3 requires them: since early 2025 the
      // SDK adds CRC32 checksums (aws-chunked trailers) to every upload by default, which several
      // S3-compatible stores (older MinIO and Ceph RGW, R2 in some paths) reject. AWS itself
      // keeps the SDK's defaults.
      ...(config.endpoint
        ? {
            endpoint: config.endpoint,
            forcePathStyle: true,
            requestChecksumCalculation: 'WHEN_REQUIRED' as const,
            responseChecksumValidation: 'WHEN_REQUIRED' as const,
          }
        : {}),
      ...(config.accessKeyId && config.secretAccessKey
        ? {
            credentials: {
              accessKeyId: config.accessKeyId,
              secretAccessKey: config.secretAccessKey,
            },
          }
        : {}),
    });
  }

  #tempObject(tempKey: string): string {
    assertTempKey(tempKey);
    return TEMP_PREFIX + tempKey;
  }

  #blobObject(sha256: string): string {
    assertBlobKey(sha256);
    return BLOB_PREFIX + sha256;
  }

  async putTemp(body: Readable, options: driver.PutOptions): Promise<driver.TempObject> {
    const tempKey = newTempKey(this.#instance);
    const meter = new HashMeter(options.maxBytes, PART_SIZE);
    const out = new PassThrough({ highWaterMark: PART_SIZE });
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: this.#bucket, Key: this.#tempObject(tempKey), Body: out },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    const uploaded = upload.done();
    // Observed so an early failure of the upload is not an unhandled rejection while the body
    // is still streaming; it is awaited below.
    uploaded.catch(() => undefined);
    try {
      await pipeline(body, meter, out);
      await uploaded;
    } catch (err) {
      await upload.abort().catch(() => undefined);
      // A single-part upload may have completed before the failure was noticed.
      await this.discardTemp(tempKey).catch(() => undefined);
      throw err;
    }
    return { tempKey, ...meter.result() };
  }

  async commit(tempKey: string, sha256: string): Promise<void> {
    const from = this.#tempObject(tempKey);
    if (!(await this.exists(sha256))) {
      await this.#client.send(
        new CopyObjectCommand({
          Bucket: this.#bucket,
          Key: this.#blobObject(sha256),
          CopySource: `${this.#bucket}/${from}`,
        }),
      );
    }
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: from }));
  }

  async discardTemp(tempKey: string): Promise<void> {
    await this.#client.send(
      new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#tempObject(tempKey) }),
    );
  }

  async read(sha256: string, range?: driver.ByteRange): Promise<Readable> {
    try {
      const res = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.#bucket,
          Key: this.#blobObject(sha256),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      if (!(res.Body instanceof Readable)) throw new Error('S3 returned no readable body');
      return res.Body;
    } catch (err) {
      if (isMissing(err)) throw new NotFoundError('The file content is missing.');
      throw err;
    }
  }

  async exists(sha256: string): Promise<boolean> {
    try {
      await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#blobObject(sha256) }),
      );
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  async delete(sha256: string): Promise<void> {
    await this.#client.send(
      new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#blobObject(sha256) }),
    );
  }

  async *listTemp(): AsyncIterable<driver.TempListing> {
    for await (const object of this.#list(TEMP_PREFIX)) {
      const key = object.Key?.slice(TEMP_PREFIX.length) ?? '';
      if (!isTempKey(key)) continue;
      yield { tempKey: key, modifiedAt: object.LastModified?.getTime() ?? Date.now() };
    }
  }

  async *listBlobs(): AsyncIterable<driver.BlobListing> {
    for await (const object of this.#list(BLOB_PREFIX)) {
      const key = object.Key?.slice(BLOB_PREFIX.length) ?? '';
      if (isBlobKey(key)) yield { sha256: key, size: object.Size ?? 0 };
    }
  }

  /** Objects under `prefix`, one ListObjectsV2 page (up to 1,000 keys) at a time. */
  async *#list(
    prefix: string,
  ): AsyncIterable<{ Key?: string; LastModified?: Date; Size?: number }> {
    let token: string | undefined;
    do {
      const page = await this.#client.send(
        new ListObjectsV2Command({
          Bucket: this.#bucket,
          Prefix: prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      yield* page.Contents ?? [];
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Closes the client's sockets (tests start and stop many drivers). */
  destroy(): void {
    this.#client.destroy();
  }
}

function isMissing(err: unknown): boolean {
  return (
    err instanceof NoSuchKey ||
    err instanceof NotFound ||
    (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404)
  );
}
