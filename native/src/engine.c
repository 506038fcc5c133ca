/*
 * The engine: sockets in generation-tagged slots, one poller, batches of event records.
 * See engine.h for the contract; this file is the machinery.
 */
#define _GNU_SOURCE
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "batch_io.h"
#include "poller.h"
#include "write_queue.h"

/* An id is (generation << SLOT_BITS) | index: 4 Mi slots, 512 generations, always positive. */
#define SLOT_BITS 22
#define SLOT_MASK ((1u << SLOT_BITS) - 1u)
#define GEN_MASK 0x1ffu
/* Slots live in pages that never move, so a slot pointer stays valid while the table grows. */
#define PAGE_BITS 12
#define PAGE_SLOTS (1u << PAGE_BITS)
#define MAX_PAGES ((1u << SLOT_BITS) / PAGE_SLOTS)
#define NO_SLOT UINT32_MAX

/* The most one socket reads in one read() (Node's own default read size). */
#define READ_MAX (64 * 1024)
/* A read is only started with at least this much room left in the batch's data buffer: a
 * smaller read would split a typical burst in two wake-ups for nothing. */
#define READ_MIN (16 * 1024)
/* Reads of one socket per wake-up, when each filled what it asked for (a bulk sender). */
#define READS_PER_WAKE 4
/* The least room a batched read is given (see queue_read). */
#define READ_SHARE (4 * 1024)
/* Events taken from the poller per wake-up; a connection writes at most 3 records per event. */
#define EVENTS_PER_WAKE 256
#define RECORDS_PER_EVENT 3

enum slot_flags {
  F_USED = 1u << 0,
  F_LISTENER = 1u << 1,
  F_READING = 1u << 2,     /* JavaScript wants data */
  F_BUFFERED = 1u << 3,    /* JavaScript reads with engine_read_into */
  F_CONNECTING = 1u << 4,  /* connect() in progress */
  F_CLOSING = 1u << 5,     /* graceful close: flush, FIN, await the peer's FIN; reads dropped */
  F_SHUT_PENDING = 1u << 6, /* shutdown(SHUT_WR) once the queue is flushed */
  F_RD_EOF = 1u << 7,      /* read() returned 0: nothing more to read */
  F_UNIX = 1u << 8,
  F_PAUSED = 1u << 9,      /* listener: not watched (accept back-off) */
  F_WR_SHUT = 1u << 10,    /* shutdown(SHUT_WR) done: our FIN is out */
  F_SENDING = 1u << 11,    /* a send of the write batch being run is in flight */
};

/* A TCP peer's address as accept() or connect() had it, packed (IPv6 flow info dropped) so a
 * slot fits one cache line. family 0: not known. */
typedef struct peer_address {
  uint16_t family;
  uint16_t port; /* network order */
  uint32_t scope; /* IPv6 scope id */
  uint8_t address[16];
} peer_address_t;

/*
 * One cache line (64 bytes on x86-64; pages are allocated line-aligned): what every message
 * touches (descriptor, flags, generation, interest, the queue's size) comes first, the peer
 * address, read only to name a peer, last. With 1,000 busy connections the kernel's own data
 * evicts the slots between two messages, so each line a message touches is a miss.
 */
typedef struct slot {
  int fd;
  uint32_t flags;
  uint32_t gen; /* bumped when the slot is taken, so ids of its earlier sockets go stale */
  uint32_t watched; /* the poller interest registered now; 0 when not registered */
  union {
    write_queue_t q; /* a connection: what the kernel did not take yet */
    struct { /* a listener */
      char *path; /* a Unix listener's path, unlinked on close */
    } l;
    uint32_t next_free; /* a free slot: the next free one */
  } u;
  /* Kept after the socket is closed, until the slot is taken again: JavaScript may name the
   * peer of a connection it learns was lost (a log line) without having asked while it was
   * open, which would cost every connection a JavaScript object. */
  peer_address_t peer;
} slot_t;

_Static_assert(sizeof(slot_t) <= 64, "a slot fits one cache line");
_Static_assert(EVENTS_PER_WAKE <= BATCH_IO_OPS, "a wake-up's reads fit one batch");
#define SLOT_ALIGN 64

struct engine {
  poller_t *poller;
  slot_t *pages[MAX_PAGES];
  uint32_t slots; /* slots ever made (pages * PAGE_SLOTS) */
  /* Free slots, oldest first: a slot is taken again as late as possible, so a closed
   * connection's id keeps naming its peer address for a while (see slot_t.peer). */
  uint32_t free_head;
  uint32_t free_tail;
  uint32_t live;
  int32_t *records;
  uint32_t capacity; /* records */
  uint32_t count;    /* records written in this batch */
  uint32_t reserved; /* records held for the reads queued in this wake-up */
  uint8_t *data;
  size_t data_size;
  size_t data_used;
  /* The reads of a wake-up and the sends of a write batch, run together (batch_io.h). */
  batch_io_t *io;
  int64_t results[BATCH_IO_OPS];
  struct queued_read {
    int32_t id;
    uint32_t offset; /* in the data buffer */
    uint32_t room;
  } reads[BATCH_IO_OPS];
};

