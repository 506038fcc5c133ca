/*
 * The write queue: chunks coalesced so a stream of small writes makes few allocations, flushed
 * with one sendmsg() per up to FLUSH_IOV chunks.
 */
#include "write_queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* A chunk holds at least this much, so a stream of small writes makes few allocations. */
#define CHUNK_MIN 4096
/* iovecs per sendmsg() when flushing. */
#define FLUSH_IOV 64
/* A chunk's offsets are 32-bit: a larger write is split. */
#define CHUNK_MAX ((size_t)UINT32_MAX / 2)

struct chunk {
  struct chunk *next;
  uint32_t capacity;
  uint32_t start; /* first byte not yet sent */
  uint32_t end;   /* one past the last byte queued */
  uint8_t bytes[];
};

int write_queue_append(write_queue_t *queue, const uint8_t *bytes, size_t length) {
  if (length == 0) return 0;
  chunk_t *tail = queue->tail;
  if (tail != NULL && tail->capacity - tail->end >= length) {
    memcpy(tail->bytes + tail->end, bytes, length);
    tail->end += (uint32_t)length;
    queue->queued += length;
    return 0;
  }
  while (length > 0) {
    size_t take = length > CHUNK_MAX ? CHUNK_MAX : length;
    size_t capacity = take < CHUNK_MIN ? CHUNK_MIN : take;
    chunk_t *chunk = malloc(sizeof *chunk + capacity);
    if (chunk == NULL) return ENOMEM;
    chunk->next = NULL;
    chunk->capacity = (uint32_t)capacity;
    chunk->start = 0;
    chunk->end = (uint32_t)take;
    memcpy(chunk->bytes, bytes, take);
    if (queue->tail != NULL) queue->tail->next = chunk;
    else queue->head = chunk;
    queue->tail = chunk;
    queue->queued += take;
    bytes += take;
    length -= take;
  }
  return 0;
}

int write_queue_flush(write_queue_t *queue, int fd) {
  while (queue->head != NULL) {
    struct iovec iov[FLUSH_IOV];
    int count = 0;
    for (chunk_t *c = queue->head; c != NULL && count < FLUSH_IOV; c = c->next) {
      iov[count].iov_base = c->bytes + c->start;
      iov[count].iov_len = c->end - c->start;
      count++;
    }
    struct msghdr message = {.msg_iov = iov, .msg_iovlen = (size_t)count};
    /* MSG_NOSIGNAL: a peer that went away is an EPIPE to report, not a SIGPIPE. */
    ssize_t n = sendmsg(fd, &message, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      return errno;
    }
    size_t sent = (size_t)n;
    queue->queued -= sent;
    while (sent > 0) {
      chunk_t *c = queue->head;
      size_t left = c->end - c->start;
      if (sent < left) {
        c->start += (uint32_t)sent;
        break;
      }
      sent -= left;
      queue->head = c->next;
      if (queue->head == NULL) queue->tail = NULL;
      free(c);
    }
  }
  return 0;
}

void write_queue_free(write_queue_t *queue) {
  chunk_t *chunk = queue->head;
  while (chunk != NULL) {
    chunk_t *next = chunk->next;
    free(chunk);
    chunk = next;
  }
  queue->head = queue->tail = NULL;
  queue->queued = 0;
}
