/*
 * Batches of socket receives and sends: io_uring where the kernel offers it, one system call
 * per operation otherwise. See batch_io.h.
 *
 * Why: with ~12 messages per wake-up at 1,000 connections, a recv() and a send() per message
 * were most of the engine's system calls, and on this kind of machine each call's entry and
 * exit (speculation mitigations included) costs more than the copy it does. Submitted as one
 * io_uring batch, a ready socket's receive or send still completes at once, inside the
 * submitting call (the operations carry MSG_DONTWAIT, so one that would block completes with
 * -EAGAIN instead of being parked in the kernel), and the batch waits for every completion.
 */
#define _GNU_SOURCE
#include "batch_io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/io_uring.h>
#include <sys/mman.h>
#endif

/* Under valgrind, bytes the kernel wrote through the ring are unknown to memcheck: say they are
 * defined, as it would know after a recv() system call. A no-op outside valgrind. */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define MARK_DEFINED(bytes, length) VALGRIND_MAKE_MEM_DEFINED(bytes, length)
#endif
#endif
#ifndef MARK_DEFINED
#define MARK_DEFINED(bytes, length) ((void)0)
#endif

/* The most one operation asks for (what Linux itself caps a read or write at). */
#define OP_MAX 0x7ffff000u

typedef struct op {
  void *buffer;
  uint32_t length;
  uint32_t tag;
  int fd;
  int send;
} op_t;

#ifdef __linux__
typedef struct ring {
  int fd;
  uint32_t *sq_tail;
  uint32_t sq_mask;
  uint32_t sq_local_tail; /* where the next entry goes; published to the kernel by the run */
  struct io_uring_sqe *sqes;
  uint32_t *cq_head;
  uint32_t *cq_tail;
  uint32_t cq_mask;
  struct io_uring_cqe *cqes;
  void *sq_map;
  size_t sq_map_size;
  void *cq_map; /* NULL when the kernel maps both rings at once */
  size_t cq_map_size;
  size_t sqes_size;
} ring_t;
#endif

struct batch_io {
  uint32_t count;
  op_t ops[BATCH_IO_OPS];
#ifdef __linux__
  ring_t ring; /* ring.fd -1: one system call per operation */
#endif
};

/* ---- one system call per operation ---- */

static int64_t perform(const op_t *op) {
  return op->send ? socket_send(op->fd, op->buffer, op->length)
                  : socket_recv(op->fd, op->buffer, op->length);
}

/* ---- io_uring ---- */

#ifdef __linux__
static void ring_unmap(ring_t *r) {
  if (r->sqes != NULL) munmap(r->sqes, r->sqes_size);
  if (r->cq_map != NULL) munmap(r->cq_map, r->cq_map_size);
  if (r->sq_map != NULL) munmap(r->sq_map, r->sq_map_size);
  if (r->fd >= 0) (void)close(r->fd);
  memset(r, 0, sizeof *r);
  r->fd = -1;
}

static void *map_ring(int fd, size_t size, off_t offset) {
  void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, offset);
  return map == MAP_FAILED ? NULL : map;
}

/* 0, or an errno when the kernel offers no usable ring (the caller then calls per operation). */
static int ring_open(ring_t *r) {
  memset(r, 0, sizeof *r);
  r->fd = -1;
  struct io_uring_params params;
  memset(&params, 0, sizeof params);
  /* SUBMIT_ALL (5.18): one bad entry does not hold back the rest of the batch. */
  params.flags = IORING_SETUP_SUBMIT_ALL;
  int fd = (int)syscall(SYS_io_uring_setup, BATCH_IO_OPS, &params);
  if (fd < 0 && errno == EINVAL) {
    memset(&params, 0, sizeof params);
    fd = (int)syscall(SYS_io_uring_setup, BATCH_IO_OPS, &params);
  }
  if (fd < 0) return errno;
  r->fd = fd;
  /* The completion queue must hold a whole batch (it is twice the submission queue). */
  if (params.sq_entries < BATCH_IO_OPS || params.cq_entries < BATCH_IO_OPS) {
    ring_unmap(r);
    return EINVAL;
  }
  r->sq_map_size = params.sq_off.array + params.sq_entries * sizeof(uint32_t);
  r->cq_map_size = params.cq_off.cqes + params.cq_entries * sizeof(struct io_uring_cqe);
  if (params.features & IORING_FEAT_SINGLE_MMAP) {
    if (r->cq_map_size > r->sq_map_size) r->sq_map_size = r->cq_map_size;
    r->sq_map = map_ring(fd, r->sq_map_size, IORING_OFF_SQ_RING);
  } else {
    r->sq_map = map_ring(fd, r->sq_map_size, IORING_OFF_SQ_RING);
    r->cq_map = map_ring(fd, r->cq_map_size, IORING_OFF_CQ_RING);
    if (r->cq_map == NULL) {
      ring_unmap(r);
      return ENOMEM;
    }
  }
  if (r->sq_map == NULL) {
    ring_unmap(r);
    return ENOMEM;
  }
  r->sqes_size = params.sq_entries * sizeof(struct io_uring_sqe);
  r->sqes = map_ring(fd, r->sqes_size, IORING_OFF_SQES);
  if (r->sqes == NULL) {
    ring_unmap(r);
    return ENOMEM;
  }
  uint8_t *sq = r->sq_map;
  uint8_t *cq = r->cq_map != NULL ? (uint8_t *)r->cq_map : sq;
  r->sq_tail = (uint32_t *)(sq + params.sq_off.tail);
  r->sq_mask = *(uint32_t *)(sq + params.sq_off.ring_mask);
  r->sq_local_tail = *r->sq_tail;
  /* Entry i of the submission array always names SQE i: entries are filled in ring order. */
  uint32_t *array = (uint32_t *)(sq + params.sq_off.array);
  for (uint32_t i = 0; i < params.sq_entries; i++) array[i] = i;
  r->cq_head = (uint32_t *)(cq + params.cq_off.head);
  r->cq_tail = (uint32_t *)(cq + params.cq_off.tail);
  r->cq_mask = *(uint32_t *)(cq + params.cq_off.ring_mask);
  r->cqes = (struct io_uring_cqe *)(cq + params.cq_off.cqes);
  return 0;
}

