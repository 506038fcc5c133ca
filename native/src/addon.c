/*
 * The N-API face of the engine: argument checking, addresses as JavaScript values, and the
 * one call per wake-up that hands a whole batch to JavaScript.
 *
 * The engine's poller descriptor is watched by one uv_poll_t in Node's own loop
 * (napi_get_uv_event_loop): no thread, no second loop. The handle is referenced only while
 * some socket is open, so an idle addon never keeps the process alive.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <uv.h>

#include "engine.h"

typedef struct addon {
  napi_env env;
  engine_t *engine;
  uv_poll_t poll;
  int poll_started;
  int referenced;
  napi_ref receiver;   /* the object whose batch function is called (make_callback needs one) */
  napi_ref on_batch;   /* receiver.onBatch(count) */
  napi_ref on_writes_done; /* receiver.onWritesDone(count) */
  napi_ref records;    /* keeps the record array alive: the engine writes into its memory */
  napi_ref data;       /* likewise the data buffer */
  napi_ref out_records; /* deferred writes: (id, offset, length) triples; results come back */
  napi_ref out_data;    /* the deferred writes' bytes */
  int32_t *out_triples;
  size_t out_capacity; /* triples */
  int32_t *out_owed;   /* the cell after the triples: how many onBatch handed over */
  uint8_t *out_bytes;
  size_t out_size;
  napi_async_context async_context;
  napi_async_cleanup_hook_handle cleanup;
} addon_t;


/* ---- helpers ---- */

#define CHECK(call)                                                                           \
  do {                                                                                        \
    if ((call) != napi_ok) return throw_last(env);                                            \
  } while (0)

static napi_value throw_last(napi_env env) {
  const napi_extended_error_info *info = NULL;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) {
    napi_get_last_error_info(env, &info);
    napi_throw_error(env, "ERR_AIONET_NATIVE",
                     info != NULL && info->error_message != NULL ? info->error_message
                                                                 : "native call failed");
  }
  return NULL;
}

static napi_value number(napi_env env, double value) {
  napi_value result;
  if (napi_create_double(env, value, &result) != napi_ok) return NULL;
  return result;
}

static napi_value int_result(napi_env env, int32_t value) {
  napi_value result;
  if (napi_create_int32(env, value, &result) != napi_ok) return NULL;
  return result;
}

/* Reads up to max arguments and the addon; throws and returns NULL on a failure. */
static addon_t *args(napi_env env, napi_callback_info info, size_t max, napi_value *argv) {
  size_t argc = max;
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, &data) != napi_ok) return NULL;
  for (size_t i = argc; i < max; i++) napi_get_undefined(env, &argv[i]);
  addon_t *addon = data;
  if (addon->engine == NULL) {
    napi_throw_error(env, "ERR_AIONET_NATIVE", "the native engine is not initialised");
    return NULL;
  }
  return addon;
}

static int get_int(napi_env env, napi_value value, int32_t *out) {
  return napi_get_value_int32(env, value, out) == napi_ok;
}

/* The bytes of a Uint8Array (or Buffer): its data pointer already includes its offset. */
static int get_bytes(napi_env env, napi_value value, uint8_t **bytes, size_t *length) {
  napi_typedarray_type type;
  void *data = NULL;
  size_t count = 0;
  if (napi_get_typedarray_info(env, value, &type, &count, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, "ERR_AIONET_NATIVE", "expected a Uint8Array");
    return 0;
  }
  *bytes = data;
  *length = count;
  return 1;
}

/* A string argument into buf (NUL-terminated); 0 and a thrown error when it does not fit. */
static int get_string(napi_env env, napi_value value, char *buf, size_t size) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, buf, size, &length) != napi_ok) return 0;
  if (length + 1 >= size) {
    napi_throw_range_error(env, "ERR_AIONET_NATIVE", "string argument too long");
    return 0;
  }
  return 1;
}