static uint8_t discard[READ_MAX];

/* ---- slots ---- */

static inline slot_t *slot_at(engine_t *e, uint32_t index) {
  return &e->pages[index >> PAGE_BITS][index & (PAGE_SLOTS - 1u)];
}

static inline int32_t slot_id(const slot_t *s, uint32_t index) {
  return (int32_t)((s->gen << SLOT_BITS) | index);
}

/* The slot an id names, live or closed but not taken again since; NULL for a stale or bad id. */
static slot_t *lookup_last(engine_t *e, int32_t id) {
  if (id < 0) return NULL;
  uint32_t index = (uint32_t)id & SLOT_MASK;
  if (index >= e->slots) return NULL;
  slot_t *s = slot_at(e, index);
  return s->gen == ((uint32_t)id >> SLOT_BITS) ? s : NULL;
}

/* Starts loading the slot an id names into the caches (a hint: a bad id is ignored). */
static inline void prefetch_slot(engine_t *e, int32_t id) {
  uint32_t index = (uint32_t)id & SLOT_MASK;
  if (id >= 0 && index < e->slots) __builtin_prefetch(slot_at(e, index));
}

/* The live slot an id names, or NULL for a stale or bad id. */
static slot_t *lookup(engine_t *e, int32_t id) {
  slot_t *s = lookup_last(e, id);
  return s != NULL && (s->flags & F_USED) ? s : NULL;
}

static void push_free(engine_t *e, uint32_t index) {
  slot_at(e, index)->u.next_free = NO_SLOT;
  if (e->free_head == NO_SLOT) e->free_head = index;
  else slot_at(e, e->free_tail)->u.next_free = index;
  e->free_tail = index;
}

static int slot_alloc(engine_t *e, int fd, uint32_t flags, int32_t *id) {
  if (e->free_head == NO_SLOT) {
    uint32_t page = e->slots >> PAGE_BITS;
    if (page >= MAX_PAGES) return EMFILE;
    void *memory = NULL;
    if (posix_memalign(&memory, SLOT_ALIGN, PAGE_SLOTS * sizeof(slot_t)) != 0) return ENOMEM;
    slot_t *slots = memset(memory, 0, PAGE_SLOTS * sizeof(slot_t));
    e->pages[page] = slots;
    uint32_t first = e->slots;
    e->slots += PAGE_SLOTS;
    /* Lowest index first. */
    for (uint32_t i = 0; i < PAGE_SLOTS; i++) push_free(e, first + i);
  }
  uint32_t index = e->free_head;
  slot_t *s = slot_at(e, index);
  e->free_head = s->u.next_free;
  if (e->free_head == NO_SLOT) e->free_tail = NO_SLOT;
  s->fd = fd;
  s->flags = F_USED | flags;
  s->gen = (s->gen + 1u) & GEN_MASK;
  s->watched = 0;
  memset(&s->u, 0, sizeof s->u);
  memset(&s->peer, 0, sizeof s->peer);
  e->live++;
  *id = slot_id(s, index);
  return 0;
}

/* Closes the descriptor (which also drops it from the poller) and frees the slot. */
static void slot_release(engine_t *e, slot_t *s, uint32_t index) {
  if (s->flags & F_LISTENER) {
    if (s->u.l.path != NULL) {
      /* libuv unlinks a listening pipe's path on close too; a missing file is no fault. */
      (void)unlink(s->u.l.path);
      free(s->u.l.path);
    }
  } else {
    write_queue_free(&s->u.q);
  }
  /* Linux always releases the descriptor, even when close() reports EINTR or EIO; retrying
   * could close a descriptor someone else just opened. */
  (void)close(s->fd);
  s->fd = -1;
  s->flags = 0;
  s->watched = 0;
  push_free(e, index);
  e->live--;
}

static inline uint32_t index_of(int32_t id) { return (uint32_t)id & SLOT_MASK; }

/* Remembers a TCP peer's address (IPv4 or IPv6; anything else stays unknown). */
static void keep_peer(slot_t *s, const struct sockaddr *address, socklen_t length) {
  peer_address_t *peer = &s->peer;
  if (address->sa_family == AF_INET && length >= sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)address;
    peer->family = AF_INET;
    peer->port = in->sin_port;
    memcpy(peer->address, &in->sin_addr, sizeof in->sin_addr);
  } else if (address->sa_family == AF_INET6 && length >= sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)address;
    peer->family = AF_INET6;
    peer->port = in6->sin6_port;
    peer->scope = in6->sin6_scope_id;
    memcpy(peer->address, &in6->sin6_addr, sizeof in6->sin6_addr);
  }
}

/* The remembered peer as a socket address; its length. */
static socklen_t unpack_peer(const peer_address_t *peer, struct sockaddr_storage *out) {
  memset(out, 0, sizeof *out);
  if (peer->family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)out;
    in->sin_family = AF_INET;
    in->sin_port = peer->port;
    memcpy(&in->sin_addr, peer->address, sizeof in->sin_addr);
    return sizeof *in;
  }
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
  in6->sin6_family = AF_INET6;
  in6->sin6_port = peer->port;
  in6->sin6_scope_id = peer->scope;
  memcpy(&in6->sin6_addr, peer->address, sizeof in6->sin6_addr);
  return sizeof *in6;
}

