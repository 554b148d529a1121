/* SPDX-License-Identifier: MIT */
/* A controller of the hci backend on a bleak_loop: see controller.h. */
#include "backend/hci/controller.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend/hci/bond_store.h"
#include "backend/hci/l2cap_signal.h"
#include "backend/hci/resolver.h"
#include "backend/hci/smp.h"
#include "bleak/error.h"
#include "core/internal.h"
#include "transport/btsnoop.h"
#include "transport/h4.h"
#include "transport/hci_transport.h"

#define MOD "hci"
#define MAX_USERS 32
#define SEEN 64

#define REASON_REMOTE_USER 0x13

struct bk_ctrl {
  bk_ctrl *next; /* this thread's controllers */
  bleak_loop *loop;
  char *spec;
  int fd;
  bool is_socket; /* sockets are written with MSG_NOSIGNAL: a controller
                   * gone must not SIGPIPE the user's program */
  uint32_t io_events; /* what the fd watch waits for now */
  uint64_t armed;     /* when the timer fires (loop ms), 0: not armed */
  bleak_source *io, *timer, *notify;
  uint64_t rx_now; /* the loop's time for the packets of one read pass, and so
                   * for the commands the HCI host's callbacks send (they run
                   * inside bk_hci_feed) */
  bk_h4 h4;
  bk_hci hci;
  bk_btsnoop snoop;
  uint8_t *out;
  size_t out_len, out_cap;
  bool ready, lost;
  int ready_status;
  int busy;
  bool doomed;
  bk_ctrl_user *users[MAX_USERS];
  /* scanning */
  bool scan_on, scan_active, scan_cmd;
  /* connecting: one LE Create Connection at a time */
  bk_ctrl_user *conn_user;
  bool conn_inflight; /* the command went out; a completion will come */
  /* Who advertised: the address as reported to users (a peer's identity
   * when its private address resolved) and the one on the air. */
  struct {
    uint8_t addr[6], type;
    uint8_t air[6], air_type;
    bool used;
  } seen[SEEN];
  size_t seen_next;
  /* Peer privacy: the bonded peers' identities, from the bond directories
   * learned so far (each read once). */
  bk_resolver resolver;
  char **bond_dirs;
  size_t n_bond_dirs;
};

static _Thread_local bk_ctrl *controllers;

static void ctrl_destroy(bk_ctrl *c);
static void resched(bk_ctrl *c);
static void scan_sync(bk_ctrl *c);
static void conn_sync(bk_ctrl *c);
static int learn_dir(bk_ctrl *c, const char *dir);

/* Entry points hold the controller; the last one out frees it if the last
 * user left meanwhile. */
static void flush_out(bk_ctrl *c);

/* Output written inside an entry point goes out in one write when it
 * ends: the fragments of a PDU, a confirmation and the credits' next
 * packets, in one system call rather than one each. */
static void enter(bk_ctrl *c) { c->busy++; }
static void leave(bk_ctrl *c) {
  if (--c->busy > 0)
    return;
  if (c->doomed) {
    ctrl_destroy(c);
    return;
  }
  if (c->out_len && !c->lost && !(c->io_events & BLEAK_IO_WRITE))
    flush_out(c);
  resched(c);
}

/* Change what the fd watch waits for, when it changes (a system call). */
static void set_io(bk_ctrl *c, uint32_t events) {
  if (c->io && events != c->io_events && bleak_source_set_io_events(c->io, events) == 0)
    c->io_events = events;
}

/* ---- output -------------------------------------------------------------- */

static void set_lost(bk_ctrl *c, int err);