/* A numeric host and a port as a sockaddr (getaddrinfo handles IPv6 scope ids). 0 or errno. */
static int parse_address(const char *host, int32_t port, struct sockaddr_storage *out,
                         socklen_t *length) {
  struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM};
  struct addrinfo *found = NULL;
  if (getaddrinfo(host, NULL, &hints, &found) != 0 || found == NULL) return EINVAL;
  memcpy(out, found->ai_addr, found->ai_addrlen);
  *length = found->ai_addrlen;
  freeaddrinfo(found);
  if (out->ss_family == AF_INET) ((struct sockaddr_in *)out)->sin_port = htons((uint16_t)port);
  else ((struct sockaddr_in6 *)out)->sin6_port = htons((uint16_t)port);
  return 0;
}

static void update_ref(addon_t *addon) {
  if (!addon->poll_started) return;
  int live = engine_live(addon->engine) > 0;
  if (live && !addon->referenced) uv_ref((uv_handle_t *)&addon->poll);
  if (!live && addon->referenced) uv_unref((uv_handle_t *)&addon->poll);
  addon->referenced = live;
}

/* ---- the wake-up ---- */

/* Calls receiver[fn](count) as a callback from the loop; an exception becomes uncaught. */
static void call_js(addon_t *addon, napi_ref fn, uint32_t count) {
  napi_env env = addon->env;
  napi_value receiver, callback, argv[1], result;
  if (napi_get_reference_value(env, addon->receiver, &receiver) != napi_ok ||
      napi_get_reference_value(env, fn, &callback) != napi_ok ||
      napi_create_uint32(env, count, &argv[0]) != napi_ok) {
    return;
  }
  /* make_callback runs process.nextTick and microtasks after the call, as for any I/O. */
  napi_status called =
      napi_make_callback(env, addon->async_context, receiver, callback, 1, argv, &result);
  if (called == napi_pending_exception) {
    /* The dispatcher catches per entry: anything here is a bug, so make it an uncaught
     * exception rather than lose it. */
    napi_value error;
    if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
  }
}

/*
 * Performs the writes the batch handed over (see loop.ts: onBatch leaves their count in the
 * cell after the triples; a write from a microtask performed them already and emptied it), and
 * tells JavaScript the answers only when one of them is not 0 (bytes left queued, or an error):
 * for a batch whose replies all went to the kernel, which is the common case, no second call.
 */
static void perform_owed(addon_t *addon) {
  if (addon->out_owed == NULL) return;
  int32_t owed = *addon->out_owed;
  if (owed <= 0) return;
  *addon->out_owed = 0;
  uint32_t count = (uint32_t)owed;
  if (count > addon->out_capacity) return;
  engine_write_batch(addon->engine, addon->out_triples, count, addon->out_bytes,
                     addon->out_size);
  for (uint32_t i = 0; i < count; i++) {
    if (addon->out_triples[i * 3 + 1] != 0) {
      call_js(addon, addon->on_writes_done, count);
      return;
    }
  }
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  (void)events;
  addon_t *addon = handle->data;
  /* status < 0 would mean the epoll descriptor itself failed (EBADF): collect finds nothing. */
  (void)status;
  uint32_t count = engine_collect(addon->engine);
  if (count > 0) {
    napi_env env = addon->env;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    call_js(addon, addon->on_batch, count);
    /* The environment may be going away (a callback called process.exit). */
    if (addon->engine != NULL) perform_owed(addon);
    napi_close_handle_scope(env, scope);
  }
  if (addon->engine != NULL) update_ref(addon);
}

/* ---- init / teardown ---- */

static void delete_ref(napi_env env, napi_ref *ref) {
  if (*ref != NULL) napi_delete_reference(env, *ref);
  *ref = NULL;
}

static void on_poll_closed(uv_handle_t *handle) {
  addon_t *addon = handle->data;
  if (addon->cleanup != NULL) napi_remove_async_cleanup_hook(addon->cleanup);
  free(addon);
}