/* Brings the poller's interest in line with what the slot needs; 0 or an errno. */
static int watch(engine_t *e, slot_t *s, int32_t id) {
  uint32_t want = 0;
  if (s->flags & F_LISTENER) {
    want = (s->flags & F_PAUSED) ? 0u : POLLER_IN;
  } else if (s->flags & F_CONNECTING) {
    want = POLLER_OUT;
  } else {
    if ((s->flags & (F_READING | F_CLOSING)) && !(s->flags & F_RD_EOF)) want |= POLLER_IN;
    if (s->u.q.queued > 0) want |= POLLER_OUT;
  }
  if (want == s->watched) return 0;
  int error;
  if (want == 0) {
    /* Not watching at all (rather than an empty mask) keeps a paused socket whose peer hung
     * up from being reported over and over: EPOLLHUP cannot be masked. */
    error = poller_remove(e->poller, s->fd);
  } else if (s->watched == 0) {
    error = poller_add(e->poller, s->fd, want, (uint32_t)id);
  } else {
    error = poller_modify(e->poller, s->fd, want, (uint32_t)id);
  }
  if (error == 0) s->watched = want;
  return error;
}

/* ---- records ---- */

static inline void emit(engine_t *e, int32_t kind, int32_t id, int32_t a, int32_t b) {
  int32_t *r = e->records + (size_t)e->count * ENGINE_RECORD;
  r[0] = kind;
  r[1] = id;
  r[2] = a;
  r[3] = b;
  e->count++;
}

/* 1 when `wanted` more records fit this wake-up beside those held for its queued reads. */
static inline int records_free(const engine_t *e, uint32_t wanted) {
  return e->count + e->reserved + wanted <= e->capacity;
}

static inline int32_t saturate(size_t value) {
  return value > (size_t)INT32_MAX ? INT32_MAX : (int32_t)value;
}

/* The engine gave up on a connection: close it and tell JavaScript why. */
static void lose(engine_t *e, slot_t *s, int32_t id, int error) {
  slot_release(e, s, index_of(id));
  emit(e, EV_LOST, id, error, 0);
}

/* ---- socket helpers ---- */

static int set_int_option(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value) == 0 ? 0 : errno;
}

/* TCP options of a new connection. A failure leaves the socket usable with the system's
 * defaults, which is what Node does too (it ignores setNoDelay/setKeepAlive errors). */