static void flush_out(bk_ctrl *c) {
  size_t done = 0;
  while (done < c->out_len) {
    ssize_t n = c->is_socket ? send(c->fd, c->out + done, c->out_len - done, MSG_NOSIGNAL)
                             : write(c->fd, c->out + done, c->out_len - done);
    if (n > 0) {
      done += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      break;
    set_lost(c, bk_fail(BLEAK_ERR_IO, "write to the controller: %s",
                        n < 0 ? strerror(errno) : "closed"));
    return;
  }
  memmove(c->out, c->out + done, c->out_len - done);
  c->out_len -= done;
  set_io(c, BLEAK_IO_READ | (c->out_len ? BLEAK_IO_WRITE : 0));
}

static void hci_write(void *owner, const uint8_t *h4, size_t len) {
  bk_ctrl *c = owner;
  if (c->lost || len == 0)
    return;
  bk_btsnoop_write(&c->snoop, h4[0], h4 + 1, len - 1, false);
  if (c->out_len + len > c->out_cap) {
    size_t cap = c->out_cap ? c->out_cap : 4096;
    while (cap < c->out_len + len)
      cap *= 2;
    uint8_t *n = realloc(c->out, cap);
    if (!n) {
      set_lost(c, bk_fail(BLEAK_ERR_NO_MEMORY, "HCI output buffer"));
      return;
    }
    c->out = n;
    c->out_cap = cap;
  }
  memcpy(c->out + c->out_len, h4, len);
  c->out_len += len;
  /* Outside an entry point, and nothing waiting for the fd: now. */
  if (!c->busy && c->out_len == len)
    flush_out(c);
}

/* ---- users ---------------------------------------------------------------- */

static bk_ctrl_user *user_by_handle(bk_ctrl *c, uint16_t handle) {
  for (size_t i = 0; i < MAX_USERS; i++)
    if (c->users[i] && c->users[i]->linked && c->users[i]->handle == handle)
      return c->users[i];
  return NULL;
}

static void on_notify(bleak_source *src, void *user) {
  (void)src;
  bk_ctrl *c = user;
  if (!c->ready && !c->lost)
    return;
  enter(c);
  for (size_t i = 0; i < MAX_USERS; i++) {
    bk_ctrl_user *u = c->users[i];
    if (u && u->ready_pending) {
      u->ready_pending = false;
      if (u->ops->ready)
        u->ops->ready(u, c->lost && !c->ready_status ? BLEAK_ERR_IO : c->ready_status);
    }
  }
  leave(c);
}

static void set_lost(bk_ctrl *c, int err) {
  if (c->lost)
    return;
  c->lost = true;
  if (!c->ready) {
    c->ready_status = err;
    bleak_source_set_timer(c->notify, 0);
  }
  set_io(c, 0);
  BK_ERROR(MOD, "controller %s lost: %s", c->spec, bleak_strerror(err));
  bk_hci_close(&c->hci);
  enter(c);
  for (size_t i = 0; i < MAX_USERS; i++) {
    bk_ctrl_user *u = c->users[i];
    if (!u)
      continue;
    u->linked = u->connecting = u->scanning = false;
    if (c->ready && u->ops->lost && !u->ready_pending)
      u->ops->lost(u, err);
  }
  leave(c);
}

/* ---- HCI events ----------------------------------------------------------- */

static void hci_ready(void *owner, int status) {
  bk_ctrl *c = owner;
  c->ready = status == 0;
  c->ready_status = status;
  if (status) {
    BK_ERROR(MOD, "controller %s: init failed: %s", c->spec, bleak_strerror(status));
    c->lost = true;
  } else {
    /* The default bond directory's identities, for every user (a client
     * with a directory of its own adds it: bk_ctrl_learn_bonds). */
    char *dir = NULL;
    if (bk_bond_dir_resolve(NULL, &dir) == 0)
      (void)learn_dir(c, dir);
    free(dir);
  }
  bleak_source_set_timer(c->notify, 0);
  scan_sync(c);
  conn_sync(c);
}

static void remember(bk_ctrl *c, const uint8_t addr[6], uint8_t type, const uint8_t air[6],
                     uint8_t air_type) {
  size_t i = 0;
  while (i < SEEN && !(c->seen[i].used && !memcmp(c->seen[i].addr, addr, 6)))
    i++;
  if (i == SEEN) {
    i = c->seen_next;
    c->seen_next = (c->seen_next + 1) % SEEN;
  }
  c->seen[i].used = true;
  memcpy(c->seen[i].addr, addr, 6);
  c->seen[i].type = type;
  memcpy(c->seen[i].air, air, 6);
  c->seen[i].air_type = air_type;
}

/* The entry of @p addr: the address users saw, or the one on the air (a
 * private address that resolved: a client may have been given it before
 * the peer's identity was known). *on_air tells which. */
static int seen_index(const bk_ctrl *c, const uint8_t addr[6], bool *on_air) {
  for (int i = 0; i < SEEN; i++)
    if (c->seen[i].used && !memcmp(c->seen[i].addr, addr, 6)) {
      *on_air = false;
      return i;
    }
  for (int i = 0; i < SEEN; i++)
    if (c->seen[i].used && !memcmp(c->seen[i].air, addr, 6)) {
      *on_air = true;
      return i;
    }
  return -1;
}

bool bk_ctrl_address_type(bk_ctrl *c, const uint8_t addr[6], uint8_t *type) {
  bool on_air;
  int i = seen_index(c, addr, &on_air);
  if (i >= 0)
    *type = on_air ? c->seen[i].air_type : c->seen[i].type;
  return i >= 0;
}

bool bk_ctrl_user_air_address(const bk_ctrl_user *u, const uint8_t addr[6], uint8_t air[6],
                              uint8_t *air_type) {
  bool on_air;
  int i = u->ctrl ? seen_index(u->ctrl, addr, &on_air) : -1;
  if (i >= 0) {
    memcpy(air, u->ctrl->seen[i].air, 6);
    *air_type = u->ctrl->seen[i].air_type;
  }
  return i >= 0;
}

static void hci_adv(void *owner, const bk_hci_adv_report *r) {
  bk_ctrl *c = owner;
  /* Legacy types 0..4 and extended reports: address types 0/1 (public,
   * random); 2/3 (identities the controller resolved) connect as 0/1. */
  uint8_t air_type = r->addr_type & 1;
  bk_hci_adv_report resolved;
  bk_bond_addr id;
  if (bk_resolver_resolve(&c->resolver, r->addr, air_type, &id)) {
    /* A bonded peer behind its private address: everyone sees its
     * identity (HCI's own convention: type 2/3, a resolved identity). */
    resolved = *r;
    memcpy(resolved.addr, id.addr, 6);
    resolved.addr_type = (uint8_t)(id.type | 2);
    remember(c, id.addr, id.type, r->addr, air_type);
    r = &resolved;
  } else {
    remember(c, r->addr, air_type, r->addr, air_type);
  }
  for (size_t i = 0; i < MAX_USERS; i++) {
    bk_ctrl_user *u = c->users[i];
    if (u && u->scanning && u->ops->adv)
      u->ops->adv(u, r);
  }
}

/* ---- peer privacy: identities from bonds ---- */

typedef struct learn_ctx {
  bk_ctrl *c;
  size_t added;
} learn_ctx;

static int learn_one(const bk_bond *b, void *user) {
  learn_ctx *x = user;
  if (b->has_irk && b->id.local.type == 0 && !memcmp(b->id.local.addr, x->c->hci.bdaddr, 6) &&
      bk_resolver_add(&x->c->resolver, b->irk, &b->id.peer) == 0)
    x->added++;
  return 0;
}

static int learn_dir(bk_ctrl *c, const char *dir) {
  for (size_t i = 0; i < c->n_bond_dirs; i++)
    if (!strcmp(c->bond_dirs[i], dir))
      return 0;
  char **dirs = realloc(c->bond_dirs, (c->n_bond_dirs + 1) * sizeof *dirs);
  if (!dirs)
    return bk_fail(BLEAK_ERR_NO_MEMORY, "no memory for the bond directory's name");
  c->bond_dirs = dirs;
  if (!(dirs[c->n_bond_dirs] = strdup(dir)))
    return bk_fail(BLEAK_ERR_NO_MEMORY, "no memory for the bond directory's name");
  c->n_bond_dirs++;
  learn_ctx x = {c, 0};
  int r = bk_bond_foreach(dir, learn_one, &x, NULL);
  if (x.added)
    BK_DEBUG(MOD, "controller %s: %zu peer identities from %s", c->spec, x.added, dir);
  return r;
}

int bk_ctrl_learn_bonds(bk_ctrl_user *u, const char *dir) {
  if (!u->ctrl || !u->ctrl->ready || !dir)
    return bk_fail(BLEAK_ERR_STATE, "the controller is not ready");
  return learn_dir(u->ctrl, dir);
}

int bk_ctrl_add_identity(bk_ctrl_user *u, const uint8_t irk[16], const bk_bond_addr *id) {
  if (!u->ctrl)
    return bk_fail(BLEAK_ERR_STATE, "no controller");
  return bk_resolver_add(&u->ctrl->resolver, irk, id);
}

void bk_ctrl_forget_identity(bk_ctrl_user *u, const bk_bond_addr *id) {
  if (!u->ctrl)
    return;
  bk_resolver_remove(&u->ctrl->resolver, id);
  /* What was seen as that identity is an unresolved address again. */
  for (size_t i = 0; i < SEEN; i++)
    if (u->ctrl->seen[i].used && !memcmp(u->ctrl->seen[i].addr, id->addr, 6) &&
        memcmp(u->ctrl->seen[i].air, id->addr, 6))
      u->ctrl->seen[i].used = false;
}

bool bk_ctrl_user_identity(const bk_ctrl_user *u, const uint8_t addr[6], uint8_t type,
                           bk_bond_addr *id) {
  return u->ctrl && bk_resolver_resolve(&u->ctrl->resolver, addr, type, id);
}

static void hci_connected(void *owner, int status, uint16_t handle, uint8_t peer_type,
                          const uint8_t peer[6]) {
  bk_ctrl *c = owner;
  (void)peer_type;
  (void)peer;
  bk_ctrl_user *u = c->conn_user;
  c->conn_user = NULL;
  c->conn_inflight = false;
  if (status == 0 && (!u || !u->connecting)) {
    BK_INFO(MOD, "link 0x%03x came up after its connect was canceled: dropped", handle);
    (void)bk_hci_disconnect(&c->hci, handle, REASON_REMOTE_USER, c->rx_now);
  } else if (u && u->connecting) {
    u->connecting = false;
    if (status == 0) {
      u->linked = true;
      u->handle = handle;
      bk_hci_le_tune_link(&c->hci, handle, c->rx_now);
    }
    if (u->ops->connected)
      u->ops->connected(u, status);
  }
  scan_sync(c);
  conn_sync(c);
}

static void hci_disconnected(void *owner, uint16_t handle, uint8_t reason) {
  bk_ctrl *c = owner;
  bk_ctrl_user *u = user_by_handle(c, handle);
  if (!u)
    return;
  u->linked = false;
  if (u->ops->disconnected)
    u->ops->disconnected(u, reason);
}

static void send_on(bk_ctrl *c, uint16_t handle, uint16_t cid, const uint8_t *pdu, size_t len) {
  (void)bk_hci_send_l2cap(&c->hci, handle, cid, pdu, len);
}

/* LE signalling and SMP: what to answer is decided by l2cap_signal.c and
 * smp.c; here it is sent, and accepted connection parameters applied. */
static void signalling(bk_ctrl *c, uint16_t handle, const uint8_t *pdu, size_t len) {
  uint8_t ans[BK_L2CAP_SIG_MAX_ANSWER];
  bk_l2cap_sig_event ev;
  int n = bk_l2cap_sig_recv(pdu, len, ans, sizeof ans, &ev);
  if (n < 0) {
    BK_DEBUG(MOD, "signalling frame of link 0x%03x dropped: %s", handle, bleak_error_detail());
    return;
  }
  if (n > 0)
    send_on(c, handle, BK_L2CAP_CID_LE_SIGNALING, ans, (size_t)n);
  if (ev.kind == BK_L2CAP_SIG_EV_CONN_PARAMS) {
    const bk_l2cap_sig_conn_params *p = &ev.conn_params;
    (void)bk_hci_le_conn_update(&c->hci, handle, p->interval_min, p->interval_max, p->latency,
                                p->timeout, c->rx_now);
  }
}

static void smp(bk_ctrl *c, uint16_t handle, const uint8_t *pdu, size_t len) {
  bk_ctrl_user *u = user_by_handle(c, handle);
  if (u && u->ops->smp) {
    u->ops->smp(u, pdu, len);
    return;
  }
  uint8_t ans[BK_SMP_MAX_ANSWER];
  int n = bk_smp_refuse(pdu, len, ans, sizeof ans);
  if (n > 0)
    send_on(c, handle, BK_L2CAP_CID_SMP, ans, (size_t)n);
}

static void hci_l2cap(void *owner, uint16_t handle, uint16_t cid, const uint8_t *pdu,
                      size_t len) {
  bk_ctrl *c = owner;
  switch (cid) {
  case BK_L2CAP_CID_ATT: {
    bk_ctrl_user *u = user_by_handle(c, handle);
    if (u && u->ops->att)
      u->ops->att(u, pdu, len);
    break;
  }
  case BK_L2CAP_CID_LE_SIGNALING:
    signalling(c, handle, pdu, len);
    break;
  case BK_L2CAP_CID_SMP:
    smp(c, handle, pdu, len);
    break;
  default:
    BK_DEBUG(MOD, "PDU on unknown channel 0x%04x of link 0x%03x dropped", cid, handle);
    break;
  }
}

static void hci_acl_sent(void *owner) {
  bk_ctrl *c = owner;
  for (size_t i = 0; i < MAX_USERS; i++) {
    bk_ctrl_user *u = c->users[i];
    if (u && u->linked && u->ops->acl_sent)
      u->ops->acl_sent(u);
  }
}

static void hci_lost(void *owner, int err) { set_lost(owner, err); }

static void hci_encryption(void *owner, uint16_t handle, int status, uint8_t key_size) {
  bk_ctrl_user *u = user_by_handle(owner, handle);
  if (u && u->ops->encrypted)
    u->ops->encrypted(u, status, key_size);
}

static const bk_hci_ops hci_ops = {hci_write,    hci_ready,    hci_adv,  hci_connected,
                                   hci_disconnected, hci_l2cap, hci_acl_sent, hci_lost,
                                   hci_encryption};

/* ---- scanning and connecting --------------------------------------------- */

static void scan_done(void *user, int status, const uint8_t *ret, size_t len) {
  (void)ret;
  (void)len;
  bk_ctrl *c = user;
  c->scan_cmd = false;
  if (status && !c->lost)
    BK_WARN(MOD, "scan %s failed: %s", c->scan_on ? "stop" : "start", bleak_strerror(status));
  else
    c->scan_on = !c->scan_on;
  scan_sync(c);
  conn_sync(c);
}

static void scan_sync(bk_ctrl *c) {
  if (!c->ready || c->lost || c->scan_cmd)
    return;
  bool want = false, active = false;
  for (size_t i = 0; i < MAX_USERS; i++)
    if (c->users[i] && c->users[i]->scanning) {
      want = true;
      active |= c->users[i]->active;
    }
  if (c->conn_user)
    want = false; /* initiating: the scanner pauses */
  if (want == c->scan_on && (!want || active == c->scan_active))
    return;
  if (c->scan_on && want) { /* active changed: stop, then start again */
    want = false;
  }
  c->scan_cmd = true;
  c->scan_active = active;
  if (bk_hci_le_scan(&c->hci, want, active, scan_done, c, bleak_loop_now_ms(c->loop)) != 0)
    c->scan_cmd = false;
}

static void connect_status(void *user, int status, const uint8_t *ret, size_t len) {
  (void)ret;
  (void)len;
  bk_ctrl *c = user;
  if (status == 0)
    return; /* LE Connection Complete follows */
  bk_ctrl_user *u = c->conn_user;
  c->conn_user = NULL;
  c->conn_inflight = false;
  if (u && u->connecting) {
    u->connecting = false;
    if (u->ops->connected)
      u->ops->connected(u, status);
  }
  scan_sync(c);
  conn_sync(c);
}

static void conn_sync(bk_ctrl *c) {
  if (!c->ready || c->lost || c->conn_inflight)
    return;
  if (!c->conn_user) {
    for (size_t i = 0; i < MAX_USERS && !c->conn_user; i++)
      if (c->users[i] && c->users[i]->connecting)
        c->conn_user = c->users[i];
    if (!c->conn_user)
      return;
  }
  scan_sync(c); /* pause scanning first */
  if (c->scan_on || c->scan_cmd)
    return;
  bk_ctrl_user *u = c->conn_user;
  c->conn_inflight = true;
  int err = bk_hci_le_connect(&c->hci, u->peer_type, u->peer, connect_status, c,
                              bleak_loop_now_ms(c->loop));
  if (err) {
    c->conn_inflight = false;
    c->conn_user = NULL;
    u->connecting = false;
    if (u->ops->connected)
      u->ops->connected(u, err);
  }
}

/* ---- loop glue ------------------------------------------------------------ */

static void h4_packet(void *user, uint8_t type, const uint8_t *pkt, size_t len) {
  bk_ctrl *c = user;
  bk_btsnoop_write(&c->snoop, type, pkt, len, true);
  bk_hci_feed(&c->hci, type, pkt, len, c->rx_now);
}

static void on_io(bleak_source *src, int fd, uint32_t revents, void *user) {
  (void)src;
  bk_ctrl *c = user;
  enter(c);
  if (revents & BLEAK_IO_WRITE)
    flush_out(c);
  if (revents & (BLEAK_IO_READ | BLEAK_IO_ERROR)) {
    uint8_t buf[4096];
    c->rx_now = bleak_loop_now_ms(c->loop); /* once, not per packet */
    for (int i = 0; i < 16 && !c->lost; i++) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n > 0) {
        bk_h4_feed(&c->h4, buf, (size_t)n);
        if ((size_t)n < sizeof buf)
          break; /* drained for now: the watch fires again when not */
        continue;
      }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        break;
      set_lost(c, bk_fail(BLEAK_ERR_IO, "controller %s: %s", c->spec,
                          n == 0 ? "transport closed" : strerror(errno)));
      break;
    }
  }
  leave(c);
}

