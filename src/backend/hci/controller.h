/* SPDX-License-Identifier: MIT */
/*
 * One controller of the hci backend: the transport fd on a bleak_loop, the
 * H4 framer, the HCI host (hci_host.c), an optional btsnoop capture, and
 * the clients and scanners that share it ("users"). This is where the
 * sans-I/O layers meet I/O; everything it decides is in those layers.
 *
 * Controllers are shared per (loop, transport spec) within a thread: two
 * clients on one transport use one controller and one init. The last user
 * to leave closes it.
 *
 * Also here, the I/O of two small fixed channels whose answers are decided
 * by sans-I/O layers: LE signalling (l2cap_signal.h; accepted connection
 * parameters are applied with HCI LE Connection Update) and SMP (smp.h;
 * pairing is a later issue: refused).
 */
#ifndef BLEAK_HCI_CONTROLLER_H
#define BLEAK_HCI_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/hci/bond_store.h"
#include "backend/hci/hci_host.h"
#include "bleak/loop.h"

typedef struct bk_ctrl bk_ctrl;
typedef struct bk_ctrl_user bk_ctrl_user;

/* What a user hears. Every callback is optional. They run from the loop,
 * never from inside a bk_ctrl_* call. */
typedef struct bk_ctrl_user_ops {
  /* The controller finished init (0) or cannot be used. */
  void (*ready)(bk_ctrl_user *u, int status);
  /* An advertising report, while this user scans. */
  void (*adv)(bk_ctrl_user *u, const bk_hci_adv_report *r);
  /* The outcome of bk_ctrl_connect(): 0 (u->handle is set) or an error. */
  void (*connected)(bk_ctrl_user *u, int status);
  /* This user's link is gone (HCI reason code; 0x16: we asked). */
  void (*disconnected)(bk_ctrl_user *u, uint8_t reason);
  /* An ATT PDU on this user's link. */
  void (*att)(bk_ctrl_user *u, const uint8_t *pdu, size_t len);
  /* ACL buffers were freed (paced writes may go on). */
  void (*acl_sent)(bk_ctrl_user *u);
  /* The controller is gone (transport closed, hardware error): links
   * are down; the user should release. */
  void (*lost)(bk_ctrl_user *u, int err);
  /* Time: the user's next deadline (0: none) and its tick. */
  uint64_t (*deadline)(bk_ctrl_user *u);
  void (*tick)(bk_ctrl_user *u, uint64_t now);
  /* An SMP PDU on this user's link. Without this callback the
   * controller answers pairing requests with "pairing not supported". */
  void (*smp)(bk_ctrl_user *u, const uint8_t *pdu, size_t len);
  /* This user's link changed its encryption: 0 and the key's size (0:
   * not encrypted), or an error (bk_hci_ops.encryption). */
  void (*encrypted)(bk_ctrl_user *u, int status, uint8_t key_size);
} bk_ctrl_user_ops;

/*
 * A user of a controller, embedded in the user's own state. The user sets
 * ops (before bk_ctrl_acquire) and nothing else: every other field is the
 * controller's, written by controller.c only, and read by the user through
 * the accessors below (so that the controller may change how it keeps
 * them).
 */
struct bk_ctrl_user {
  const bk_ctrl_user_ops *ops; /* the user's */
  /* the controller's: */
  bk_ctrl *ctrl;
  bool ready_pending; /* ops->ready still to be delivered */
  bool scanning, active;
  bool connecting;    /* waiting for (or in) LE Create Connection */
  bool linked;
  uint8_t peer[6], peer_type;
  uint16_t handle;
};

/* The controller has not yet told this user whether it is ready. */
static inline bool bk_ctrl_user_ready_pending(const bk_ctrl_user *u) {
  return u->ready_pending;
}
/* This user wants scanning on (bk_ctrl_scan). */
static inline bool bk_ctrl_user_scanning(const bk_ctrl_user *u) { return u->scanning; }
/* This user's connect is pending (bk_ctrl_connect, before ops->connected). */
static inline bool bk_ctrl_user_connecting(const bk_ctrl_user *u) { return u->connecting; }
/* This user has a link (ops->connected said 0; no ops->disconnected yet). */
static inline bool bk_ctrl_user_linked(const bk_ctrl_user *u) { return u->linked; }

/*
 * Join the controller for @p spec on @p loop (opened and initialised on
 * first use); ops->ready follows. @p u is the caller's, set up with its
 * ops; it must stay valid until bk_ctrl_release().
 * @return 0, or the transport's errors (hci_transport.h), NO_MEMORY.
 */
int bk_ctrl_acquire(bleak_loop *loop, const char *spec, bk_ctrl_user *u);
/* Leave: this user's scan ends, its link is disconnected, its pending
 * connect canceled; the controller closes when nobody is left (a socket
 * transport gracefully: it may block up to 300 ms while the controller
 * closes its end, so that it never writes to a closed socket). Safe from
 * the user's own callbacks. */