static void apply_options(int fd, uint32_t options, int keepalive_delay_s) {
  if (options & ENGINE_OPT_NODELAY) (void)set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  if (options & ENGINE_OPT_KEEPALIVE) {
    (void)set_int_option(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
    if (keepalive_delay_s > 0)
      (void)set_int_option(fd, IPPROTO_TCP, TCP_KEEPIDLE, keepalive_delay_s);
  }
}

static int is_transient_accept_error(int error) {
  /* The connection died in the backlog, or a signal interrupted us: try the next one. */
  return error == EINTR || error == ECONNABORTED || error == EPROTO || error == EPERM;
}

/* Sends our FIN once. 0 or an errno. */
static int shut_write(slot_t *s) {
  if (s->flags & F_WR_SHUT) return 0;
  s->flags |= F_WR_SHUT;
  /* ENOTCONN: the peer already reset; the next read or write reports that. */
  return (shutdown(s->fd, SHUT_WR) != 0 && errno != ENOTCONN) ? errno : 0;
}

/*
 * The queue is empty: do what was waiting for it. A graceful close sends FIN, then waits for
 * the peer's (reading and dropping meanwhile), so our close is never turned into a reset by
 * bytes still in flight; once both FINs are out the socket is closed. Returns 1 when the slot
 * was closed, 0, or -errno.
 */
static int after_flush(engine_t *e, slot_t *s, int32_t id, int emit_lost) {
  if (s->flags & F_CLOSING) {
    if (!(s->flags & F_RD_EOF)) {
      int error = shut_write(s);
      return error == 0 ? 0 : -error;
    }
    /* Both ways done: close() itself sends our FIN, if it is not out yet. */
    slot_release(e, s, index_of(id));
    if (emit_lost) emit(e, EV_LOST, id, 0, 0);
    return 1;
  }
  if (s->flags & F_SHUT_PENDING) {
    s->flags &= ~F_SHUT_PENDING;
    int error = shut_write(s);
    if (error != 0) return -error;
  }
  return 0;
}

/* ---- the wake-up ---- */

static void on_listener(engine_t *e, slot_t *s, int32_t lid) {
  while (records_free(e, 1)) {
    struct sockaddr_storage peer;
    socklen_t peer_length = sizeof peer;
    int fd = accept4(s->fd, (struct sockaddr *)&peer, &peer_length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int error = errno;
      if (error == EAGAIN || error == EWOULDBLOCK) return;
      if (is_transient_accept_error(error)) continue;
      /* EMFILE, ENFILE, ENOBUFS, ENOMEM: the pending connection stays in the backlog and the
       * listener stays readable, so keep watching and we would spin. Stop; JavaScript resumes
       * us after a back-off. */
      s->flags |= F_PAUSED;
      int werror = watch(e, s, lid);
      (void)werror; /* removing an interest only fails for a descriptor already gone */
      emit(e, EV_ACCEPT_ERROR, lid, error, 0);
      return;
    }
    /* TCP_NODELAY and the keep-alive settings were set on the listening socket, and Linux
     * copies them to every socket it accepts: no setsockopt per connection. */
    int32_t id;
    uint32_t unix_flag = s->flags & F_UNIX;
    if (slot_alloc(e, fd, F_READING | unix_flag, &id) != 0) {
      (void)close(fd); /* no room for it: shed this connection, keep serving the others */
      continue;
    }
    /* slot_alloc may have added a page; s is still valid (pages never move). */
    slot_t *c = slot_at(e, index_of(id));
    if (!unix_flag) keep_peer(c, (struct sockaddr *)&peer, peer_length);
    if (watch(e, c, id) != 0) {
      slot_release(e, c, index_of(id));
      continue;
    }
    emit(e, EV_ACCEPTED, lid, id, 0);
  }
}

/*
 * A read's answer (bytes at `offset` of the data buffer, 0 at EOF, or -errno): records for
 * JavaScript. 1 when the read filled all it asked for, so the socket may hold more.
 */
static int on_read(engine_t *e, slot_t *s, int32_t id, size_t offset, size_t want,
                   int64_t result) {
  if (result > 0) {
    emit(e, EV_DATA, id, (int32_t)offset, (int32_t)result);
    /* A short read emptied the socket: another read would only return EAGAIN. */
    return (size_t)result == want;
  }
  if (result == 0) {
    /* The poller still watches for input: most peers' FIN is answered by a close, which
     * drops the socket from epoll anyway. Only a socket kept half-open is reported again, and
     * engine_collect stops watching it then. */
    s->flags |= F_RD_EOF;
    emit(e, EV_EOF, id, 0, 0);
    return 0;
  }
  if (result != -EAGAIN && result != -EWOULDBLOCK && result != -EINTR) lose(e, s, id, (int)-result);
  return 0;
}

/* A bulk sender: reads on, after `reads` reads that each filled what they asked for. */
static void read_on(engine_t *e, slot_t *s, int32_t id, int reads) {
  for (; reads < READS_PER_WAKE; reads++) {
    if (!records_free(e, RECORDS_PER_EVENT)) return;
    size_t room = e->data_size - e->data_used;
    if (room < READ_MIN) return; /* level-triggered: reported again next wake-up */
    size_t want = room < READ_MAX ? room : READ_MAX;
    size_t offset = e->data_used;
    int64_t n = socket_recv(s->fd, e->data + offset, want);
    if (n > 0) e->data_used += (size_t)n;
    if (!on_read(e, s, id, offset, want, n)) return;
  }
}

/*
 * A ready connection's first read of the wake-up joins the batch run at its end. Its room in
 * the data buffer is an even share of what is left among the events still to handle (at least
 * READ_SHARE, at most READ_MAX): with every read in flight at once, each needs its own.
 */
static void queue_read(engine_t *e, slot_t *s, int32_t id, uint32_t events_left) {
  size_t room = e->data_size - e->data_used;
  if (room < READ_SHARE) return; /* level-triggered: reported again next wake-up */
  size_t want = room / events_left;
  if (want < READ_SHARE) want = READ_SHARE;
  if (want > READ_MAX) want = READ_MAX;
  uint32_t k = batch_io_pending(e->io);
  e->reads[k].id = id;
  e->reads[k].offset = (uint32_t)e->data_used;
  e->reads[k].room = (uint32_t)want;
  batch_io_recv(e->io, s->fd, e->data + e->data_used, want, k);
  e->data_used += want;
  e->reserved += RECORDS_PER_EVENT;
}

/* Runs the wake-up's queued reads and turns their answers into records. */
static void finish_reads(engine_t *e) {
  uint32_t count = batch_io_pending(e->io);
  if (count == 0) return;
  batch_io_run(e->io, e->results);
  for (uint32_t k = 0; k < count; k++) {
    e->reserved -= RECORDS_PER_EVENT;
    const struct queued_read *r = &e->reads[k];
    /* Nothing closes a socket between its read's queueing and this, but stay safe. */
    slot_t *s = lookup(e, r->id);
    if (s == NULL) continue;
    if (on_read(e, s, r->id, r->offset, r->room, e->results[k])) read_on(e, s, r->id, 1);
  }
}

/* Input on a connection: queued as one of the wake-up's batched reads, except for the rare
 * modes (closing, buffered), handled here. */
static void on_readable(engine_t *e, slot_t *s, int32_t id, uint32_t events_left) {
  if (s->flags & F_CLOSING) {
    ssize_t n = recv(s->fd, discard, sizeof discard, 0);
    if (n == 0) {
      /* The peer's FIN: with our queue flushed, that ends the close. */
      s->flags |= F_RD_EOF;
      if (s->u.q.queued == 0) {
        int result = after_flush(e, s, id, 1);
        if (result < 0) lose(e, s, id, -result);
        if (result != 0) return;
      }
      int error = watch(e, s, id);
      if (error != 0) lose(e, s, id, error);
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      lose(e, s, id, errno);
    }
    return;
  }
  if (s->flags & F_BUFFERED) {
    emit(e, EV_READABLE, id, 0, 0);
    return;
  }
  queue_read(e, s, id, events_left);
}

static void on_connected(engine_t *e, slot_t *s, int32_t id) {
  int error = 0;
  socklen_t length = sizeof error;
  if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
  if (error == 0) {
    s->flags = (s->flags & ~F_CONNECTING) | F_READING;
    error = watch(e, s, id);
  }
  if (error != 0) {
    slot_release(e, s, index_of(id));
    emit(e, EV_CONNECTED, id, error, 0);
    return;
  }
  emit(e, EV_CONNECTED, id, 0, 0);
}

static void on_writable(engine_t *e, slot_t *s, int32_t id) {
  size_t before = s->u.q.queued;
  int error = write_queue_flush(&s->u.q, s->fd);
  if (error != 0) {
    lose(e, s, id, error);
    return;
  }
  if (s->u.q.queued != before && !(s->flags & F_CLOSING)) {
    emit(e, EV_WRITTEN, id, saturate(s->u.q.queued), 0);
  }
  if (s->u.q.queued == 0) {
    int result = after_flush(e, s, id, 1);
    if (result == 1) return;
    if (result < 0) {
      lose(e, s, id, -result);
      return;
    }
  }
  error = watch(e, s, id);
  if (error != 0) lose(e, s, id, error);
}

uint32_t engine_collect(engine_t *e) {
  e->count = 0;
  e->reserved = 0;
  e->data_used = 0;
  poller_event_t events[EVENTS_PER_WAKE];
  uint32_t room = (e->capacity - e->count) / RECORDS_PER_EVENT;
  int max = room < EVENTS_PER_WAKE ? (int)room : EVENTS_PER_WAKE;
  int n = poller_wait(e->poller, events, max);
  /* With many busy sockets their slots are out of the caches by the time they are ready again
   * (the kernel's work in between evicts them): ask for all of them first, so the misses
   * overlap instead of coming one after the other in the loop below. */
  for (int i = 0; i < n; i++) prefetch_slot(e, (int32_t)events[i].token);
  /* A failing epoll_wait (EBADF, EFAULT) would be a bug here; nothing to deliver then. */
  for (int i = 0; i < n; i++) {
    int32_t id = (int32_t)events[i].token;
    slot_t *s = lookup(e, id);
    if (s == NULL) continue; /* closed earlier in this wake-up */
    uint32_t ready = events[i].events;
    if (s->flags & F_LISTENER) {
      on_listener(e, s, id);
      continue;
    }
    if (!records_free(e, RECORDS_PER_EVENT)) break;
    if (s->flags & F_CONNECTING) {
      on_connected(e, s, id);
      continue;
    }
    /* Write first: a flush that completes a graceful close ends the socket, and a read then
     * has nothing to do. An error or hang-up is found by whichever of the two runs. */
    if ((ready & (POLLER_OUT | POLLER_ERR | POLLER_HUP)) && s->u.q.queued > 0) {
      on_writable(e, s, id);
      if (lookup(e, id) == NULL) continue;
    }
    if ((ready & (POLLER_IN | POLLER_ERR | POLLER_HUP)) && (s->watched & POLLER_IN)) {
      if ((s->flags & (F_RD_EOF | F_CLOSING)) == F_RD_EOF) {
        /* Its EOF was delivered last wake-up and it stays open: stop watching its input. */
        int error = watch(e, s, id);
        if (error != 0) lose(e, s, id, error);
        continue;
      }
      on_readable(e, s, id, (uint32_t)(n - i));
    }
  }
  finish_reads(e);
  return e->count;
}

/* ---- lifetime ---- */

int engine_open(engine_t **out, int32_t *records, uint32_t capacity, uint8_t *data,
                size_t data_size, int use_uring) {
  if (capacity < RECORDS_PER_EVENT || data_size < READ_MIN) return EINVAL;
  engine_t *e = calloc(1, sizeof *e);
  if (e == NULL) return ENOMEM;
  int error = poller_open(&e->poller);
  if (error == 0) {
    error = batch_io_open(&e->io, use_uring);
    if (error != 0) poller_close(e->poller);
  }
  if (error != 0) {
    free(e);
    return error;
  }
  e->free_head = NO_SLOT;
  e->free_tail = NO_SLOT;
  e->records = records;
  e->capacity = capacity;
  e->data = data;
  e->data_size = data_size;
  *out = e;
  return 0;
}

void engine_close(engine_t *e) {
  if (e == NULL) return;
  for (uint32_t index = 0; index < e->slots; index++) {
    slot_t *s = slot_at(e, index);
    if (s->flags & F_USED) slot_release(e, s, index);
  }
  for (uint32_t page = 0; page < MAX_PAGES && e->pages[page] != NULL; page++) {
    free(e->pages[page]);
  }
  poller_close(e->poller);
  batch_io_close(e->io);
  free(e);
}

int engine_poll_fd(const engine_t *e) { return poller_fd(e->poller); }

uint32_t engine_live(const engine_t *e) { return e->live; }

int engine_uses_uring(const engine_t *e) { return batch_io_uses_uring(e->io); }

/* ---- listeners ---- */

static int32_t adopt_listener(engine_t *e, int fd, uint32_t flags) {
  int32_t id;
  int error = slot_alloc(e, fd, F_LISTENER | flags, &id);
  if (error != 0) {
    (void)close(fd);
    return -error;
  }
  slot_t *s = slot_at(e, index_of(id));
  error = watch(e, s, id);
  if (error != 0) {
    slot_release(e, s, index_of(id));
    return -error;
  }
  return id;
}

int32_t engine_listen(engine_t *e, const struct sockaddr *address, socklen_t length, int backlog,
                      int ipv6_only, uint32_t options, int keepalive_delay_s) {
  int fd = socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int error = 0;
  /* libuv sets SO_REUSEADDR on every TCP listener: a restarted server can rebind at once. */
  error = set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (error == 0 && (options & ENGINE_OPT_REUSEPORT)) {
    error = set_int_option(fd, SOL_SOCKET, SO_REUSEPORT, 1);
  }
  if (error == 0 && address->sa_family == AF_INET6) {
    error = set_int_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, ipv6_only ? 1 : 0);
  }
  if (error == 0 && bind(fd, address, length) != 0) error = errno;
  if (error == 0 && listen(fd, backlog) != 0) error = errno;
  if (error != 0) {
    (void)close(fd);
    return -error;
  }
  /* Set once here: accepted sockets inherit them (see on_listener). */
  apply_options(fd, options, keepalive_delay_s);
  return adopt_listener(e, fd, 0);
}