static void resched(bk_ctrl *c) {
  if (!c->timer)
    return;
  uint64_t d = bk_hci_deadline(&c->hci);
  for (size_t i = 0; i < MAX_USERS; i++) {
    bk_ctrl_user *u = c->users[i];
    if (u && u->ops->deadline) {
      uint64_t ud = u->ops->deadline(u);
      if (ud && (!d || ud < d))
        d = ud;
    }
  }
  /* Lazily: a timer that fires earlier than needed is re-armed then, so
   * the ATT deadline moving on with every request costs no system call. */
  if (!d || (c->armed && c->armed <= d))
    return;
  uint64_t now = bleak_loop_now_ms(c->loop);
  if (bleak_source_set_timer(c->timer, d > now ? d - now : 0) == 0)
    c->armed = d > now ? d : now;
}

static void on_timer(bleak_source *src, void *user) {
  (void)src;
  bk_ctrl *c = user;
  c->armed = 0; /* fired: resched arms it again if anything is due */
  enter(c);
  uint64_t now = bleak_loop_now_ms(c->loop);
  bk_hci_tick(&c->hci, now);
  for (size_t i = 0; i < MAX_USERS; i++) {
    bk_ctrl_user *u = c->users[i];
    if (u && u->ops->tick)
      u->ops->tick(u, now);
  }
  leave(c);
}