/* Node is tearing the environment down: close every socket, then the handle, then free. */
static void on_cleanup(napi_async_cleanup_hook_handle handle, void *data) {
  addon_t *addon = data;
  addon->cleanup = handle;
  napi_env env = addon->env;
  if (addon->engine != NULL) {
    engine_close(addon->engine);
    addon->engine = NULL;
  }
  delete_ref(env, &addon->receiver);
  delete_ref(env, &addon->on_batch);
  delete_ref(env, &addon->on_writes_done);
  addon->out_owed = NULL;
  delete_ref(env, &addon->records);
  delete_ref(env, &addon->data);
  delete_ref(env, &addon->out_records);
  delete_ref(env, &addon->out_data);
  if (addon->async_context != NULL) napi_async_destroy(env, addon->async_context);
  addon->async_context = NULL;
  if (addon->poll_started) {
    uv_poll_stop(&addon->poll);
    uv_close((uv_handle_t *)&addon->poll, on_poll_closed);
  } else {
    napi_remove_async_cleanup_hook(handle);
    free(addon);
  }
}

/* The memory of an (Int32Array, Uint8Array) pair shared with JavaScript; 0 (nothing thrown)
 * when either is of another kind. */
static int get_shared_pair(napi_env env, napi_value ints, napi_value bytes, int32_t **int_data,
                           size_t *int_count, uint8_t **byte_data, size_t *byte_size) {
  napi_typedarray_type type;
  void *a = NULL, *b = NULL;
  if (napi_get_typedarray_info(env, ints, &type, int_count, &a, NULL, NULL) != napi_ok ||
      type != napi_int32_array ||
      napi_get_typedarray_info(env, bytes, &type, byte_size, &b, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    return 0;
  }
  *int_data = a;
  *byte_data = b;
  return 1;
}

/* init(records: Int32Array, data: Uint8Array, receiver: object): starts the engine. */
static napi_value js_init(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  void *data = NULL;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, &data));
  addon_t *addon = data;
  if (addon->engine != NULL) {
    napi_throw_error(env, "ERR_AIONET_NATIVE", "the native engine is already initialised");
    return NULL;
  }
  size_t records_length = 0, data_length = 0;
  int32_t *records = NULL;
  uint8_t *bytes = NULL;
  if (argc < 3 ||
      !get_shared_pair(env, argv[0], argv[1], &records, &records_length, &bytes, &data_length)) {
    napi_throw_type_error(env, "ERR_AIONET_NATIVE", "init(Int32Array, Uint8Array, object)");
    return NULL;
  }
  napi_value on_batch, on_writes_done;
  napi_valuetype kind, done_kind;
  CHECK(napi_get_named_property(env, argv[2], "onBatch", &on_batch));
  CHECK(napi_get_named_property(env, argv[2], "onWritesDone", &on_writes_done));
  CHECK(napi_typeof(env, on_batch, &kind));
  CHECK(napi_typeof(env, on_writes_done, &done_kind));
  if (kind != napi_function || done_kind != napi_function) {
    napi_throw_type_error(env, "ERR_AIONET_NATIVE",
                          "receiver.onBatch and receiver.onWritesDone must be functions");
    return NULL;
  }
  /* AIONET_IO_URING=0 keeps the engine on one system call per read and send (docs/native.md). */
  const char *uring = getenv("AIONET_IO_URING");
  int use_uring = uring == NULL || strcmp(uring, "0") != 0;
  int error = engine_open(&addon->engine, records, (uint32_t)(records_length / ENGINE_RECORD),
                          bytes, data_length, use_uring);
  if (error != 0) return int_result(env, -error);
  CHECK(napi_create_reference(env, argv[0], 1, &addon->records));
  CHECK(napi_create_reference(env, argv[1], 1, &addon->data));
  CHECK(napi_create_reference(env, argv[2], 1, &addon->receiver));
  CHECK(napi_create_reference(env, on_batch, 1, &addon->on_batch));
  CHECK(napi_create_reference(env, on_writes_done, 1, &addon->on_writes_done));
  napi_value name;
  CHECK(napi_create_string_utf8(env, "aionet.native", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &addon->async_context));
  uv_loop_t *loop = NULL;
  CHECK(napi_get_uv_event_loop(env, &loop));
  error = uv_poll_init(loop, &addon->poll, engine_poll_fd(addon->engine));
  if (error == 0) {
    addon->poll.data = addon;
    error = uv_poll_start(&addon->poll, UV_READABLE, on_poll);
    if (error != 0) uv_close((uv_handle_t *)&addon->poll, NULL);
  }
  if (error != 0) {
    engine_close(addon->engine);
    addon->engine = NULL;
    napi_throw_error(env, "ERR_AIONET_NATIVE", uv_strerror(error));
    return NULL;
  }
  addon->poll_started = 1;
  uv_unref((uv_handle_t *)&addon->poll);
  addon->referenced = 0;
  return int_result(env, 0);
}