static int unix_address(const char *path, struct sockaddr_un *address, socklen_t *length) {
  size_t size = strlen(path);
  if (size == 0 || size >= sizeof address->sun_path) return ENAMETOOLONG;
  memset(address, 0, sizeof *address);
  address->sun_family = AF_UNIX;
  memcpy(address->sun_path, path, size);
  *length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + size + 1);
  return 0;
}

int32_t engine_listen_unix(engine_t *e, const char *path, int backlog) {
  struct sockaddr_un address;
  socklen_t length;
  int error = unix_address(path, &address, &length);
  if (error != 0) return -error;
  char *copy = strdup(path);
  if (copy == NULL) return -ENOMEM;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = errno;
    free(copy);
    return -error;
  }
  if (bind(fd, (struct sockaddr *)&address, length) != 0) {
    error = errno;
    (void)close(fd);
    free(copy);
    return -error;
  }
  if (listen(fd, backlog) != 0) {
    error = errno;
    (void)close(fd);
    (void)unlink(path);
    free(copy);
    return -error;
  }
  int32_t id = adopt_listener(e, fd, F_UNIX);
  if (id < 0) {
    (void)unlink(path);
    free(copy);
    return id;
  }
  slot_at(e, index_of(id))->u.l.path = copy;
  return id;
}