/* Close a socket transport gracefully: say we are done (shutdown), then
 * read what the controller still sends until it closes too, for at most
 * LINGER_MS. A controller on the other end that writes to a socket we
 * already closed may die of SIGPIPE (BlueZ's btvirt does, taking every
 * emulated controller with it). */
#define LINGER_MS 300

static void linger_close(bk_ctrl *c) {
  if (shutdown(c->fd, SHUT_WR) != 0)
    return;
  uint64_t until = bleak_loop_now_ms(c->loop) + LINGER_MS;
  for (;;) {
    uint64_t now = bleak_loop_now_ms(c->loop);
    if (now >= until)
      return;
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    int r = poll(&p, 1, (int)(until - now));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return;
    uint8_t buf[1024];
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
      return; /* closed on its side too */
  }
}

static void ctrl_destroy(bk_ctrl *c) {
  for (bk_ctrl **p = &controllers; *p; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      break;
    }
  /* Held while it goes: a flush that finds the controller gone reports it
   * (set_lost), and that report's leave() must not free it a second time
   * (found by tests/unit/test_oom.c). */
  c->busy++;
  /* Flush what is queued (a last Disconnect, say) while we still can. */
  if (!c->lost && c->out_len)
    flush_out(c);
  if (!c->lost && c->is_socket && c->fd >= 0)
    linger_close(c);
  c->lost = true; /* what bk_hci_close fails is not worth a warning */
  bk_hci_close(&c->hci);
  bleak_source_free(c->io);
  bleak_source_free(c->timer);
  bleak_source_free(c->notify);
  if (c->fd >= 0)
    close(c->fd);
  bk_btsnoop_close(&c->snoop);
  bk_resolver_clear(&c->resolver);
  for (size_t i = 0; i < c->n_bond_dirs; i++)
    free(c->bond_dirs[i]);
  free(c->bond_dirs);
  free(c->out);
  free(c->spec);
  free(c);
}

