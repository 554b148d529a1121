/* SPDX-License-Identifier: MIT */
/*
 * The bluez client's fast paths on sockets: notifications through
 * AcquireNotify (one datagram per value, no D-Bus message each) and writes
 * without response through AcquireWrite, with D-Bus as the fallback when
 * BlueZ refuses either.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend/bluez/client_priv.h"
#include "core/internal.h"

#define LOG_MOD "bluez"

void bz_release_acquired(bz_client *z, const bleak_gatt_characteristic *ch) {
  for (bk_qnode *n = bk_queue_head(&z->acquired), *next; n; n = next) {
    next = bk_qnode_next(n);
    acquired *a = BK_QUEUE_ENTRY(n, acquired, node);
    if (ch && a->ch != ch)
      continue;
    bk_queue_remove(&z->acquired, n);
    bleak_source_free(a->watch);
    close(a->fd); /* closing releases the acquisition in BlueZ */
    free(a);
  }
}

/* The stream of @p ch, or NULL. */
acquired *bz_acquired_find(const bz_client *z, const bleak_gatt_characteristic *ch) {
  for (bk_qnode *n = bk_queue_head(&z->acquired); n; n = bk_qnode_next(n)) {
    acquired *a = BK_QUEUE_ENTRY(n, acquired, node);
    if (a->ch == ch)
      return a;
  }
  return NULL;
}

static bool still_acquired(const bz_client *z, const acquired *a) {
  for (bk_qnode *n = bk_queue_head(&z->acquired); n; n = bk_qnode_next(n))
    if (BK_QUEUE_ENTRY(n, acquired, node) == a)
      return true;
  return false;
}

static void on_acquired_io(bleak_source *src, int fd, uint32_t revents, void *user) {
  (void)src;
  acquired *a = user;
  bz_client *z = a->z;
  const bleak_gatt_characteristic *ch = a->ch;
  uint8_t buf[BLEAK_MAX_ATTR_VALUE + 8];
  /* A bounded number per wake-up, so one busy stream cannot starve others. */
  for (int i = 0; i < 64; i++) {
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      bk_client_notify(z->c, ch, buf, (size_t)n);
      if (!still_acquired(z, a))
        return; /* the callback stopped the stream */
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !(revents & BLEAK_IO_ERROR))
      return;
    /* End of stream (the link dropped, or BlueZ released it). */
    BK_DEBUG(LOG_MOD, "notification stream closed by BlueZ");
    bz_release_acquired(z, ch);
    return;
  }
}

