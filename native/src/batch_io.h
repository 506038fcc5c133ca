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

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#ifdef __linux__
#include <sys/syscall.h>
#include <unistd.h>
#endif

/*
 * One receive or send now, outside a batch: bytes (0 at a recv's EOF) or -errno, EINTR retried.
 * On Linux the bare system calls: in a process with threads, as Node's is, glibc wraps its own
 * in cancellation-point bookkeeping (2-3 % of the engine's user time at 1,000 connections), and
 * the engine never cancels a thread. The same calls run a batch where io_uring is not used.
 */
static inline int64_t socket_recv(int fd, void *buffer, size_t length) {
  ssize_t n;
  do {
#ifdef __linux__
    n = syscall(SYS_recvfrom, fd, buffer, length, MSG_DONTWAIT, NULL, NULL);
#else
    n = recv(fd, buffer, length, MSG_DONTWAIT);
#endif
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -(int64_t)errno : (int64_t)n;
}

static inline int64_t socket_send(int fd, const void *bytes, size_t length) {
  ssize_t n;
  do {
#ifdef __linux__
    n = syscall(SYS_sendto, fd, bytes, length, MSG_DONTWAIT | MSG_NOSIGNAL, NULL, 0);
#else
    n = send(fd, bytes, length, MSG_DONTWAIT | MSG_NOSIGNAL);
#endif
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -(int64_t)errno : (int64_t)n;
}

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