int engine_listener_watch(engine_t *e, int32_t id, int on) {
  slot_t *s = lookup(e, id);
  if (s == NULL || !(s->flags & F_LISTENER)) return -EBADF;
  if (on) s->flags &= ~F_PAUSED;
  else s->flags |= F_PAUSED;
  int error = watch(e, s, id);
  return error == 0 ? 0 : -error;
}

int engine_close_listener(engine_t *e, int32_t id) {
  slot_t *s = lookup(e, id);
  if (s == NULL || !(s->flags & F_LISTENER)) return -EBADF;
  slot_release(e, s, index_of(id));
  return 0;
}

/* ---- connections ---- */

static int32_t start_connect(engine_t *e, int fd, const struct sockaddr *address,
                             socklen_t length, uint32_t flags) {
  int error = 0;
  while (connect(fd, address, length) != 0) {
    if (errno == EINTR) continue; /* the connect goes on in the background; wait for it */
    if (errno != EINPROGRESS) error = errno;
    break;
  }
  if (error != 0) {
    (void)close(fd);
    return -error;
  }
  int32_t id;
  error = slot_alloc(e, fd, F_CONNECTING | flags, &id);
  if (error != 0) {
    (void)close(fd);
    return -error;
  }
  /* Even a connect that completed at once reports through EV_CONNECTED on the next wake-up
   * (the socket is writable), so the caller sees one path. */
  slot_t *s = slot_at(e, index_of(id));
  if (!(flags & F_UNIX)) keep_peer(s, address, length);
  error = watch(e, s, id);
  if (error != 0) {
    slot_release(e, s, index_of(id));
    return -error;
  }
  return id;
}

