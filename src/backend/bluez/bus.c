/* SPDX-License-Identifier: MIT */
/*
 * sd-bus driven by a bleak_loop. After every dispatch of the bus we ask
 * sd-bus what it waits for (sd_bus_get_events, sd_bus_get_timeout) and
 * update the fd watch and the timer accordingly: sd-bus has no callback for
 * "my wishes changed", so code that queues messages outside of a bus
 * dispatch calls bk_bus_kick().
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/bluez/bus.h"
#include "backend/bluez/objects.h"
#include "core/internal.h"
#include "core/rfkill.h"
#include "core/queue.h"

#define LOG_MOD "dbus"
/* Messages processed per dispatch before yielding to other sources. */
#define PROCESS_BUDGET 64

struct bk_bus {
  sd_bus *bus;
  bleak_loop *loop;
  bleak_source *io;
  bleak_source *timer;
  int refs; /* 0: idle, kept (with its object tree) until the loop is freed */
  bool lost;
  struct bz_objects *objects; /* objects.h, made on first use */
  bk_qnode node; /* in `buses` */
};

/* Loops are per thread, and so is the registry of their buses. */
static _Thread_local bk_queue buses;

static void service(bk_bus *b);
static void bus_free(bk_bus *b);

/* The loop goes: so does the bus it kept for the next client. */
static void on_loop_free(void *user) { bus_free(user); }

static uint32_t to_loop_events(int ev) {
  uint32_t r = 0;
  if (ev & POLLIN)
    r |= BLEAK_IO_READ;
  if (ev & POLLOUT)
    r |= BLEAK_IO_WRITE;
  return r;
}

static void update(bk_bus *b) {
  if (b->lost)
    return;
  int ev = sd_bus_get_events(b->bus);
  if (ev >= 0)
    bleak_source_set_io_events(b->io, to_loop_events(ev));
  uint64_t usec = UINT64_MAX;
  if (sd_bus_get_timeout(b->bus, &usec) < 0 || usec == UINT64_MAX) {
    bleak_source_stop_timer(b->timer);
    return;
  }
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
  uint64_t ms = usec > now ? (usec - now + 999u) / 1000u : 0;
  bleak_source_set_timer(b->timer, ms);
}

static void on_io(bleak_source *src, int fd, uint32_t revents, void *user) {
  (void)src;
  (void)fd;
  (void)revents;
  service(user);
}

static void on_timer(bleak_source *src, void *user) {
  (void)src;
  service(user);
}

static void service(bk_bus *b) {
  if (b->lost)
    return;
  for (int i = 0; i < PROCESS_BUDGET; i++) {
    int r = sd_bus_process(b->bus, NULL);
    if (r < 0) {
      BK_ERROR(LOG_MOD, "D-Bus connection lost: %s", strerror(-r));
      b->lost = true;
      bleak_source_set_io_events(b->io, 0);
      bleak_source_stop_timer(b->timer);
      return;
    }
    if (r == 0)
      break;
    if (i == PROCESS_BUDGET - 1) {
      /* More to do: come back after the other sources had their turn. */
      bleak_source_set_timer(b->timer, 0);
      bleak_source_set_io_events(b->io, 0);
      return;
    }
  }
  update(b);
}

void bk_bus_kick(bk_bus *b) {
  if (b && !b->lost)
    bleak_source_set_timer(b->timer, 0);
}

static void bus_free(bk_bus *b) {
  bk_queue_remove(&buses, &b->node);
  bk_loop_on_free_cancel(b->loop, on_loop_free, b);
  bz_objects_free(b->objects); /* its calls and matches before the bus */
  bleak_source_free(b->io);
  bleak_source_free(b->timer);
  if (b->bus)
    sd_bus_flush_close_unref(b->bus);
  free(b);
}

static int bus_connect(sd_bus **out) {
  const char *addr = getenv("BLEAK_DBUS_ADDRESS");
  if (!addr || !*addr)
    return sd_bus_open_system(out);
  sd_bus *bus = NULL;
  int r = sd_bus_new(&bus);
  if (r >= 0)
    r = sd_bus_set_address(bus, addr);
  if (r >= 0)
    r = sd_bus_set_bus_client(bus, 1);
  if (r >= 0)
    r = sd_bus_start(bus);
  if (r < 0) {
    sd_bus_unref(bus);
    return r;
  }
  *out = bus;
  return 0;
}

int bk_bus_get(bleak_loop *loop, bk_bus **out) {
  *out = NULL;
  for (bk_qnode *n = bk_queue_head(&buses); n; n = bk_qnode_next(n)) {
    bk_bus *b = BK_QUEUE_ENTRY(n, bk_bus, node);
    if (b->loop == loop && !b->lost) {
      if (b->refs++ == 0) {
        bk_source_set_background(b->io, false);
        bk_source_set_background(b->timer, false);
      }
      *out = b;
      return 0;
    }
  }
  bk_bus *b = calloc(1, sizeof *b);
  if (!b)
    return BLEAK_ERR_NO_MEMORY;
  b->loop = loop;
  b->refs = 1;
  int r = bus_connect(&b->bus);
  if (r < 0) {
    free(b);
    return bk_fail(BLEAK_ERR_NO_BACKEND, "cannot connect to the D-Bus system bus: %s",
                   strerror(-r));
  }
  int fd = sd_bus_get_fd(b->bus);
  r = bleak_loop_add_io(loop, fd, BLEAK_IO_READ, on_io, b, &b->io);
  if (r == 0)
    r = bleak_loop_add_timer(loop, 0, on_timer, b, &b->timer);
  bk_queue_push(&buses, &b->node);
  if (r == 0)
    r = bk_loop_on_free(loop, on_loop_free, b);
  if (r < 0) {
    bus_free(b);
    return r;
  }
  *out = b;
  return 0;
}