/* ---- listeners ---- */

/* listen(host, port, backlog, ipv6Only, options, keepAliveDelaySeconds) -> id | -errno */
static napi_value js_listen(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  addon_t *addon = args(env, info, 6, argv);
  if (addon == NULL) return NULL;
  char host[INET6_ADDRSTRLEN + 64];
  int32_t port, backlog, ipv6_only, options, delay;
  if (!get_string(env, argv[0], host, sizeof host)) return NULL;
  if (!get_int(env, argv[1], &port) || !get_int(env, argv[2], &backlog) ||
      !get_int(env, argv[3], &ipv6_only) || !get_int(env, argv[4], &options) ||
      !get_int(env, argv[5], &delay)) {
    return throw_last(env);
  }
  struct sockaddr_storage address;
  socklen_t length;
  int error = parse_address(host, port, &address, &length);
  if (error != 0) return int_result(env, -error);
  int32_t id = engine_listen(addon->engine, (struct sockaddr *)&address, length, backlog,
                             ipv6_only, (uint32_t)options, delay);
  update_ref(addon);
  return int_result(env, id);
}

/* listenUnix(path, backlog) -> id | -errno */
static napi_value js_listen_unix(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  addon_t *addon = args(env, info, 2, argv);
  if (addon == NULL) return NULL;
  char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
  int32_t backlog;
  if (!get_string(env, argv[0], path, sizeof path)) return NULL;
  if (!get_int(env, argv[1], &backlog)) return throw_last(env);
  int32_t id = engine_listen_unix(addon->engine, path, backlog);
  update_ref(addon);
  return int_result(env, id);
}

/* listenerWatch(id, on) -> 0 | -errno */
static napi_value js_listener_watch(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  addon_t *addon = args(env, info, 2, argv);
  if (addon == NULL) return NULL;
  int32_t id, on;
  if (!get_int(env, argv[0], &id) || !get_int(env, argv[1], &on)) return throw_last(env);
  return int_result(env, engine_listener_watch(addon->engine, id, on));
}

/* closeListener(id) -> 0 | -errno */
static napi_value js_close_listener(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  addon_t *addon = args(env, info, 1, argv);
  if (addon == NULL) return NULL;
  int32_t id;
  if (!get_int(env, argv[0], &id)) return throw_last(env);
  int result = engine_close_listener(addon->engine, id);
  update_ref(addon);
  return int_result(env, result);
}

/* ---- connections ---- */

/* connect(host, port, localHost | '', options, keepAliveDelaySeconds) -> id | -errno */
static napi_value js_connect(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  addon_t *addon = args(env, info, 5, argv);
  if (addon == NULL) return NULL;
  char host[INET6_ADDRSTRLEN + 64], local_host[INET6_ADDRSTRLEN + 64];
  int32_t port, options, delay;
  if (!get_string(env, argv[0], host, sizeof host) ||
      !get_string(env, argv[2], local_host, sizeof local_host)) {
    return NULL;
  }
  if (!get_int(env, argv[1], &port) || !get_int(env, argv[3], &options) ||
      !get_int(env, argv[4], &delay)) {
    return throw_last(env);
  }
  struct sockaddr_storage address, local;
  socklen_t length, local_length = 0;
  int error = parse_address(host, port, &address, &length);
  if (error == 0 && local_host[0] != '\0') {
    error = parse_address(local_host, 0, &local, &local_length);
  }
  if (error != 0) return int_result(env, -error);
  int32_t id = engine_connect(addon->engine, (struct sockaddr *)&address, length,
                              local_length > 0 ? (struct sockaddr *)&local : NULL, local_length,
                              (uint32_t)options, delay);
  update_ref(addon);
  return int_result(env, id);
}