static int ctrl_open(bleak_loop *loop, const char *spec, bk_ctrl **out) {
  bk_ctrl *c = calloc(1, sizeof *c);
  if (!c || !(c->spec = strdup(spec))) {
    free(c);
    return BLEAK_ERR_NO_MEMORY;
  }
  c->loop = loop;
  bk_hci_transport_kind kind = BK_HCI_TRANSPORT_TTY;
  c->fd = bk_hci_transport_open(spec, &kind);
  c->is_socket = kind != BK_HCI_TRANSPORT_TTY;
  if (c->fd < 0) {
    int err = c->fd;
    free(c->spec);
    free(c);
    return err;
  }
  bk_h4_init(&c->h4, h4_packet, c);
  bk_hci_init(&c->hci, &hci_ops, c);
  const char *snoop = getenv("BLEAK_BTSNOOP");
  if (snoop && *snoop && bk_btsnoop_open(&c->snoop, snoop) != 0)
    BK_WARN(MOD, "no capture: %s", bleak_error_detail());
  int err = bleak_loop_add_io(loop, c->fd, BLEAK_IO_READ, on_io, c, &c->io);
  c->io_events = BLEAK_IO_READ;
  if (!err)
    err = bleak_loop_add_timer(loop, 0, on_timer, c, &c->timer);
  if (!err)
    err = bleak_source_stop_timer(c->timer);
  if (!err)
    err = bleak_loop_add_timer(loop, 0, on_notify, c, &c->notify);
  if (!err)
    err = bleak_source_stop_timer(c->notify);
  if (err) {
    ctrl_destroy(c);
    return err;
  }
  c->next = controllers;
  controllers = c;
  BK_INFO(MOD, "controller %s opened", spec);
  enter(c);
  bk_hci_start(&c->hci, bleak_loop_now_ms(loop));
  leave(c);
  *out = c;
  return 0;
}