static void ring_push(ring_t *r, const op_t *op, uint32_t index) {
  struct io_uring_sqe *sqe = &r->sqes[r->sq_local_tail & r->sq_mask];
  memset(sqe, 0, sizeof *sqe);
  sqe->opcode = op->send ? IORING_OP_SEND : IORING_OP_RECV;
  sqe->fd = op->fd;
  sqe->addr = (uint64_t)(uintptr_t)op->buffer;
  sqe->len = op->length;
  sqe->msg_flags = op->send ? MSG_DONTWAIT | MSG_NOSIGNAL : MSG_DONTWAIT;
  sqe->user_data = index;
  r->sq_local_tail++;
}

/* Takes every completion the kernel posted; returns how many. */
static uint32_t ring_reap(ring_t *r, const op_t *ops, int64_t *results) {
  uint32_t head = *r->cq_head;
  uint32_t tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
  uint32_t taken = tail - head;
  for (; head != tail; head++) {
    const struct io_uring_cqe *cqe = &r->cqes[head & r->cq_mask];
    const op_t *op = &ops[cqe->user_data];
    if (!op->send && cqe->res > 0) MARK_DEFINED(op->buffer, (size_t)cqe->res);
    results[op->tag] = cqe->res;
  }
  __atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
  return taken;
}

/* Submits the batch and waits until every operation completed. */
static void ring_run(ring_t *r, const op_t *ops, uint32_t count, int64_t *results) {
  __atomic_store_n(r->sq_tail, r->sq_local_tail, __ATOMIC_RELEASE);
  uint32_t submitted = 0, done = 0;
  while (done < count) {
    long n = syscall(SYS_io_uring_enter, r->fd, count - submitted, count - done,
                     IORING_ENTER_GETEVENTS, NULL, 0);
    if (n < 0) {
      int error = errno;
      if (error == EINTR || error == EAGAIN || error == EBUSY) continue;
      /* The ring itself failed (it cannot for a valid ring): what was not submitted is done
       * per operation instead, what was submitted is waited for below. */
      for (uint32_t i = submitted; i < count; i++) results[ops[i].tag] = perform(&ops[i]);
      r->sq_local_tail -= count - submitted;
      __atomic_store_n(r->sq_tail, r->sq_local_tail, __ATOMIC_RELEASE);
      done += count - submitted;
      submitted = count;
      if (done < count) done += ring_reap(r, ops, results);
      continue;
    }
    submitted += (uint32_t)n;
    done += ring_reap(r, ops, results);
  }
}
#endif

/* ---- the interface ---- */

int batch_io_open(batch_io_t **out, int use_uring) {
  batch_io_t *io = calloc(1, sizeof *io);
  if (io == NULL) return ENOMEM;
#ifdef __linux__
  io->ring.fd = -1;
  if (use_uring && ring_open(&io->ring) != 0) io->ring.fd = -1;
#endif
  *out = io;
  return 0;
}

void batch_io_close(batch_io_t *io) {
  if (io == NULL) return;
#ifdef __linux__
  if (io->ring.fd >= 0) ring_unmap(&io->ring);
#endif
  free(io);
}

int batch_io_uses_uring(const batch_io_t *io) {
#ifdef __linux__
  return io->ring.fd >= 0;
#else
  return 0;
#endif
}

uint32_t batch_io_pending(const batch_io_t *io) { return io->count; }

static void push(batch_io_t *io, int fd, void *buffer, size_t length, uint32_t tag, int send) {
  uint32_t index = io->count++;
  op_t *op = &io->ops[index];
  op->buffer = buffer;
  op->length = length > OP_MAX ? OP_MAX : (uint32_t)length;
  op->tag = tag;
  op->fd = fd;
  op->send = send;
#ifdef __linux__
  if (io->ring.fd >= 0) ring_push(&io->ring, op, index);
#endif
}

void batch_io_recv(batch_io_t *io, int fd, void *buffer, size_t length, uint32_t tag) {
  push(io, fd, buffer, length, tag, 0);
}

void batch_io_send(batch_io_t *io, int fd, const void *bytes, size_t length, uint32_t tag) {
  push(io, fd, (void *)bytes, length, tag, 1);
}

void batch_io_run(batch_io_t *io, int64_t *results) {
  uint32_t count = io->count;
  if (count == 0) return;
  io->count = 0;
#ifdef __linux__
  if (io->ring.fd >= 0) {
    ring_run(&io->ring, io->ops, count, results);
    return;
  }
#endif
  for (uint32_t i = 0; i < count; i++) results[io->ops[i].tag] = perform(&io->ops[i]);
}