/* connectUnix(path) -> id | -errno */
static napi_value js_connect_unix(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  addon_t *addon = args(env, info, 1, argv);
  if (addon == NULL) return NULL;
  char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
  if (!get_string(env, argv[0], path, sizeof path)) return NULL;
  int32_t id = engine_connect_unix(addon->engine, path);
  update_ref(addon);
  return int_result(env, id);
}

/* write(id, bytes) -> bytes queued | -errno: the hot path, kept to three N-API calls. */
static napi_value js_write(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  addon_t *addon = args(env, info, 2, argv);
  if (addon == NULL) return NULL;
  int32_t id;
  uint8_t *bytes;
  size_t length;
  if (!get_int(env, argv[0], &id)) return throw_last(env);
  if (!get_bytes(env, argv[1], &bytes, &length)) return NULL;
  int64_t result = engine_write(addon->engine, id, bytes, length);
  if (result < 0) update_ref(addon);
  return number(env, (double)result);
}

/* writev(id, list of Uint8Array) -> bytes queued | -errno */
static napi_value js_writev(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  addon_t *addon = args(env, info, 2, argv);
  if (addon == NULL) return NULL;
  int32_t id;
  uint32_t count = 0;
  if (!get_int(env, argv[0], &id)) return throw_last(env);
  CHECK(napi_get_array_length(env, argv[1], &count));
  struct iovec *iov = calloc(count == 0 ? 1 : count, sizeof *iov);
  if (iov == NULL) {
    napi_throw_error(env, "ERR_AIONET_NATIVE", "out of memory");
    return NULL;
  }
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    uint8_t *bytes;
    size_t length;
    if (napi_get_element(env, argv[1], i, &item) != napi_ok ||
        !get_bytes(env, item, &bytes, &length)) {
      free(iov);
      return throw_last(env);
    }
    iov[i].iov_base = bytes;
    iov[i].iov_len = length;
  }
  int64_t result = engine_writev(addon->engine, id, iov, (int)count);
  free(iov);
  if (result < 0) update_ref(addon);
  return number(env, (double)result);
}

/* setWriteBatch(Int32Array of 3n + 1, Uint8Array) -> 0: where writeBatch finds its writes (n
 * triples, then the cell where onBatch leaves how many of them the addon performs when it
 * returns). */
static napi_value js_set_write_batch(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  addon_t *addon = args(env, info, 2, argv);
  if (addon == NULL) return NULL;
  size_t count = 0, size = 0;
  int32_t *triples = NULL;
  uint8_t *bytes = NULL;
  if (!get_shared_pair(env, argv[0], argv[1], &triples, &count, &bytes, &size) ||
      count % 3 != 1) {
    napi_throw_type_error(env, "ERR_AIONET_NATIVE",
                          "expected an Int32Array of 3n + 1 and a Uint8Array");
    return NULL;
  }
  delete_ref(env, &addon->out_records);
  delete_ref(env, &addon->out_data);
  CHECK(napi_create_reference(env, argv[0], 1, &addon->out_records));
  CHECK(napi_create_reference(env, argv[1], 1, &addon->out_data));
  addon->out_triples = triples;
  addon->out_capacity = count / 3;
  addon->out_owed = triples + addon->out_capacity * 3;
  *addon->out_owed = 0;
  addon->out_bytes = bytes;
  addon->out_size = size;
  return int_result(env, 0);
}

/*
 * writeBatch(count) -> 0: performs the first `count` deferred writes, in order, each as
 * write(id, bytes) would; each triple's offset slot receives that write's answer (bytes queued,
 * saturated at INT32_MAX, or -errno). One call for all the replies of a wake-up.
 */