int bk_ctrl_acquire(bleak_loop *loop, const char *spec, bk_ctrl_user *u) {
  if (!loop || !spec || !u || !u->ops)
    return BLEAK_ERR_INVALID_ARG;
  bk_ctrl *c = NULL;
  for (bk_ctrl *i = controllers; i; i = i->next)
    if (i->loop == loop && !strcmp(i->spec, spec) && !i->lost && !i->doomed)
      c = i;
  if (!c) {
    int err = ctrl_open(loop, spec, &c);
    if (err)
      return err;
  }
  size_t slot = MAX_USERS;
  for (size_t i = 0; i < MAX_USERS && slot == MAX_USERS; i++)
    if (!c->users[i])
      slot = i;
  if (slot == MAX_USERS) {
    if (!c->busy && !c->users[0])
      ctrl_destroy(c);
    return bk_fail(BLEAK_ERR_BUSY, "%d users share controller %s already", MAX_USERS, spec);
  }
  u->ctrl = c;
  u->ready_pending = true;
  u->scanning = u->connecting = u->linked = false;
  c->users[slot] = u;
  if (c->ready || c->lost)
    bleak_source_set_timer(c->notify, 0);
  return 0;
}

void bk_ctrl_release(bk_ctrl_user *u) {
  bk_ctrl *c = u ? u->ctrl : NULL;
  if (!c)
    return;
  enter(c);
  if (u->linked && !c->lost)
    (void)bk_hci_disconnect(&c->hci, u->handle, REASON_REMOTE_USER,
                            bleak_loop_now_ms(c->loop));
  if (u->connecting)
    bk_ctrl_connect_cancel(u);
  u->scanning = u->linked = false;
  bool anyone = false;
  for (size_t i = 0; i < MAX_USERS; i++) {
    if (c->users[i] == u)
      c->users[i] = NULL;
    else if (c->users[i])
      anyone = true;
  }
  u->ctrl = NULL;
  if (!anyone)
    c->doomed = true;
  else
    scan_sync(c);
  leave(c);
}

