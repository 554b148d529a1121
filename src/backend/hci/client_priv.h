/* SPDX-License-Identifier: MIT */
/*
 * The hci backend's client, shared by its files:
 *   client.c     the link: connect, discovery, the GATT cache, the
 *                attribute operations on GATT procedures
 *   security.c   pairing (SMP), bonds, the link's encryption, and the
 *                security upgrade of an operation the peer refused
 */
#ifndef BLEAK_HCI_CLIENT_PRIV_H
#define BLEAK_HCI_CLIENT_PRIV_H

#include "backend/hci/att_bearer.h"
#include "backend/hci/bond_store.h"
#include "backend/hci/controller.h"
#include "backend/hci/gatt_client.h"
#include "backend/hci/smp.h"
#include "core/ad.h"
#include "core/backend.h"
#include "core/queue.h"

/* Writes without response complete while fewer ACL packets than this wait
 * for controller buffers; beyond, they wait (pacing by credits). */
#define PACE_BACKLOG 8

/* Where a connect is in our protocol (the connection's state itself is
 * the core's: bk_client_state()). */
typedef enum phase {
  PH_IDLE,       /* no connect running (connected or not: ask the core) */
  PH_READY_WAIT, /* the controller is initialising */
  PH_SEARCH,     /* the core searches for the device (bk_connect_search) */
  PH_CONNECTING, /* LE Create Connection */
  PH_ENCRYPT,    /* a bonded peer: encrypting with the bond's key first */
  PH_MTU,
  PH_DISCOVER,
} phase;

typedef struct hc {
  bk_ctrl_user u; /* first: the controller calls back with it */
  bleak_client *c;
  bleak_loop *loop;
  char *spec;
  bool acquired;
  uint8_t addr[6];
  phase ph;
  bk_op *connect_op;
  bool disconnecting; /* we asked: the link's end is not an error */
  bk_gattc_proc *disc;
  bk_gattc_proc *name_read; /* GAP Device Name, after connect */
  /* Service Changed: its value handle, the CCCD write after connect, a
   * re-discovery running, and a range that changed again meanwhile. */
  uint16_t sc_handle;
  bk_gattc_proc *sc_subscribe, *rediscover;
  uint16_t again_start, again_end;
  /* GATT cache for the next connection: the database and its Database
   * Hash (0x2B2A); one Read By Type of the hash then replaces discovery
   * when it has not changed. */
  bleak_gatt_services *cache;
  uint8_t cache_hash[16];
  bool cache_ok;
  bk_gattc_proc *hash_read;
  uint16_t hash_handle;
  bk_att att;
  bool att_up;
  char name[BK_AD_MAX_NAME + 1];
  /* notification lookup cache */
  const bleak_gatt_characteristic *last_ch;
  uint16_t last_vh;
  /* writes without response waiting for ACL buffers: hc_op.paced nodes */
  bk_queue paced;
  uint8_t peer_type; /* of the link (0 public, 1 random) */
  /* ---- security.c's ---- */
  bk_smp smp;             /* the link's pairing engine */
  bool smp_ready;         /* bk_smp_init done for this link */
  char *bond_dir;         /* resolved on first use */
  bk_bond bond;           /* the peer's bond, when have_bond */
  bool have_bond;
  bool encrypting;        /* LE Enable Encryption with the bond's LTK sent */
  bool bond_tried;        /* this link tried the bond's key already */
  bool pair_failed;       /* a pairing failed on this link: the peer's
                           * Security Requests are not answered again */
  uint8_t key_size;       /* of the link's encryption; 0: not encrypted */
  bool authenticated;     /* the key in use is MITM-protected */
  bk_queue sec_waiting;   /* ops waiting for the link's security (hc_op.sec) */
  bk_op *unpair_op;       /* unpair: completes when the link is down */
} hc;

/* What the backend keeps per operation (bk_op_state, allocated and zeroed
 * with the op): the GATT procedure running it, or, for a write without
 * response waiting for ACL buffers, its place in hc.paced. */
typedef struct hc_op {
  bk_op *op;           /* set while paced: the node leads back to it */
  bk_gattc_proc *proc; /* NULL: none running */
  bk_qnode paced;      /* linked: waiting in hc.paced */
  bk_qnode sec;        /* linked: waiting in hc.sec_waiting */
  bool retried;        /* started again once after the link was secured */
} hc_op;


static inline hc *H(const bleak_client *c) { return bk_client_backend_state(c); }
static inline hc_op *op_state(bk_op *op) { return bk_op_state(op); }

/* client.c: (re)start an attribute operation's GATT procedure. */
int hc_start_attribute_op(hc *h, bk_op *op);
/* client.c: the bond's encryption of a new link ended (either way): the
 * connect goes on with the MTU exchange. */
void hc_link_secured(hc *h);
/* client.c: the connect fails with @p err: what it did so far is undone
 * (the link, if up, is disconnected), then it completes. */
void hc_connect_fail(hc *h, int err);

/* security.c */
void hc_sec_init(hc *h);
void hc_sec_destroy(hc *h);
/* The controller is ready: the client's bond directory's identities are
 * learned (peer privacy). */
void hc_sec_ready(hc *h);
/* The link is up (ATT ready): the pairing engine readied; a bonded peer's
 * link encrypted with the bond's key. */
void hc_sec_link_up(hc *h);
/* True while the link is being encrypted with the bond's key. */
bool hc_sec_encrypting(const hc *h);
/* The link is gone: pairing ends, what waits for security is left to the
 * core (which fails it). */
void hc_sec_link_down(hc *h);
int hc_sec_pair(hc *h, bk_op *op);
int hc_sec_unpair(hc *h, bk_op *op);
/* An attribute operation ended with *@p status: when it is the peer's
 * "insufficient authentication / encryption / key size" and the link can
 * be secured, the op waits for that and is started again once (true);
 * false: complete it with *@p status, which is then why the link could
 * not be secured when that was tried (BLEAK_ERR_AUTH: a bonded peer
 * refused our key, and only pair() pairs again). */
bool hc_sec_upgrade(hc *h, bk_op *op, int *status);
void hc_sec_abort(hc *h, bk_op *op);
int hc_sec_reply(hc *h, bool accept, uint32_t passkey);
uint64_t hc_sec_deadline(hc *h);
void hc_sec_tick(hc *h, uint64_t now);
/* The bonded peer's database and its hash, for the GATT cache (the
 * caller takes a reference); false when there is none. */
bool hc_sec_cached_db(hc *h, bleak_gatt_services **db, uint8_t hash[16], bool *has_hash);
/* The peer's database changed or was discovered: keep it in the bond. */
void hc_sec_remember_db(hc *h, const bleak_gatt_services *db, const uint8_t *hash);
/* Controller callbacks. */
void hc_sec_smp(bk_ctrl_user *u, const uint8_t *pdu, size_t len);
void hc_sec_encrypted(bk_ctrl_user *u, int status, uint8_t key_size);

#endif
