import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError } from '../errors.js';
import * as keys from './keys.js';
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
const DERIVED_PREFIX = 'derived/';
// 8 MiB parts, two in flight: at most ~16 MiB of an upload is in memory at a time, whatever its
// size, and 10,000 parts reach 80 GiB, above any sensible MAX_UPLOAD_BYTES.
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;
// S3 refuses parts under 5 MiB except the last: appends that leave less wait in the partial
// object's state (the tail) until enough arrives or the object completes.
const MIN_PART = 5 * 1024 * 1024;

/** A partial object's state: its multipart upload, the parts sent, the bytes not sent yet. */
interface PartialState {
  uploadId: string;
  parts: { PartNumber: number; ETag: string }[];
  /** Base64 of bytes appended but not yet sent as a part (under MIN_PART). */
  tail: string;
}

function readPartialState(partial: driver.PartialObject): PartialState {
  const state = JSON.parse(partial.state) as PartialState;
  if (typeof state.uploadId !== 'string' || !Array.isArray(state.parts)) {
    throw new Error('not an S3 partial object state');
  }
  return state;
}

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
    keys.assertTempKey(tempKey);
    return TEMP_PREFIX + tempKey;
  }

  #blobObject(sha256: string): string {
    keys.assertBlobKey(sha256);
    return BLOB_PREFIX + sha256;
  }

  async putTemp(body: Readable, options: driver.PutOptions): Promise<driver.TempObject> {
    const tempKey = keys.newTempKey(this.#instance);
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

  // A partial object is a multipart upload to the temp key: the parts sent so far are the bytes
  // up to the kept offset (less the tail), and part numbers follow the kept list, so an append
  // retried after a failure or a crash sends the same part number again and replaces it.
  async createPartial(): Promise<driver.PartialObject> {
    const tempKey = keys.newTempKey(this.#instance);
    const res = await this.#client.send(
      new CreateMultipartUploadCommand({ Bucket: this.#bucket, Key: this.#tempObject(tempKey) }),
    );
    if (!res.UploadId) throw new Error('S3 returned no upload id');
    const state: PartialState = { uploadId: res.UploadId, parts: [], tail: '' };
    return { tempKey, size: 0, state: JSON.stringify(state) };
  }

  async appendPartial(partial: driver.PartialObject, bytes: Buffer): Promise<driver.PartialObject> {
    const state = readPartialState(partial);
    const pending = Buffer.concat([Buffer.from(state.tail, 'base64'), bytes]);
    let next: PartialState = { ...state, tail: pending.toString('base64') };
    if (pending.length >= MIN_PART) {
      const part = await this.#sendPart(partial.tempKey, state, pending);
      next = { ...state, parts: [...state.parts, part], tail: '' };
    }
    return { ...partial, size: partial.size + bytes.length, state: JSON.stringify(next) };
  }

  async #sendPart(tempKey: string, state: PartialState, body: Buffer) {
    const PartNumber = state.parts.length + 1;
    const res = await this.#client.send(
      new UploadPartCommand({
        Bucket: this.#bucket,
        Key: this.#tempObject(tempKey),
        UploadId: state.uploadId,
        PartNumber,
        Body: body,
      }),
    );
    if (!res.ETag) throw new Error('S3 returned no ETag for a part');
    return { PartNumber, ETag: res.ETag };
  }

  async completePartial(partial: driver.PartialObject): Promise<void> {
    const state = readPartialState(partial);
    const tail = Buffer.from(state.tail, 'base64');
    const Key = this.#tempObject(partial.tempKey);
    if (state.parts.length === 0) {
      // Small enough for one request; the empty multipart upload is given up.
      await this.#client.send(new PutObjectCommand({ Bucket: this.#bucket, Key, Body: tail }));
      await this.#abort(Key, state.uploadId);
      return;
    }
    const parts = tail.length
      ? [...state.parts, await this.#sendPart(partial.tempKey, state, tail)]
      : state.parts;
    await this.#client.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.#bucket,
        Key,
        UploadId: state.uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  }

  async discardPartial(partial: driver.PartialObject): Promise<void> {
    const Key = this.#tempObject(partial.tempKey);
    await this.#abort(Key, readPartialState(partial).uploadId);
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key }));
  }

  async #abort(Key: string, UploadId: string): Promise<void> {
    try {
      await this.#client.send(
        new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key, UploadId }),
      );
    } catch (err) {
      // Gone already; or a store without abort (s3rver answers 405), where the unfinished upload
      // is left to the bucket's lifecycle rule for incomplete multipart uploads.
      const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : 0;
      if (!isMissing(err) && status !== 405 && status !== 501) throw err;
    }
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

  #derivedObject(key: string): string {
    keys.assertDerivedKey(key);
    return DERIVED_PREFIX + key;
  }

  // A single PutObject is atomic on every S3-compatible store: readers see all or nothing.
  async putDerived(key: string, bytes: Buffer): Promise<void> {
    await this.#client.send(
      new PutObjectCommand({ Bucket: this.#bucket, Key: this.#derivedObject(key), Body: bytes }),
    );
  }

  async readDerived(key: string): Promise<Buffer | null> {
    try {
      const res = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: this.#derivedObject(key) }),
      );
      if (!res.Body) throw new Error('S3 returned no body');
      return Buffer.from(await res.Body.transformToByteArray());
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async deleteDerived(sha256: string): Promise<void> {
    keys.assertBlobKey(sha256);
    for await (const object of this.#list(`${DERIVED_PREFIX}${sha256}-`)) {
      if (object.Key) {
        await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: object.Key }));
      }
    }
  }

  async *listTemp(): AsyncIterable<driver.TempListing> {
    for await (const object of this.#list(TEMP_PREFIX)) {
      const key = object.Key?.slice(TEMP_PREFIX.length) ?? '';
      if (!keys.isTempKey(key)) continue;
      yield { tempKey: key, modifiedAt: object.LastModified?.getTime() ?? Date.now() };
    }
  }

  async *listBlobs(): AsyncIterable<driver.BlobListing> {
    for await (const object of this.#list(BLOB_PREFIX)) {
      const key = object.Key?.slice(BLOB_PREFIX.length) ?? '';
      if (keys.isBlobKey(key)) yield { sha256: key, size: object.Size ?? 0 };
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