static napi_value js_write_batch(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  addon_t *addon = args(env, info, 1, argv);
  if (addon == NULL) return NULL;
  uint32_t count;
  if (napi_get_value_uint32(env, argv[0], &count) != napi_ok) return throw_last(env);
  if (count > addon->out_capacity) {
    napi_throw_range_error(env, "ERR_AIONET_NATIVE", "more writes than the batch holds");
    return NULL;
  }
  engine_write_batch(addon->engine, addon->out_triples, count, addon->out_bytes,
                     addon->out_size);
  update_ref(addon);
  return int_result(env, 0);
}

/* A call (id) -> int, for the simple per-connection operations. */
typedef int (*id_call)(engine_t *, int32_t);

static napi_value call_id(napi_env env, napi_callback_info info, id_call call) {
  napi_value argv[1];
  addon_t *addon = args(env, info, 1, argv);
  if (addon == NULL) return NULL;
  int32_t id;
  if (!get_int(env, argv[0], &id)) return throw_last(env);
  int result = call(addon->engine, id);
  update_ref(addon);
  return int_result(env, result);
}

static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  return call_id(env, info, engine_shutdown);
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  return call_id(env, info, engine_close_graceful);
}

static napi_value js_abort(napi_env env, napi_callback_info info) {
  return call_id(env, info, engine_abort);
}

static napi_value js_is_unix(napi_env env, napi_callback_info info) {
  return call_id(env, info, engine_is_unix);
}

typedef int (*flag_call)(engine_t *, int32_t, int);

static napi_value call_flag(napi_env env, napi_callback_info info, flag_call call) {
  napi_value argv[2];
  addon_t *addon = args(env, info, 2, argv);
  if (addon == NULL) return NULL;
  int32_t id, on;
  if (!get_int(env, argv[0], &id) || !get_int(env, argv[1], &on)) return throw_last(env);
  int result = call(addon->engine, id, on);
  if (result < 0) update_ref(addon);
  return int_result(env, result);
}

static napi_value js_set_reading(napi_env env, napi_callback_info info) {
  return call_flag(env, info, engine_set_reading);
}

static napi_value js_set_buffered(napi_env env, napi_callback_info info) {
  return call_flag(env, info, engine_set_buffered);
}

/* readInto(id, buffer) -> n > 0 | 0 at EOF | -errno (-EAGAIN: nothing to read) */
static napi_value js_read_into(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  addon_t *addon = args(env, info, 2, argv);
  if (addon == NULL) return NULL;
  int32_t id;
  uint8_t *bytes;
  size_t length;
  if (!get_int(env, argv[0], &id)) return throw_last(env);
  if (!get_bytes(env, argv[1], &bytes, &length)) return NULL;
  int64_t result = engine_read_into(addon->engine, id, bytes, length);
  if (result < 0) update_ref(addon);
  return number(env, (double)result);
}

/* address(id, peer) -> [family, address, port] | ['unix', path] | -errno */
static napi_value js_address(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  addon_t *addon = args(env, info, 2, argv);
  if (addon == NULL) return NULL;
  int32_t id, peer;
  if (!get_int(env, argv[0], &id) || !get_int(env, argv[1], &peer)) return throw_last(env);
  struct sockaddr_storage address;
  socklen_t length;
  int error = engine_address(addon->engine, id, peer, &address, &length);
  if (error != 0) return int_result(env, error);
  napi_value result, family, text, port;
  CHECK(napi_create_array_with_length(env, 3, &result));
  char buf[INET6_ADDRSTRLEN > sizeof(((struct sockaddr_un *)0)->sun_path)
               ? INET6_ADDRSTRLEN
               : sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
  int port_number = 0;
  const char *family_name;
  if (address.ss_family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)&address;
    if (inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf) == NULL) return int_result(env, -errno);
    port_number = ntohs(in->sin_port);
    family_name = "IPv4";
  } else if (address.ss_family == AF_INET6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&address;
    if (inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf) == NULL) {
      return int_result(env, -errno);
    }
    port_number = ntohs(in6->sin6_port);
    family_name = "IPv6";
  } else {
    /* An unnamed Unix socket (a client's) has no path: length covers only the family. */
    struct sockaddr_un *un = (struct sockaddr_un *)&address;
    size_t size = length > offsetof(struct sockaddr_un, sun_path)
                      ? strnlen(un->sun_path, length - offsetof(struct sockaddr_un, sun_path))
                      : 0;
    memcpy(buf, un->sun_path, size);
    buf[size] = '\0';
    family_name = "unix";
  }
  CHECK(napi_create_string_utf8(env, family_name, NAPI_AUTO_LENGTH, &family));
  CHECK(napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &text));
  CHECK(napi_create_int32(env, port_number, &port));
  CHECK(napi_set_element(env, result, 0, family));
  CHECK(napi_set_element(env, result, 1, text));
  CHECK(napi_set_element(env, result, 2, port));
  return result;
}