/* The last client going keeps the connection and its object tree (and the
 * matches that keep the tree current) for the next client on this loop:
 * Bleak's one-connection-per-process costs a GetManagedObjects per client,
 * ours one per process. A lost connection is freed at once. */
void bk_bus_unref(bk_bus *b) {
  if (!b || --b->refs > 0)
    return;
  if (b->lost) {
    bus_free(b);
    return;
  }
  bk_source_set_background(b->io, true);
  bk_source_set_background(b->timer, true);
}

sd_bus *bk_bus_sd(const bk_bus *b) { return b->bus; }
struct bz_objects **bk_bus_objects_slot(bk_bus *b) { return &b->objects; }
bleak_loop *bk_bus_loop(const bk_bus *b) { return b->loop; }

/* BlueZ's "Operation failed with ATT error: 0x%02x". */
static int att_code_in(const char *msg) {
  const char *p = msg ? strstr(msg, "ATT error: 0x") : NULL;
  if (!p)
    return -1;
  char *end = NULL;
  long v = strtol(p + strlen("ATT error: 0x"), &end, 16);
  if (end == p + strlen("ATT error: 0x") || v <= 0 || v > 0xff)
    return -1;
  return (int)v;
}

int bk_bus_error(const sd_bus_error *e, const char *what) {
  const char *name = e && e->name ? e->name : "?";
  const char *msg = e && e->message ? e->message : "";
  int code = BLEAK_ERR_BACKEND;
  if (!strcmp(name, "org.bluez.Error.NotPermitted")) {
    if (!strcmp(msg, "Read not permitted"))
      code = BLEAK_ERR_ATT(BLEAK_ATT_READ_NOT_PERMITTED);
    else if (!strcmp(msg, "Write not permitted"))
      code = BLEAK_ERR_ATT(BLEAK_ATT_WRITE_NOT_PERMITTED);
    else if (!strcmp(msg, "Not paired"))
      code = BLEAK_ERR_ATT(BLEAK_ATT_INSUFFICIENT_AUTHENTICATION);
  } else if (!strcmp(name, "org.bluez.Error.NotAuthorized")) {
    code = BLEAK_ERR_ATT(BLEAK_ATT_INSUFFICIENT_AUTHORIZATION);
  } else if (!strcmp(name, "org.bluez.Error.InvalidOffset") ||
             !strcmp(msg, "Invalid offset")) {
    code = BLEAK_ERR_ATT(BLEAK_ATT_INVALID_OFFSET);
  } else if (!strcmp(msg, "Invalid Length")) {
    code = BLEAK_ERR_ATT(BLEAK_ATT_INVALID_ATTRIBUTE_VALUE_LENGTH);
  } else if (!strcmp(name, "org.bluez.Error.Failed") && att_code_in(msg) > 0) {
    code = BLEAK_ERR_ATT(att_code_in(msg));
  } else if (!strcmp(name, "org.bluez.Error.NotConnected") ||
             (!strcmp(name, "org.bluez.Error.Failed") &&
              !strcmp(msg, "Not connected"))) {
    code = BLEAK_ERR_NOT_CONNECTED;
  } else if (!strcmp(name, "org.bluez.Error.Failed") &&
             (strstr(msg, "connection-limit") || strstr(msg, "Too many links"))) {
    /* EMLINK from the kernel: the controller's Connection Limit Exceeded. */
    code = BLEAK_ERR_NO_SLOT;
  } else if (!strcmp(name, "org.bluez.Error.NotReady") || strstr(msg, "not-powered")) {
    code = bk_rfkill_blocked("/sys", NULL) ? BLEAK_ERR_RFKILL : BLEAK_ERR_POWERED_OFF;
  } else if (!strcmp(name, "org.freedesktop.DBus.Error.AccessDenied")) {
    code = BLEAK_ERR_PERMISSION;
  } else if (!strcmp(name, "org.bluez.Error.InProgress")) {
    code = BLEAK_ERR_BUSY;
  } else if (!strcmp(name, "org.bluez.Error.AuthenticationFailed") ||
             !strcmp(name, "org.bluez.Error.AuthenticationRejected") ||
             !strcmp(name, "org.bluez.Error.AuthenticationCanceled") ||
             !strcmp(name, "org.bluez.Error.AuthenticationTimeout")) {
    code = BLEAK_ERR_AUTH;
  } else if (!strcmp(name, "org.freedesktop.DBus.Error.NoReply") ||
             !strcmp(name, "org.freedesktop.DBus.Error.Timeout")) {
    code = BLEAK_ERR_TIMEOUT;
  } else if (!strcmp(name, "org.freedesktop.DBus.Error.ServiceUnknown") ||
             !strcmp(name, "org.freedesktop.DBus.Error.NameHasNoOwner") ||
             !strncmp(name, "org.freedesktop.DBus.Error.Spawn.", 33)) {
    /* Spawn.*: bluetoothd is not running and D-Bus failed to start it. */
    code = BLEAK_ERR_NO_BLUETOOTHD;
  } else if (!strcmp(name, "org.freedesktop.DBus.Error.UnknownObject") ||
             !strcmp(name, "org.freedesktop.DBus.Error.UnknownMethod") ||
             !strcmp(name, "org.bluez.Error.DoesNotExist")) {
    code = BLEAK_ERR_NOT_FOUND;
  }
  return bk_fail(code, "%s: %s: %s", what, name, msg);
}

int bk_bus_reply_error(sd_bus_message *reply, const char *what) {
  const sd_bus_error *e = sd_bus_message_get_error(reply);
  return e ? bk_bus_error(e, what) : 0;
}