void bk_ctrl_release(bk_ctrl_user *u);

/* Scan (active: with scan requests) or stop, for this user. Scanning is
 * on while any user wants it. @return 0, BLEAK_ERR_STATE (not ready),
 * BLEAK_ERR_IO. */
int bk_ctrl_scan(bk_ctrl_user *u, bool on, bool active);

/* The address type last advertised by @p addr (little-endian): true and
 * *type when seen since the controller opened. */
bool bk_ctrl_address_type(bk_ctrl *c, const uint8_t addr[6], uint8_t *type);
/* The same for this user's controller (false before it is acquired). */
static inline bool bk_ctrl_user_seen(const bk_ctrl_user *u, const uint8_t addr[6],
                                     uint8_t *type) {
  return u->ctrl && bk_ctrl_address_type(u->ctrl, addr, type);
}

/* Where to connect to reach @p addr (as users see it: a bonded peer's
 * identity, or the address itself): true and the address and type last
 * heard on the air, when seen since the controller opened. */
bool bk_ctrl_user_air_address(const bk_ctrl_user *u, const uint8_t addr[6], uint8_t air[6],
                              uint8_t *air_type);

/*
 * Peer privacy (resolver.h): advertising reports of a known peer's
 * resolvable private address reach users with its identity instead
 * (addr_type 2/3, as HCI reports identities it resolved), and
 * bk_ctrl_user_air_address() gives the private address to connect to.
 * The identities come from bonds: those of the default bond directory
 * (bk_bond_dir_resolve(NULL)) once the controller is ready, and those a
 * user adds.
 */
/* Learn the identities of the bonds in @p dir made with this controller's
 * address (each directory is read once). @return 0, STATE (not ready),
 * NO_MEMORY, bk_bond_foreach()'s errors. */
int bk_ctrl_learn_bonds(bk_ctrl_user *u, const char *dir);
/* A peer's identity, learned by pairing. @return bk_resolver_add()'s. */
int bk_ctrl_add_identity(bk_ctrl_user *u, const uint8_t irk[16], const bk_bond_addr *id);
/* Forget it (the bond was removed). */
void bk_ctrl_forget_identity(bk_ctrl_user *u, const bk_bond_addr *id);
/* The identity behind @p addr of @p type, when a known IRK resolves it. */
bool bk_ctrl_user_identity(const bk_ctrl_user *u, const uint8_t addr[6], uint8_t type,
                           bk_bond_addr *id);

/* Connect to @p peer; ops->connected follows. Connects are done one at a
 * time per controller (scanning pauses meanwhile). @return 0, BUSY (this
 * user is connecting or linked), STATE (not ready). */
int bk_ctrl_connect(bk_ctrl_user *u, uint8_t peer_type, const uint8_t peer[6]);
/* Stop a pending connect without ops->connected; a link that comes up
 * anyway is dropped. */
void bk_ctrl_connect_cancel(bk_ctrl_user *u);
/* Disconnect this user's link (ops->disconnected follows).
 * @return 0, NOT_CONNECTED, IO. */
int bk_ctrl_disconnect(bk_ctrl_user *u);
/* Send an ATT PDU on this user's link. @return 0, NOT_CONNECTED,
 * NO_MEMORY, IO. */
int bk_ctrl_send_att(bk_ctrl_user *u, const uint8_t *pdu, size_t len);
/* ACL packets waiting for buffer credits on this controller. */
size_t bk_ctrl_backlog(const bk_ctrl_user *u);

/* Our address on the air (the controller's public address, type 0);
 * zeros before the controller is ready. */
void bk_ctrl_user_local_address(const bk_ctrl_user *u, uint8_t addr[6], uint8_t *type);

/* The address and type this user's link (or pending connect) was made
 * with: the air's (a private address, maybe). */
static inline void bk_ctrl_user_peer(const bk_ctrl_user *u, uint8_t addr[6], uint8_t *type) {
  for (int i = 0; i < 6; i++)
    addr[i] = u->peer[i];
  *type = u->peer_type;
}

/* An SMP PDU on this user's link. @return 0, BLEAK_ERR_NOT_CONNECTED,
 * BLEAK_ERR_NO_MEMORY. */
int bk_ctrl_send_smp(bk_ctrl_user *u, const uint8_t *pdu, size_t len);
/* Encrypt this user's link with @p ltk (EDIV, Rand: see
 * bk_hci_le_start_encryption); ops->encrypted reports. */
int bk_ctrl_start_encryption(bk_ctrl_user *u, const uint8_t rand[8], uint16_t ediv,
                             const uint8_t ltk[16]);
/* The loop's clock. (Deadlines are looked at again whenever the
 * controller was entered: sending a PDU is such an entry.) */
uint64_t bk_ctrl_now(const bk_ctrl_user *u);

#endif
