import { stringifyDocument } from '@urql/core';
import { CSRF_HEADERS } from './client';
import { describe, fromWireErrors, type AppError, type WireError } from './errors';
import type { ResultOf } from './graphql';
import { UploadFileMutation } from './files';

export type UploadedFile = ResultOf<typeof UploadFileMutation>['uploadFile'];

export type UploadOutcome = { ok: true; file: UploadedFile } | { ok: false; error: AppError };

export interface UploadRequest {
  /** Resolves once, with the file or the reason it failed (never rejects). */
  done: Promise<UploadOutcome>;
  abort(): void;
}

function failure(code: AppError['code'], message = describe(code, undefined)): UploadOutcome {
  return { ok: false, error: { code, message, fields: {} } };
}

/**
 * Sends one file as a GraphQL multipart request (operations + map + file part). XMLHttpRequest,
 * not fetch, because only XHR reports upload progress.
 */
export function uploadFile(
  file: File,
  /** `status` is for admins only: leave it out for everyone else (the server refuses it). */
  variables: { name?: string; tags?: string[]; status?: 'ACTIVE' | 'HIDDEN' },
  onProgress: (loaded: number, total: number) => void,
): UploadRequest {
  const xhr = new XMLHttpRequest();
  const body = new FormData();
  body.append(
    'operations',
    JSON.stringify({
      query: stringifyDocument(UploadFileMutation),
      operationName: 'UploadFile',
      variables: { ...variables, file: null },
    }),
  );
  body.append('map', JSON.stringify({ 0: ['variables.file'] }));
  body.append('0', file, file.name);

  const done = new Promise<UploadOutcome>((resolve) => {
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    };
    xhr.onload = () => {
      let json: { data?: { uploadFile?: UploadedFile } | null; errors?: WireError[] } | null = null;
      try {
        json = JSON.parse(xhr.responseText);
      } catch {
        json = null;
      }
      if (json?.errors?.length) return resolve({ ok: false, error: fromWireErrors(json.errors) });
      if (json?.data?.uploadFile) return resolve({ ok: true, file: json.data.uploadFile });
      if (xhr.status === 413) return resolve(failure('PAYLOAD_TOO_LARGE'));
      resolve(failure('INTERNAL_SERVER_ERROR'));
    };
    xhr.onerror = () =>
      resolve(failure('NETWORK', 'The connection was lost during the upload. Try again.'));
    xhr.onabort = () => resolve(failure('ABORTED', 'Cancelled.'));
  });

  xhr.open('POST', '/graphql');
  for (const [key, value] of Object.entries(CSRF_HEADERS)) xhr.setRequestHeader(key, value);
  xhr.setRequestHeader('accept', 'application/graphql-response+json, application/json');
  xhr.send(body);

  return { done, abort: () => xhr.abort() };
}
