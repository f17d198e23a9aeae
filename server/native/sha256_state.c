// SHA-256 whose state can be saved and loaded (resumable uploads), at OpenSSL's speed: the node
// binary carries OpenSSL and exports its SHA256_* functions, which use the CPU's SHA extensions
// where there are some. hash-wasm (the fallback) takes ~6x the CPU per byte.
//
// The state is OpenSSL's SHA256_CTX, copied in and out of a Buffer. `updateAsync` hashes on
// libuv's thread pool, straight from the buffers the socket filled, so a resumable upload needs no
// hash thread, no copy of its bytes into shared memory and no message per batch. A state read back from the
// database is checked before OpenSSL sees it: a count of buffered bytes past one block would make
// SHA256_Update write past the context.
#include <node_api.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define CALL(call)                                                                                 \
  if ((call) != napi_ok) {                                                                         \
    napi_throw_error(env, NULL, "sha256_state: bad arguments");                                    \
    return NULL;                                                                                   \
  }

static int valid(const SHA256_CTX *ctx) {
  return ctx->num < SHA256_CBLOCK && ctx->md_len == SHA256_DIGEST_LENGTH;
}

/** The context argument: a Buffer of exactly one valid SHA256_CTX, or NULL (thrown). */
static SHA256_CTX *context(napi_env env, napi_value value) {
  bool is_buffer = false;
  void *data = NULL;
  size_t length = 0;
  if (napi_is_buffer(env, value, &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, value, &data, &length) != napi_ok ||
      length != sizeof(SHA256_CTX) || !valid((SHA256_CTX *)data)) {
    napi_throw_error(env, NULL, "sha256_state: not a SHA-256 state");
    return NULL;
  }
  return (SHA256_CTX *)data;
}

/** init(): a fresh state. */
static napi_value Init(napi_env env, napi_callback_info info) {
  napi_value buffer;
  void *data;
  CALL(napi_create_buffer(env, sizeof(SHA256_CTX), &data, &buffer));
  SHA256_Init((SHA256_CTX *)data);
  return buffer;
}

/** update(state, bytes): hashes a Uint8Array (shared memory too) into the state. */
static napi_value Update(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CALL(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) CALL(napi_invalid_arg);
  SHA256_CTX *ctx = context(env, argv[0]);
  if (!ctx) return NULL;
  napi_typedarray_type type;
  size_t length;
  void *data;
  CALL(napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL));
  if (type != napi_uint8_array) CALL(napi_invalid_arg);
  SHA256_Update(ctx, data, length);
  return NULL;
}

/** What one updateAsync hashes: the state and bytes are held (references) until it completes. */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref refs[2];
  SHA256_CTX *ctx;
  size_t count;
  struct piece {
    const void *data;
    size_t length;
  } pieces[];
} job_t;

static void Execute(napi_env env, void *data) {
  job_t *job = data;
  for (size_t i = 0; i < job->count; i++)
    SHA256_Update(job->ctx, job->pieces[i].data, job->pieces[i].length);
}

static void Complete(napi_env env, napi_status status, void *data) {
  job_t *job = data;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  if (status == napi_ok) napi_resolve_deferred(env, job->deferred, undefined);
  else {
    napi_value message, error;
    napi_create_string_utf8(env, "sha256_state: the hash was cancelled", NAPI_AUTO_LENGTH,
                            &message);
    napi_create_error(env, NULL, message, &error);
    napi_reject_deferred(env, job->deferred, error);
  }
  napi_delete_reference(env, job->refs[0]);
  napi_delete_reference(env, job->refs[1]);
  napi_delete_async_work(env, job->work);
  free(job);
}

/**
 * updateAsync(state, [bytes…]): a promise that resolves once the Uint8Arrays are hashed into the
 * state on the thread pool. Neither the state nor the bytes may change until it resolves, and no
 * other update of the same state may run meanwhile (the caller chains them).
 */
static napi_value UpdateAsync(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CALL(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) CALL(napi_invalid_arg);
  SHA256_CTX *ctx = context(env, argv[0]);
  if (!ctx) return NULL;
  bool is_array = false;
  CALL(napi_is_array(env, argv[1], &is_array));
  if (!is_array) CALL(napi_invalid_arg);
  uint32_t count;
  CALL(napi_get_array_length(env, argv[1], &count));
  job_t *job = calloc(1, sizeof(job_t) + count * sizeof(struct piece));
  if (!job) {
    napi_throw_error(env, NULL, "sha256_state: out of memory");
    return NULL;
  }
  job->ctx = ctx;
  job->count = count;
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    napi_typedarray_type type;
    bool is_typedarray = false;
    void *bytes;
    size_t length;
    if (napi_get_element(env, argv[1], i, &item) != napi_ok ||
        napi_is_typedarray(env, item, &is_typedarray) != napi_ok || !is_typedarray ||
        napi_get_typedarray_info(env, item, &type, &length, &bytes, NULL, NULL) != napi_ok ||
        type != napi_uint8_array) {
      free(job);
      napi_throw_type_error(env, NULL, "sha256_state: updateAsync takes an array of Uint8Arrays");
      return NULL;
    }
    job->pieces[i].data = bytes;
    job->pieces[i].length = length;
  }
  napi_value promise, name;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_reference(env, argv[0], 1, &job->refs[0]) != napi_ok ||
      napi_create_reference(env, argv[1], 1, &job->refs[1]) != napi_ok ||
      napi_create_string_utf8(env, "sha256_state", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, Execute, Complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    // Only reached on a broken environment; the job's references leak rather than risk a
    // double free.
    napi_throw_error(env, NULL, "sha256_state: could not queue the hash");
    return NULL;
  }
  return promise;
}

/** digest(state): the 32-byte digest; the state itself is left as it was. */
static napi_value Digest(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) CALL(napi_invalid_arg);
  SHA256_CTX *ctx = context(env, argv[0]);
  if (!ctx) return NULL;
  SHA256_CTX copy;
  memcpy(&copy, ctx, sizeof copy);
  napi_value buffer;
  void *out;
  CALL(napi_create_buffer(env, SHA256_DIGEST_LENGTH, &out, &buffer));
  SHA256_Final(out, &copy);
  return buffer;
}

/** check(buffer): whether a buffer holds a state this build can continue. */
static napi_value Check(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool is_buffer = false;
  void *data = NULL;
  size_t length = 0;
  bool ok = argc >= 1 && napi_is_buffer(env, argv[0], &is_buffer) == napi_ok && is_buffer &&
            napi_get_buffer_info(env, argv[0], &data, &length) == napi_ok &&
            length == sizeof(SHA256_CTX) && valid((SHA256_CTX *)data);
  napi_value result;
  CALL(napi_get_boolean(env, ok, &result));
  return result;
}

NAPI_MODULE_INIT() {
  const napi_property_descriptor functions[] = {
      {"init", NULL, Init, NULL, NULL, NULL, napi_enumerable, NULL},
      {"update", NULL, Update, NULL, NULL, NULL, napi_enumerable, NULL},
      {"digest", NULL, Digest, NULL, NULL, NULL, napi_enumerable, NULL},
      {"check", NULL, Check, NULL, NULL, NULL, napi_enumerable, NULL},
      {"updateAsync", NULL, UpdateAsync, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, 5, functions) != napi_ok) return NULL;
  return exports;
}