int bk_ctrl_scan(bk_ctrl_user *u, bool on, bool active) {
  bk_ctrl *c = u->ctrl;
  if (!c || c->lost)
    return bk_fail(BLEAK_ERR_IO, "the controller is gone");
  if (!c->ready)
    return bk_fail(BLEAK_ERR_STATE, "the controller is not ready");
  u->scanning = on;
  u->active = active;
  scan_sync(c);
  return 0;
}

int bk_ctrl_connect(bk_ctrl_user *u, uint8_t peer_type, const uint8_t peer[6]) {
  bk_ctrl *c = u->ctrl;
  if (!c || c->lost)
    return bk_fail(BLEAK_ERR_IO, "the controller is gone");
  if (!c->ready)
    return bk_fail(BLEAK_ERR_STATE, "the controller is not ready");
  if (u->connecting || u->linked)
    return bk_fail(BLEAK_ERR_BUSY, "already connecting or connected");
  u->connecting = true;
  u->peer_type = peer_type;
  memcpy(u->peer, peer, 6);
  conn_sync(c);
  return 0;
}

void bk_ctrl_connect_cancel(bk_ctrl_user *u) {
  bk_ctrl *c = u->ctrl;
  if (!c || !u->connecting)
    return;
  u->connecting = false;
  if (c->conn_user == u) {
    /* In flight, the completion still comes (0x02 after the cancel, or a
     * link that is then dropped) and clears conn_inflight. */
    c->conn_user = NULL;
    if (c->conn_inflight && !c->lost)
      (void)bk_hci_le_connect_cancel(&c->hci, bleak_loop_now_ms(c->loop));
  }
  scan_sync(c);
}