int32_t engine_connect(engine_t *e, const struct sockaddr *address, socklen_t length,
                       const struct sockaddr *local, socklen_t local_length, uint32_t options,
                       int keepalive_delay_s) {
  int fd = socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (local != NULL && bind(fd, local, local_length) != 0) {
    int error = errno;
    (void)close(fd);
    return -error;
  }
  apply_options(fd, options, keepalive_delay_s);
  return start_connect(e, fd, address, length, 0);
}

int32_t engine_connect_unix(engine_t *e, const char *path) {
  struct sockaddr_un address;
  socklen_t length;
  int error = unix_address(path, &address, &length);
  if (error != 0) return -error;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  return start_connect(e, fd, (struct sockaddr *)&address, length, F_UNIX);
}

static slot_t *lookup_connection(engine_t *e, int32_t id) {
  slot_t *s = lookup(e, id);
  return (s == NULL || (s->flags & F_LISTENER)) ? NULL : s;
}

/* A call from JavaScript found the socket broken: close it, report -errno. */
static int64_t fail(engine_t *e, slot_t *s, int32_t id, int error) {
  slot_release(e, s, index_of(id));
  return -(int64_t)error;
}

int64_t engine_writev(engine_t *e, int32_t id, const struct iovec *iov, int count) {
  slot_t *s = lookup_connection(e, id);
  if (s == NULL) return -EBADF;
  int skip = 0;
  size_t offset = 0; /* bytes of iov[skip] already sent */
  if (s->u.q.queued == 0) {
    /* Nothing queued: try the kernel directly; queue only what it did not take. Pieces past
     * IOV_MAX go to the queue, whose flush sends them in order. */
    struct msghdr message = {.msg_iov = (struct iovec *)iov,
                             .msg_iovlen = (size_t)(count < IOV_MAX ? count : IOV_MAX)};
    ssize_t n;
    do {
      n = sendmsg(s->fd, &message, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) return fail(e, s, id, errno);
      n = 0;
    }
    size_t sent = (size_t)n;
    while (skip < count && sent >= iov[skip].iov_len) {
      sent -= iov[skip].iov_len;
      skip++;
    }
    offset = sent;
    if (skip == count) return 0;
  }
  for (int i = skip; i < count; i++) {
    size_t from = i == skip ? offset : 0;
    const uint8_t *bytes = (const uint8_t *)iov[i].iov_base + from;
    if (write_queue_append(&s->u.q, bytes, iov[i].iov_len - from) != 0) {
      return fail(e, s, id, ENOMEM);
    }
  }
  int error = watch(e, s, id);
  if (error != 0) return fail(e, s, id, error);
  return (int64_t)s->u.q.queued;
}

/* A write the kernel did not take whole (`sent`: bytes it took, or -errno): queue the rest and
 * watch for room. The write's answer. */
static int64_t queue_rest(engine_t *e, slot_t *s, int32_t id, const uint8_t *bytes,
                          size_t length, int64_t sent) {
  if (sent < 0) {
    if (sent != -EAGAIN && sent != -EWOULDBLOCK && sent != -EINTR) {
      return fail(e, s, id, (int)-sent);
    }
    sent = 0;
  }
  if (write_queue_append(&s->u.q, bytes + sent, length - (size_t)sent) != 0) {
    return fail(e, s, id, ENOMEM);
  }
  int error = watch(e, s, id);
  if (error != 0) return fail(e, s, id, error);
  return (int64_t)s->u.q.queued;
}

int64_t engine_write(engine_t *e, int32_t id, const uint8_t *bytes, size_t length) {
  slot_t *s = lookup_connection(e, id);
  if (s == NULL) return -EBADF;
  int64_t sent = 0;
  if (s->u.q.queued == 0) {
    sent = socket_send(s->fd, bytes, length);
    if (sent == (int64_t)length) return 0;
  }
  return queue_rest(e, s, id, bytes, length, sent);
}

/* Markers in engine.results while a write batch is prepared (a send's result is never these). */
#define WRITE_LATER INT64_MIN
#define WRITE_OUT_OF_RANGE (INT64_MIN + 1)