void bz_on_acquire_notify(void *owner, void *data, sd_bus_message *reply) {
  bz_client *z = owner;
  bk_op *op = data;
  S(op)->call = NULL;
  const sd_bus_error *e = sd_bus_message_get_error(reply);
  if (e) {
    /* No fast path for this one (NotSupported, NotPermitted): StartNotify. */
    BK_DEBUG(LOG_MOD, "AcquireNotify refused (%s): StartNotify", e->name);
    char path[192];
    bz_char_path(z, op->ch, path, sizeof path);
    int r = bz_simple_call(z, path, CHRC_IFACE, "StartNotify", false, 0, bz_on_op_reply, op,
                        &S(op)->call);
    if (r < 0)
      bk_op_done(op, r);
    return;
  }
  int fd = -1;
  uint16_t mtu = 0;
  acquired *a = calloc(1, sizeof *a);
  int r = sd_bus_message_read(reply, "hq", &fd, &mtu);
  if (!a || r < 0 || (fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
    free(a);
    bk_op_done(op, bk_fail(BLEAK_ERR_PROTOCOL, "bad AcquireNotify reply"));
    return;
  }
  a->z = z;
  a->ch = op->ch;
  a->fd = fd;
  if (bleak_loop_add_io(bk_bus_loop(z->bus), fd, BLEAK_IO_READ, on_acquired_io, a,
                        &a->watch) < 0) {
    close(fd);
    free(a);
    bk_op_done(op, BLEAK_ERR_IO);
    return;
  }
  bk_queue_push(&z->acquired, &a->node);
  if (mtu > z->mtu)
    z->mtu = mtu;
  bk_op_done(op, 0);
}


void bz_writers_release(bz_client *z) {
  bk_qnode *n;
  while ((n = bk_queue_pop(&z->writers)) != NULL) {
    writer *w = BK_QUEUE_ENTRY(n, writer, node);
    /* Queued ops are the core's: it aborts them (bz_abort), before this or
     * after it (the link lost), when they wait nowhere any more. */
    while (bk_queue_pop(&w->waiting))
      ;
    bz_call_drop(w->acquire_call); /* its reply must not find w */
    bleak_source_free(w->watch);
    if (w->fd >= 0)
      close(w->fd);
    free(w);
  }
}

static writer *writer_find(bz_client *z, const bleak_gatt_characteristic *ch) {
  for (bk_qnode *n = bk_queue_head(&z->writers); n; n = bk_qnode_next(n)) {
    writer *w = BK_QUEUE_ENTRY(n, writer, node);
    if (w->ch == ch)
      return w;
  }
  return NULL;
}

/* Forget @p s if it waits for its characteristic's socket; true when it did. */
bool bz_writer_unqueue(bz_client *z, bz_op *s) {
  if (!bk_qnode_linked(&s->writer_node))
    return false;
  /* A queued write is in its characteristic's writer (bz_writers_release
   * unqueues them all). */
  bk_queue_remove(&writer_find(z, s->op->ch)->waiting, &s->writer_node);
  return true;
}

static void writer_by_dbus(bz_client *z, bk_op *op) {
  char path[192];
  bz_char_path(z, op->ch, path, sizeof path);
  int r = bz_start_value_call(z, op, path, CHRC_IFACE, true);
  if (r < 0)
    bk_op_done(op, r);
}

/* Send what is queued; stop at a full socket (watch for room). */
static void writer_drain(writer *w) {
  bk_qnode *node;
  while ((node = bk_queue_head(&w->waiting)) != NULL) {
    bk_op *op = BK_QUEUE_ENTRY(node, bz_op, writer_node)->op;
    if (w->refused) {
      bk_queue_remove(&w->waiting, node);
      writer_by_dbus(w->z, op);
      continue;
    }
    ssize_t n = send(w->fd, op->data ? op->data : (const uint8_t *)"", op->len,
                     MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      bleak_source_set_io_events(w->watch, BLEAK_IO_WRITE);
      return;
    }
    bk_queue_remove(&w->waiting, node);
    bk_op_done(op, n == (ssize_t)op->len ? 0
                   : bk_fail(BLEAK_ERR_IO, "write on the AcquireWrite socket failed"));
  }
  if (w->watch)
    bleak_source_set_io_events(w->watch, 0);
}

static void on_writer_io(bleak_source *src, int fd, uint32_t revents, void *user) {
  (void)src;
  (void)fd;
  (void)revents;
  writer_drain(user);
}

static void on_acquire_write(void *owner, void *data, sd_bus_message *reply) {
  bz_client *z = owner;
  writer *w = data;
  w->acquire_call = NULL;
  const sd_bus_error *e = sd_bus_message_get_error(reply);
  int fd = -1;
  uint16_t mtu = 0;
  if (e || sd_bus_message_read(reply, "hq", &fd, &mtu) < 0 ||
      (fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0 ||
      bleak_loop_add_io(bk_bus_loop(z->bus), fd, 0, on_writer_io, w, &w->watch) < 0) {
    BK_DEBUG(LOG_MOD, "AcquireWrite refused (%s): WriteValue", e ? e->name : "bad reply");
    if (fd >= 0)
      close(fd);
    w->refused = true;
  } else {
    w->fd = fd;
  }
  writer_drain(w);
}

/* A write without response: through the characteristic's socket. */
int bz_write_command(bz_client *z, bk_op *op) {
  writer *w = writer_find(z, op->ch);
  if (!w) {
    w = calloc(1, sizeof *w);
    if (!w)
      return BLEAK_ERR_NO_MEMORY;
    w->z = z;
    w->ch = op->ch;
    w->fd = -1;
    bk_queue_push(&z->writers, &w->node);
    char path[192];
    bz_char_path(z, op->ch, path, sizeof path);
    sd_bus_message *m = NULL;
    int r = bz_new_call(z, path, CHRC_IFACE, "AcquireWrite", &m);
    if (r == 0 && bz_append_empty_dict(m) >= 0)
      r = bz_call_send(z->bus, &z->calls, m, 0, on_acquire_write, z, w, &w->acquire_call);
    else
      r = r < 0 ? r : BLEAK_ERR_NO_MEMORY;
    sd_bus_message_unref(m);
    if (r < 0)
      w->refused = true;
  }
  if (w->refused && bk_queue_empty(&w->waiting)) {
    char path[192];
    bz_char_path(z, op->ch, path, sizeof path);
    return bz_start_value_call(z, op, path, CHRC_IFACE, true);
  }
  bk_queue_push(&w->waiting, &S(op)->writer_node);
  if (w->fd >= 0 && bk_queue_head(&w->waiting) == &S(op)->writer_node)
    writer_drain(w);
  return 0;
}