int bk_ctrl_disconnect(bk_ctrl_user *u) {
  bk_ctrl *c = u->ctrl;
  if (!c || !u->linked)
    return bk_fail(BLEAK_ERR_NOT_CONNECTED, "no link");
  return bk_hci_disconnect(&c->hci, u->handle, REASON_REMOTE_USER,
                           bleak_loop_now_ms(c->loop));
}

/* A PDU on a fixed channel of this user's link; its fragments leave in
 * one write. */
static int send_user_l2cap(bk_ctrl_user *u, uint16_t cid, const uint8_t *pdu, size_t len) {
  bk_ctrl *c = u->ctrl;
  if (!c || !u->linked)
    return bk_fail(BLEAK_ERR_NOT_CONNECTED, "no link");
  enter(c);
  int err = bk_hci_send_l2cap(&c->hci, u->handle, cid, pdu, len);
  leave(c);
  return err;
}

int bk_ctrl_send_att(bk_ctrl_user *u, const uint8_t *pdu, size_t len) {
  return send_user_l2cap(u, BK_L2CAP_CID_ATT, pdu, len);
}

void bk_ctrl_user_local_address(const bk_ctrl_user *u, uint8_t addr[6], uint8_t *type) {
  if (u->ctrl)
    memcpy(addr, u->ctrl->hci.bdaddr, 6);
  else
    memset(addr, 0, 6);
  *type = 0;
}

int bk_ctrl_send_smp(bk_ctrl_user *u, const uint8_t *pdu, size_t len) {
  return send_user_l2cap(u, BK_L2CAP_CID_SMP, pdu, len);
}

int bk_ctrl_start_encryption(bk_ctrl_user *u, const uint8_t rand[8], uint16_t ediv,
                             const uint8_t ltk[16]) {
  bk_ctrl *c = u->ctrl;
  if (!c || !u->linked)
    return bk_fail(BLEAK_ERR_NOT_CONNECTED, "no link");
  enter(c);
  int err = bk_hci_le_start_encryption(&c->hci, u->handle, rand, ediv, ltk, bk_ctrl_now(u));
  leave(c);
  return err;
}

size_t bk_ctrl_backlog(const bk_ctrl_user *u) {
  return u->ctrl ? bk_hci_acl_backlog(&u->ctrl->hci) : 0;
}

uint64_t bk_ctrl_now(const bk_ctrl_user *u) {
  return u->ctrl ? bleak_loop_now_ms(u->ctrl->loop) : 0;
}