void engine_write_batch(engine_t *e, int32_t *writes, uint32_t count, const uint8_t *bytes,
                        size_t size) {
  for (uint32_t first = 0; first < count; first += BATCH_IO_OPS) {
    uint32_t end = count - first < BATCH_IO_OPS ? count : first + BATCH_IO_OPS;
    /* One send each for the batch's first write to every connection with nothing queued;
     * the others (a second write to a connection, or one behind a queue) wait for them. */
    for (uint32_t i = first; i < end; i++) {
      const int32_t *w = writes + (size_t)i * 3;
      size_t offset = (uint32_t)w[1], length = (uint32_t)w[2];
      int64_t *result = &e->results[i - first];
      *result = WRITE_LATER;
      if (offset > size || length > size - offset) {
        *result = WRITE_OUT_OF_RANGE;
        continue;
      }
      slot_t *s = lookup_connection(e, w[0]);
      if (s == NULL || s->u.q.queued > 0 || (s->flags & F_SENDING) || length == 0) continue;
      s->flags |= F_SENDING;
      batch_io_send(e->io, s->fd, bytes + offset, length, i - first);
    }
    batch_io_run(e->io, e->results);
    /* In order, so a connection's later writes follow what its first one left queued. */
    for (uint32_t i = first; i < end; i++) {
      int32_t *w = writes + (size_t)i * 3;
      size_t offset = (uint32_t)w[1], length = (uint32_t)w[2];
      int64_t result = e->results[i - first];
      int64_t answer;
      if (result == WRITE_OUT_OF_RANGE) {
        answer = -EINVAL;
      } else if (result == WRITE_LATER) {
        answer = engine_write(e, w[0], bytes + offset, length);
      } else {
        /* Live, unless an empty write of the same connection ahead of it (performed above
         * with engine_write) found the socket broken and closed it. */
        slot_t *s = lookup(e, w[0]);
        if (s == NULL) {
          answer = -EBADF;
        } else {
          s->flags &= ~F_SENDING;
          answer = result == (int64_t)length
                       ? 0
                       : queue_rest(e, s, w[0], bytes + offset, length, result);
        }
      }
      w[1] = answer > INT32_MAX ? INT32_MAX : (int32_t)answer;
    }
  }
}

int engine_shutdown(engine_t *e, int32_t id) {
  slot_t *s = lookup_connection(e, id);
  if (s == NULL) return -EBADF;
  s->flags |= F_SHUT_PENDING;
  if (s->u.q.queued > 0) return 0;
  int result = after_flush(e, s, id, 0);
  if (result < 0) return (int)fail(e, s, id, -result);
  return 0;
}

int engine_close_graceful(engine_t *e, int32_t id) {
  slot_t *s = lookup_connection(e, id);
  if (s == NULL) return -EBADF;
  if (s->flags & (F_CONNECTING | F_CLOSING)) {
    /* Not connected yet, or a second close: the peer had its time to finish; close now. */
    slot_release(e, s, index_of(id));
    return 1;
  }
  s->flags |= F_CLOSING;
  if (s->u.q.queued == 0) {
    int result = after_flush(e, s, id, 0);
    if (result < 0) return (int)fail(e, s, id, -result);
    if (result == 1) return 1;
  }
  /* Keep reading (and dropping) until the peer's FIN: see after_flush. */
  int error = watch(e, s, id);
  if (error != 0) return (int)fail(e, s, id, error);
  return 0;
}

int engine_abort(engine_t *e, int32_t id) {
  slot_t *s = lookup_connection(e, id);
  if (s == NULL) return -EBADF;
  if (!(s->flags & (F_UNIX | F_CONNECTING))) {
    /* A zero linger time makes close() send RST and drop what the kernel still holds. If it
     * fails, close() sends FIN instead: still the end of the connection. */
    struct linger linger = {.l_onoff = 1, .l_linger = 0};
    (void)setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &linger, sizeof linger);
  }
  slot_release(e, s, index_of(id));
  return 0;
}

int engine_set_reading(engine_t *e, int32_t id, int reading) {
  slot_t *s = lookup_connection(e, id);
  if (s == NULL) return -EBADF;
  if (reading) s->flags |= F_READING;
  else s->flags &= ~F_READING;
  int error = watch(e, s, id);
  return error == 0 ? 0 : (int)fail(e, s, id, error);
}

int engine_set_buffered(engine_t *e, int32_t id, int buffered) {
  slot_t *s = lookup_connection(e, id);
  if (s == NULL) return -EBADF;
  if (buffered) s->flags |= F_BUFFERED;
  else s->flags &= ~F_BUFFERED;
  return 0;
}

int64_t engine_read_into(engine_t *e, int32_t id, uint8_t *buffer, size_t length) {
  slot_t *s = lookup_connection(e, id);
  if (s == NULL) return -EBADF;
  ssize_t n;
  do {
    n = recv(s->fd, buffer, length, 0);
  } while (n < 0 && errno == EINTR);
  if (n > 0) return n;
  if (n == 0) {
    s->flags |= F_RD_EOF;
    int error = watch(e, s, id);
    return error == 0 ? 0 : fail(e, s, id, error);
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) return -EAGAIN;
  return fail(e, s, id, errno);
}

int engine_address(engine_t *e, int32_t id, int peer, struct sockaddr_storage *out,
                   socklen_t *length) {
  slot_t *last = peer ? lookup_last(e, id) : NULL;
  if (last != NULL && last->peer.family != 0) {
    *length = unpack_peer(&last->peer, out);
    return 0;
  }
  slot_t *s = lookup(e, id);
  if (s == NULL) return -EBADF;
  *length = sizeof *out;
  int result = peer ? getpeername(s->fd, (struct sockaddr *)out, length)
                    : getsockname(s->fd, (struct sockaddr *)out, length);
  return result == 0 ? 0 : -errno;
}

int engine_is_unix(engine_t *e, int32_t id) {
  slot_t *s = lookup(e, id);
  if (s == NULL) return -EBADF;
  return (s->flags & F_UNIX) ? 1 : 0;
}
