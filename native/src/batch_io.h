/*
 * A batch of non-blocking socket receives and sends, performed together: the engine queues
 * every read of a wake-up (or every write JavaScript deferred to a batch's end) and runs them
 * in one go. On Linux with io_uring the whole batch is one system call; elsewhere, or where the
 * kernel refuses io_uring (an old kernel, a seccomp filter, kernel.io_uring_disabled), it is
 * one recv()/send() per operation, with the same results. Either way every operation is
 * finished when batch_io_run returns: no operation is ever left in flight, so a descriptor may
 * be closed at any time outside the run.
 */
#ifndef AIONET_BATCH_IO_H
#define AIONET_BATCH_IO_H

#include <stddef.h>
#include <stdint.h>

/* Operations one batch holds; a caller with more runs the batch when it is full. */
#define BATCH_IO_OPS 256

typedef struct batch_io batch_io_t;

/* 0 or an errno. `use_uring` 0 asks for the one-call-per-operation mode whatever the kernel. */
int batch_io_open(batch_io_t **out, int use_uring);
void batch_io_close(batch_io_t *io);
/* 1 when batches go through io_uring. */
int batch_io_uses_uring(const batch_io_t *io);

/* Operations queued and not run yet. */
uint32_t batch_io_pending(const batch_io_t *io);
/* Queue a recv (MSG_DONTWAIT) or send (MSG_DONTWAIT | MSG_NOSIGNAL); the operation's result
 * will go to results[tag]. The caller keeps the batch below BATCH_IO_OPS. */
void batch_io_recv(batch_io_t *io, int fd, void *buffer, size_t length, uint32_t tag);
void batch_io_send(batch_io_t *io, int fd, const void *bytes, size_t length, uint32_t tag);
/* Performs every queued operation; each result is bytes (0 at a recv's EOF) or -errno, as
 * recv()/send() would answer (-EAGAIN when the socket was not ready). Empties the batch. */
void batch_io_run(batch_io_t *io, int64_t *results);

#endif
