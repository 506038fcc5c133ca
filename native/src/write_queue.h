/*
 * A connection's write queue: the bytes the kernel did not take at once, in order, as a list of
 * heap chunks. Only the remainder of a write is ever queued (the engine sends first), so most
 * connections never allocate one.
 */
#ifndef AIONET_WRITE_QUEUE_H
#define AIONET_WRITE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

typedef struct chunk chunk_t;

typedef struct write_queue {
  chunk_t *head;
  chunk_t *tail;
  size_t queued; /* bytes not sent yet */
} write_queue_t;

/* Copies bytes to the end of the queue. 0, or ENOMEM. */
int write_queue_append(write_queue_t *queue, const uint8_t *bytes, size_t length);

/* Sends what the queue holds on fd until the kernel is full. 0, or the errno of a failed send. */
int write_queue_flush(write_queue_t *queue, int fd);

/* Drops everything queued. */
void write_queue_free(write_queue_t *queue);

#endif
