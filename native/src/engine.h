/*
 * The engine: every socket the native transport owns (listeners and connections), driven by
 * one level-triggered poller. It knows nothing of JavaScript: one wake-up of the poller becomes
 * one batch of fixed-size event records in a caller-supplied int32 array, with the bytes read in
 * a caller-supplied data buffer; the N-API layer (addon.c) hands that batch to JavaScript in one
 * call.
 *
 * Every socket is a slot named by an id that carries a generation tag: a descriptor (and a slot)
 * can be closed and reused inside one batch, and a record or a call that names the old id must
 * not reach the new socket. Every call taking an id returns -EBADF for a stale one.
 *
 * Rule for callers: any per-connection call that returns a negative errno other than -EAGAIN
 * (and -EBADF for a stale id) has already closed that connection and freed its slot.
 */
#ifndef AIONET_ENGINE_H
#define AIONET_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* One record is ENGINE_RECORD int32s: kind, id, a, b. */
#define ENGINE_RECORD 4

enum engine_event {
  EV_DATA = 1,         /* id; a = offset in the data buffer, b = length */
  EV_READABLE = 2,     /* id; a connection in buffered mode may be read (engine_read_into) */
  EV_EOF = 3,          /* id; the peer sent FIN */
  EV_WRITTEN = 4,      /* id; a = bytes still queued (saturated at INT32_MAX) */
  EV_CONNECTED = 5,    /* id; a = errno, 0 on success (on failure the slot is already freed) */
  EV_ACCEPTED = 6,     /* id = listener; a = the new connection's id */
  EV_ACCEPT_ERROR = 7, /* id = listener; a = errno; the listener stopped watching (resume it) */
  EV_LOST = 8,         /* id; a = errno or 0: the engine closed the socket and freed the slot */
};

/* Per-socket options. */
#define ENGINE_OPT_NODELAY 1u
#define ENGINE_OPT_KEEPALIVE 2u
/* Listeners only: SO_REUSEPORT, so processes of one group share the port (serveWorkers). */
#define ENGINE_OPT_REUSEPORT 4u

typedef struct engine engine_t;

/* `use_uring` 0 keeps the engine off io_uring (one system call per read and send; batch_io.h). */
int engine_open(engine_t **out, int32_t *records, uint32_t capacity, uint8_t *data,
                size_t data_size, int use_uring);
/* Closes every socket the engine owns (unlinking Unix listener paths) and frees it all. */
void engine_close(engine_t *engine);
int engine_poll_fd(const engine_t *engine);
/* Slots in use: listeners and connections. */
uint32_t engine_live(const engine_t *engine);
/* 1 when reads and batched sends go through io_uring. */
int engine_uses_uring(const engine_t *engine);

/* One wake-up: collects ready events into records; returns how many records it wrote. */
uint32_t engine_collect(engine_t *engine);

/* Listeners: return an id or -errno. */
int32_t engine_listen(engine_t *engine, const struct sockaddr *address, socklen_t length,
                      int backlog, int ipv6_only, uint32_t options, int keepalive_delay_s);
int32_t engine_listen_unix(engine_t *engine, const char *path, int backlog);
int engine_listener_watch(engine_t *engine, int32_t id, int watch);
int engine_close_listener(engine_t *engine, int32_t id);

/* Outgoing connections: an id (EV_CONNECTED follows) or -errno. */
int32_t engine_connect(engine_t *engine, const struct sockaddr *address, socklen_t length,
                       const struct sockaddr *local, socklen_t local_length, uint32_t options,
                       int keepalive_delay_s);
int32_t engine_connect_unix(engine_t *engine, const char *path);

/* Writes: bytes now queued (0 when the kernel took everything) or -errno. */
int64_t engine_write(engine_t *engine, int32_t id, const uint8_t *bytes, size_t length);
int64_t engine_writev(engine_t *engine, int32_t id, const struct iovec *iov, int count);
/* Performs `count` writes in order, each as engine_write would: writes[3i] is the id,
 * writes[3i + 1] and writes[3i + 2] the offset and length of its bytes in `bytes`. Each answer
 * (saturated at INT32_MAX; -EINVAL for a range outside `bytes`) replaces the offset. The first
 * write to each connection with nothing queued is sent in one batch with the others. */
void engine_write_batch(engine_t *engine, int32_t *writes, uint32_t count, const uint8_t *bytes,
                        size_t size);
/* Half-close once the queue is flushed. 0 or -errno. */
int engine_shutdown(engine_t *engine, int32_t id);
/* Graceful close: flush the queue, send FIN, wait for the peer's FIN, close. 1 when closed now
 * (the slot is freed, no EV_LOST follows), 0 when it waits (EV_LOST follows), or -errno. A
 * second call on a closing socket closes it at once (the caller's linger time ran out). */
int engine_close_graceful(engine_t *engine, int32_t id);
/* Closes at once, with RST on TCP. 0 or -EBADF. */
int engine_abort(engine_t *engine, int32_t id);
int engine_set_reading(engine_t *engine, int32_t id, int reading);
int engine_set_buffered(engine_t *engine, int32_t id, int buffered);
/* One read into the caller's buffer: n > 0, 0 at EOF, -EAGAIN, or -errno. */
int64_t engine_read_into(engine_t *engine, int32_t id, uint8_t *buffer, size_t length);
/* The peer's (peer != 0) or the local address. 0 or -errno. */
int engine_address(engine_t *engine, int32_t id, int peer, struct sockaddr_storage *out,
                   socklen_t *length);
/* 1 when the slot is a Unix-domain socket, 0 when TCP, -EBADF. */
int engine_is_unix(engine_t *engine, int32_t id);

#endif