/* live() -> sockets open (listeners and connections), for tests and leak checks. */
static napi_value js_live(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  addon_t *addon = args(env, info, 0, argv);
  if (addon == NULL) return NULL;
  return int_result(env, (int32_t)engine_live(addon->engine));
}

/* ioUring() -> 1 when reads and batched writes go through io_uring, 0 when one system call
 * each (no io_uring here, or AIONET_IO_URING=0). */
static napi_value js_io_uring(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  addon_t *addon = args(env, info, 0, argv);
  if (addon == NULL) return NULL;
  return int_result(env, engine_uses_uring(addon->engine));
}

/* ---- module ---- */

static napi_value init_module(napi_env env, napi_value exports) {
  addon_t *addon = calloc(1, sizeof *addon);
  if (addon == NULL) {
    napi_throw_error(env, "ERR_AIONET_NATIVE", "out of memory");
    return NULL;
  }
  addon->env = env;
  if (napi_add_async_cleanup_hook(env, on_cleanup, addon, NULL) != napi_ok) {
    free(addon);
    return throw_last(env);
  }
  napi_property_descriptor properties[] = {
      {"init", NULL, js_init, NULL, NULL, NULL, napi_default, addon},
      {"listen", NULL, js_listen, NULL, NULL, NULL, napi_default, addon},
      {"listenUnix", NULL, js_listen_unix, NULL, NULL, NULL, napi_default, addon},
      {"listenerWatch", NULL, js_listener_watch, NULL, NULL, NULL, napi_default, addon},
      {"closeListener", NULL, js_close_listener, NULL, NULL, NULL, napi_default, addon},
      {"connect", NULL, js_connect, NULL, NULL, NULL, napi_default, addon},
      {"connectUnix", NULL, js_connect_unix, NULL, NULL, NULL, napi_default, addon},
      {"write", NULL, js_write, NULL, NULL, NULL, napi_default, addon},
      {"writev", NULL, js_writev, NULL, NULL, NULL, napi_default, addon},
      {"setWriteBatch", NULL, js_set_write_batch, NULL, NULL, NULL, napi_default, addon},
      {"writeBatch", NULL, js_write_batch, NULL, NULL, NULL, napi_default, addon},
      {"shutdown", NULL, js_shutdown, NULL, NULL, NULL, napi_default, addon},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, addon},
      {"abort", NULL, js_abort, NULL, NULL, NULL, napi_default, addon},
      {"setReading", NULL, js_set_reading, NULL, NULL, NULL, napi_default, addon},
      {"setBuffered", NULL, js_set_buffered, NULL, NULL, NULL, napi_default, addon},
      {"readInto", NULL, js_read_into, NULL, NULL, NULL, napi_default, addon},
      {"address", NULL, js_address, NULL, NULL, NULL, napi_default, addon},
      {"isUnix", NULL, js_is_unix, NULL, NULL, NULL, napi_default, addon},
      {"live", NULL, js_live, NULL, NULL, NULL, napi_default, addon},
      {"ioUring", NULL, js_io_uring, NULL, NULL, NULL, napi_default, addon},
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0],
                             properties) != napi_ok) {
    return throw_last(env);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init_module)
