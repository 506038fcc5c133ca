/*
 * The poller: the one readiness API the engine uses. Linux epoll today (poller_epoll.c); a
 * kqueue implementation would provide the same few functions, and nothing else in the engine
 * names epoll.
 *
 * The poller is level-triggered: a socket that still has bytes to read, or room to write, is
 * reported again on the next wait. The engine relies on that to read each ready socket only
 * once per wake-up and to leave work for the next one when its batch is full.
 */
#ifndef AIONET_POLLER_H
#define AIONET_POLLER_H

#include <stdint.h>

/* Interest and readiness bits (the engine's own, mapped to the system's by the poller). */
#define POLLER_IN 1u  /* readable, or the peer closed (read() will say which) */
#define POLLER_OUT 2u /* writable, or a connect() completed */
#define POLLER_ERR 4u /* an error is pending on the socket (reported whether asked or not) */
#define POLLER_HUP 8u /* both directions are shut (reported whether asked or not) */

typedef struct poller poller_t;

typedef struct poller_event {
  uint32_t events; /* POLLER_* bits */
  uint32_t token;  /* what poller_add was given */
} poller_event_t;

/* Opens a poller; returns 0 or an errno. */
int poller_open(poller_t **out);

/* A descriptor that is readable whenever events are pending, to hand to libuv. */
int poller_fd(const poller_t *poller);

/* Starts, changes or stops watching fd. Each returns 0 or an errno. */
int poller_add(poller_t *poller, int fd, uint32_t events, uint32_t token);
int poller_modify(poller_t *poller, int fd, uint32_t events, uint32_t token);
int poller_remove(poller_t *poller, int fd);

/* Collects up to max pending events without blocking; returns their count or -errno. */
int poller_wait(poller_t *poller, poller_event_t *out, int max);

void poller_close(poller_t *poller);

#endif
