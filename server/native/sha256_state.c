// SHA-256 whose state can be saved and loaded (resumable uploads), at OpenSSL's speed: the node
// binary carries OpenSSL and exports its SHA256_* functions, which use the CPU's SHA extensions
// where there are some. hash-wasm (the fallback) takes ~6x the CPU per byte.
//
// The state is OpenSSL's SHA256_CTX, copied in and out of a Buffer. A state read back from the
// database is checked before OpenSSL sees it: a count of buffered bytes past one block would make
// SHA256_Update write past the context.
#include <node_api.h>
#include <openssl/sha.h>
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
  };
  if (napi_define_properties(env, exports, 4, functions) != napi_ok) return NULL;
  return exports;
}
