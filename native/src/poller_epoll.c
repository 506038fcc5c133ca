/*
 * The poller on Linux epoll: one epoll descriptor, level-triggered, whose own readiness libuv
 * watches with a single uv_poll_t (so there is no thread and no second event loop).
 */
#include "poller.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

/* epoll_wait fills a stack array of this many entries per call; the engine's batch is smaller. */
#define EPOLL_CHUNK 256

struct poller {
  int epfd;
};

static uint32_t to_epoll(uint32_t events) {
  return ((events & POLLER_IN) ? EPOLLIN : 0u) | ((events & POLLER_OUT) ? EPOLLOUT : 0u);
}

static uint32_t from_epoll(uint32_t events) {
  return ((events & EPOLLIN) ? POLLER_IN : 0u) | ((events & EPOLLOUT) ? POLLER_OUT : 0u) |
         ((events & EPOLLERR) ? POLLER_ERR : 0u) | ((events & EPOLLHUP) ? POLLER_HUP : 0u);
}

int poller_open(poller_t **out) {
  poller_t *poller = malloc(sizeof *poller);
  if (poller == NULL) return ENOMEM;
  poller->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (poller->epfd < 0) {
    int error = errno;
    free(poller);
    return error;
  }
  *out = poller;
  return 0;
}

int poller_fd(const poller_t *poller) { return poller->epfd; }

static int control(poller_t *poller, int op, int fd, uint32_t events, uint32_t token) {
  struct epoll_event event = {.events = to_epoll(events), .data = {.u64 = token}};
  return epoll_ctl(poller->epfd, op, fd, &event) == 0 ? 0 : errno;
}

int poller_add(poller_t *poller, int fd, uint32_t events, uint32_t token) {
  return control(poller, EPOLL_CTL_ADD, fd, events, token);
}

int poller_modify(poller_t *poller, int fd, uint32_t events, uint32_t token) {
  return control(poller, EPOLL_CTL_MOD, fd, events, token);
}

int poller_remove(poller_t *poller, int fd) {
  /* A non-NULL event keeps pre-2.6.9 kernels happy; the contents are ignored. */
  struct epoll_event unused = {0};
  return epoll_ctl(poller->epfd, EPOLL_CTL_DEL, fd, &unused) == 0 ? 0 : errno;
}

int poller_wait(poller_t *poller, poller_event_t *out, int max) {
  struct epoll_event events[EPOLL_CHUNK];
  if (max > EPOLL_CHUNK) max = EPOLL_CHUNK;
  int n;
  do {
    n = epoll_wait(poller->epfd, events, max, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  for (int i = 0; i < n; i++) {
    out[i].events = from_epoll(events[i].events);
    out[i].token = (uint32_t)events[i].data.u64;
  }
  return n;
}

void poller_close(poller_t *poller) {
  if (poller == NULL) return;
  /* close() can only fail with EINTR/EIO here; the descriptor is released either way. */
  (void)close(poller->epfd);
  free(poller);
}
