/* SPDX-License-Identifier: MIT */
/*
 * The hci client's security: pairing through the SMP engine (smp.c), bonds
 * kept in files (bond_store.c), the link's encryption, and the security
 * upgrade of an operation the peer refused for want of it.
 *
 * The link is secured in one of two ways, whichever it needs first:
 *  - with the bond's key: a bonded peer's link is encrypted with the
 *    stored LTK right after it comes up (as BlueZ does); no pairing;
 *  - by pairing: on bleak_client_pair(), on connect with pair=true, on a
 *    peripheral's Security Request, or when the peer answers a read or a
 *    write with Insufficient Authentication, Encryption or Encryption Key
 *    Size (that operation then waits, and is started once more after).
 * Every operation waiting for it (hc.sec_waiting) completes once: with
 * its own result after the retry, or with the pairing's error.
 *
 * A bonded peer that has lost its key (encryption with the bond fails
 * with PIN or Key Missing) is not paired again behind the user's back
 * (BLESA, reconnection spoofing): only an explicit pair() does that.
 *
 * A link encrypted with a key shorter than the minimum (a pairing's, or
 * a bond's kept under a lower minimum) is disconnected (KNOB): what was
 * waiting for security, and a connect, fail with BLEAK_ERR_SMP(Encryption
 * Key Size).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "backend/hci/client_priv.h"
#include "backend/hci/hci.h"
#include "backend/hci/resolver.h"
#include "core/internal.h"

#define MOD "hci-security"

/* HCI PIN or Key Missing: the peer has no key for our LTK. */
#define HCI_PIN_OR_KEY_MISSING 0x06

static void finish_waiting(hc *h, int status);

/* ---- the bond ---- */

static int bond_dir(hc *h) {
  if (h->bond_dir)
    return 0;
  return bk_bond_dir_resolve(bk_client_options(h->c)->pairing.bond_dir, &h->bond_dir);
}

/* The bond's names: our address and the peer's identity (the client's
 * address, or who is behind it when it is a private address a known IRK
 * resolves). */
static void bond_ids(hc *h, bk_bond_addr *local, bk_bond_addr *peer) {
  memset(local, 0, sizeof *local);
  memset(peer, 0, sizeof *peer);
  bk_ctrl_user_local_address(&h->u, local->addr, &local->type);
  if (bk_ctrl_user_identity(&h->u, h->addr, h->peer_type, peer))
    return;
  memcpy(peer->addr, h->addr, 6);
  peer->type = h->peer_type;
}

void hc_sec_ready(hc *h) {
  /* A directory of the client's own: its peers' identities resolve their
   * private addresses too (the default directory's the controller knows). */
  if (bk_client_options(h->c)->pairing.bond_dir && bond_dir(h) == 0)
    (void)bk_ctrl_learn_bonds(&h->u, h->bond_dir);
}

static void forget_bond(hc *h) {
  if (h->have_bond)
    bk_bond_clear(&h->bond);
  h->have_bond = false;
}

/* Load the peer's bond, if any (a corrupt file is said once, and
 * treated as none). */
static void load_bond(hc *h) {
  forget_bond(h);
  if (bond_dir(h) < 0) {
    BK_WARN(MOD, "no bond directory: %s", bleak_error_detail());
    return;
  }
  bk_bond_addr local, peer;
  bond_ids(h, &local, &peer);
  int r = bk_bond_load(h->bond_dir, &local, &peer, &h->bond);
  if (r == 0)
    h->have_bond = true;
  else if (r != BLEAK_ERR_NOT_FOUND)
    BK_WARN(MOD, "%s: bond unusable: %s", bk_client_address(h->c), bleak_error_detail());
}

/* Keep the keys of a finished pairing as the peer's bond. */
static void store_bond(hc *h, const bk_smp_keys *k) {
  if (bk_client_options(h->c)->pairing.no_bonding || !k->bonded || !k->has_ltk)
    return;
  if (k->debug_key) {
    BK_WARN(MOD, "%s: the peer paired with the debug key: not bonded", bk_client_address(h->c));
    return;
  }
  if (bond_dir(h) < 0) {
    BK_WARN(MOD, "cannot keep the bond: %s", bleak_error_detail());
    return;
  }
  bk_bond b;
  memset(&b, 0, sizeof b);
  bond_ids(h, &b.id.local, &b.id.peer);
  /* A peer behind a private address is known by the identity it gave. */
  if (k->has_irk && k->identity.type <= BK_BOND_ADDR_RANDOM &&
      bk_resolver_is_rpa(h->addr, h->peer_type)) {
    memcpy(b.id.peer.addr, k->identity.val, 6);
    b.id.peer.type = k->identity.type;
  }
  /* The wall clock (the loop's is monotonic): when, for a person. */
  time_t now = time(NULL);
  b.created = now > 0 ? (int64_t)now : 0;
  memcpy(b.ltk, k->ltk, 16);
  b.key_size = k->key_size;
  b.authenticated = k->authenticated;
  b.secure_connections = k->sc;
  b.ediv = k->ediv;
  for (int i = 7; i >= 0; i--)
    b.rand = (b.rand << 8) | k->rand[i];
  if (k->has_irk) {
    b.has_irk = true;
    memcpy(b.irk, k->irk, 16);
  }
  if (k->has_csrk) {
    b.has_peer_csrk = true;
    memcpy(b.peer_csrk, k->csrk, 16);
  }
  if (k->has_local_csrk) {
    b.has_local_csrk = true;
    memcpy(b.local_csrk, k->local_csrk, 16);
  }
  /* The database goes with the bond (refreshed by discovery). */
  b.gatt = h->have_bond && h->bond.gatt ? bleak_gatt_services_ref(h->bond.gatt) : NULL;
  if (!b.gatt && h->cache)
    b.gatt = bleak_gatt_services_ref(h->cache);
  if (h->cache_ok) {
    b.has_db_hash = true;
    memcpy(b.db_hash, h->cache_hash, 16);
  }
  int r = bk_bond_store(h->bond_dir, &b);
  if (r < 0) {
    BK_WARN(MOD, "%s: cannot keep the bond: %s", bk_client_address(h->c), bleak_error_detail());
    bk_bond_clear(&b);
    return;
  }
  forget_bond(h);
  h->bond = b; /* ours now */
  h->have_bond = true;
  if (b.has_irk && bk_ctrl_add_identity(&h->u, b.irk, &b.id.peer) < 0)
    BK_WARN(MOD, "%s: its private addresses will not resolve: %s", bk_client_address(h->c),
            bleak_error_detail());
  BK_INFO(MOD, "%s: bonded (%s, key of %u octets%s)", bk_client_address(h->c),
          k->sc ? "Secure Connections" : "legacy", k->key_size,
          k->authenticated ? ", authenticated" : "");
}

bool hc_sec_cached_db(hc *h, bleak_gatt_services **db, uint8_t hash[16], bool *has_hash) {
  if (!h->have_bond || !h->bond.gatt)
    return false;
  *db = bleak_gatt_services_ref(h->bond.gatt);
  *has_hash = h->bond.has_db_hash;
  if (*has_hash)
    memcpy(hash, h->bond.db_hash, 16);
  return true;
}

void hc_sec_remember_db(hc *h, const bleak_gatt_services *db, const uint8_t *hash) {
  if (!h->have_bond || !db || !h->bond_dir)
    return;
  bleak_gatt_services *copy = bk_gattc_copy_services(db);
  if (!copy)
    return;
  bleak_gatt_services_unref(h->bond.gatt);
  h->bond.gatt = copy;
  h->bond.has_db_hash = hash != NULL;
  if (hash)
    memcpy(h->bond.db_hash, hash, 16);
  if (bk_bond_store(h->bond_dir, &h->bond) < 0)
    BK_WARN(MOD, "%s: cannot update the bond's database: %s", bk_client_address(h->c),
            bleak_error_detail());
}

/* ---- the link's encryption ---- */

static int encrypt_with_bond(hc *h) {
  uint8_t rand[8];
  for (int i = 0; i < 8; i++)
    rand[i] = (uint8_t)(h->bond.rand >> (8 * i));
  h->bond_tried = true;
  int r = bk_ctrl_start_encryption(&h->u, rand, h->bond.ediv, h->bond.ltk);
  h->encrypting = r == 0;
  return r;
}

/* The link is encrypted with a key shorter than our minimum: what goes
 * on it could be read by whoever forced that key (KNOB, CVE-2019-9506).
 * Failing the pairing, or the ops waiting for security, leaves the link
 * up and in use with that key; ending it does not (BlueZ disconnects a
 * link whose security requirements are not met, too). */
static bool weak_key(hc *h, uint8_t key_size) {
  unsigned min = (unsigned)bk_client_options(h->c)->pairing.min_key_size;
  if (key_size >= min)
    return false;
  BK_WARN(MOD, "%s: the link is encrypted with a key of %u octets, below the minimum %u: "
               "disconnecting",
          bk_client_address(h->c), key_size, min);
  int err = bk_fail(BLEAK_ERR_SMP(BK_SMP_ENCRYPTION_KEY_SIZE),
                    "the link's key has %u octets, below the minimum %u", key_size, min);
  finish_waiting(h, err); /* a pairing's failed them already */
  if (h->connect_op) {
    hc_connect_fail(h, err); /* disconnects */
  } else if (!h->disconnecting) {
    h->disconnecting = true;
    (void)bk_ctrl_disconnect(&h->u);
  }
  return true;
}

void hc_sec_encrypted(bk_ctrl_user *u, int status, uint8_t key_size) {
  hc *h = (hc *)u;
  if (bk_smp_running(&h->smp)) {
    /* The engine takes an HCI status: ours, or Unspecified Error (0x1f)
     * for a failure that is not the controller's. */
    uint8_t hci = 0;
    if (status <= BLEAK_ERR_HCI(1) && status >= BLEAK_ERR_HCI(0xff))
      hci = (uint8_t)(-status - BLEAK_ERR_HCI_BASE);
    else if (status)
      hci = 0x1f;
    if (status == 0)
      h->key_size = key_size;
    /* A key below the minimum fails the pairing here (done() first). */
    bk_smp_encrypted(&h->smp, hci, key_size, bk_ctrl_now(u));
    if (status == 0 && key_size)
      (void)weak_key(h, key_size);
    return;
  }
  bool ours = h->encrypting;
  h->encrypting = false;
  if (status == 0) {
    if (ours && !key_size)
      key_size = h->bond.key_size; /* the size the pairing negotiated */
    h->key_size = key_size ? key_size : 16;
    if (ours) {
      h->authenticated = h->bond.authenticated;
      if (weak_key(h, key_size))
        return; /* the connect, if any, failed */
      BK_INFO(MOD, "%s: encrypted with the bond's key", bk_client_address(h->c));
    }
    hc_link_secured(h); /* a connect waiting for it goes on */
    finish_waiting(h, 0);
    return;
  }
  h->key_size = 0;
  hc_link_secured(h); /* unencrypted: the connect goes on all the same */
  if (!ours)
    return;
  if (status == BLEAK_ERR_HCI(HCI_PIN_OR_KEY_MISSING))
    BK_WARN(MOD, "%s: the bonded peer has no key for our bond (lost it, or is another "
                 "device): not paired again without pair()",
            bk_client_address(h->c));
  finish_waiting(h, bk_fail(BLEAK_ERR_AUTH, "encryption with the bond's key failed: %s",
                            bleak_strerror(status)));
}

/* ---- the pairing engine's owner ---- */

static int smp_send(void *owner, const uint8_t *pdu, size_t len) {
  hc *h = owner;
  return bk_ctrl_send_smp(&h->u, pdu, len);
}

static int smp_random(void *owner, uint8_t *buf, size_t len) {
  (void)owner;
  size_t got = 0;
  while (got < len) {
    ssize_t n = getrandom(buf + got, len - got, 0);
    if (n < 0)
      return bk_fail(BLEAK_ERR_IO, "getrandom failed");
    got += (size_t)n;
  }
  return 0;
}

/* A question for the user: to the pairing callback (from the loop), or
 * answered here when there is none: Just Works and comparisons accepted
 * (as BlueZ's NoInputNoOutput agent), a passkey to type refused, one to
 * show logged. */
static void smp_ask(void *owner, bk_smp_question q, uint32_t number) {
  hc *h = owner;
  const bleak_client_options *o = bk_client_options(h->c);
  static const bleak_pairing_request kinds[] = {
      [BK_SMP_ASK_AUTHORIZE] = BLEAK_PAIRING_AUTHORIZE,
      [BK_SMP_ASK_PASSKEY] = BLEAK_PAIRING_REQUEST_PASSKEY,
      [BK_SMP_ASK_DISPLAY] = BLEAK_PAIRING_DISPLAY_PASSKEY,
      [BK_SMP_ASK_CONFIRM] = BLEAK_PAIRING_CONFIRM,
  };
  if (o->pairing_callback) {
    bk_client_ask_pairing(h->c, kinds[q], number);
    return;
  }
  uint64_t now = bk_ctrl_now(&h->u);
  switch (q) {
  case BK_SMP_ASK_DISPLAY:
    BK_INFO(MOD, "passkey to type on the peripheral: %06u", number);
    break;
  case BK_SMP_ASK_PASSKEY:
    (void)bk_smp_user_reply(&h->smp, false, 0, now);
    break;
  default:
    (void)bk_smp_user_reply(&h->smp, true, 0, now);
    break;
  }
}

static int smp_encrypt(void *owner, const uint8_t key[16], uint16_t ediv, const uint8_t rand[8]) {
  hc *h = owner;
  return bk_ctrl_start_encryption(&h->u, rand, ediv, key);
}

static void smp_done(void *owner, int status, const bk_smp_keys *keys) {
  hc *h = owner;
  if (status == 0) {
    h->authenticated = keys->authenticated;
    h->key_size = keys->key_size;
    store_bond(h, keys);
  } else {
    h->pair_failed = true;
    BK_INFO(MOD, "%s: pairing failed: %s%s%s", bk_client_address(h->c), bleak_strerror(status),
            *bleak_error_detail() ? ": " : "", bleak_error_detail());
  }
  finish_waiting(h, status);
}

/* A peripheral asks for security: with a bond, encrypt with its key;
 * without one, pair. */
static bool smp_security_request(void *owner, uint8_t auth_req) {
  (void)auth_req;
  hc *h = owner;
  if (h->pair_failed)
    return false; /* asked again after a failure: no pairing loop */
  if (h->have_bond && !h->bond_tried) {
    if (!h->encrypting)
      (void)encrypt_with_bond(h);
    return false;
  }
  return !h->have_bond; /* a bond whose key failed: not behind the user's back */
}

static const bk_smp_ops smp_ops = {
    .send = smp_send,
    .random = smp_random,
    .ask = smp_ask,
    .encrypt = smp_encrypt,
    .done = smp_done,
    .security_request = smp_security_request,
};

static bk_smp_io_cap io_cap(const bleak_client_options *o) {
  switch (o->pairing.io_capability) {
  case BLEAK_IO_CAP_DISPLAY_ONLY:
    return BK_SMP_IO_DISPLAY_ONLY;
  case BLEAK_IO_CAP_DISPLAY_YES_NO:
    return BK_SMP_IO_DISPLAY_YES_NO;
  case BLEAK_IO_CAP_KEYBOARD_ONLY:
    return BK_SMP_IO_KEYBOARD_ONLY;
  case BLEAK_IO_CAP_NO_INPUT_NO_OUTPUT:
    return BK_SMP_IO_NO_INPUT_NO_OUTPUT;
  case BLEAK_IO_CAP_KEYBOARD_DISPLAY:
    return BK_SMP_IO_KEYBOARD_DISPLAY;
  case BLEAK_IO_CAP_DEFAULT:
    break;
  }
  return o->pairing_callback ? BK_SMP_IO_KEYBOARD_DISPLAY : BK_SMP_IO_NO_INPUT_NO_OUTPUT;
}

static void smp_setup(hc *h) {
  const bleak_client_options *o = bk_client_options(h->c);
  bk_smp_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.io_cap = io_cap(o);
  cfg.bonding = !o->pairing.no_bonding;
  cfg.mitm = o->pairing.mitm;
  /* With a way to show or type a number, ask for MITM protection (the
   * peer's IO capabilities then choose the model, as with BlueZ). */
  cfg.request_mitm = cfg.io_cap != BK_SMP_IO_NO_INPUT_NO_OUTPUT;
  cfg.sc_only = o->pairing.sc_only;
  cfg.min_key_size = (uint8_t)o->pairing.min_key_size;
  cfg.local_dist = 0; /* we are central: the peer needs none of our keys */
  cfg.remote_dist = BK_SMP_DIST_ENC | BK_SMP_DIST_ID | BK_SMP_DIST_SIGN;
  bk_ctrl_user_local_address(&h->u, cfg.local.val, &cfg.local.type);
  const bleak_oob_data *oob = o->pairing.oob;
  if (oob && oob->has_legacy_tk) {
    cfg.has_oob_tk = true;
    memcpy(cfg.oob_tk, oob->legacy_tk, 16);
  }
  if (oob && oob->has_sc) {
    cfg.has_peer_oob = true;
    memcpy(cfg.peer_oob_r, oob->sc_random, 16);
    memcpy(cfg.peer_oob_c, oob->sc_confirm, 16);
  }
  /* The addresses the link was made with (a private one, maybe). */
  bk_ctrl_user_peer(&h->u, cfg.peer.val, &cfg.peer.type);
  int r = bk_smp_init(&h->smp, &cfg, &smp_ops, h);
  explicit_bzero(&cfg, sizeof cfg); /* the OOB values: the engine has its copy */
  h->smp_ready = r == 0;
  if (r)
    BK_ERROR(MOD, "pairing engine: %s", bleak_error_detail());
}

/* ---- the waiting operations ---- */

static void finish_waiting(hc *h, int status) {
  bk_qnode *n;
  while ((n = bk_queue_pop(&h->sec_waiting))) {
    hc_op *s = BK_QUEUE_ENTRY(n, hc_op, sec);
    bk_op *op = s->op;
    switch (op->kind) {
    case BK_OP_PAIR:
      bk_op_done(op, status);
      break;
    case BK_OP_CONNECT: /* pair=true: connected once paired */
      if (op != h->connect_op)
        break;
      if (status) { /* not connected, then: the link goes too */
        hc_connect_fail(h, status);
        break;
      }
      h->connect_op = NULL;
      h->ph = PH_IDLE;
      bk_op_done(op, 0);
      break;
    default: /* an attribute operation refused before: once more */
      if (status == 0)
        status = hc_start_attribute_op(h, op);
      if (status)
        bk_op_done(op, status);
      break;
    }
  }
}

static void wait_for_security(hc *h, bk_op *op) {
  hc_op *s = op_state(op);
  s->op = op;
  if (!bk_qnode_linked(&s->sec))
    bk_queue_push(&h->sec_waiting, &s->sec);
}

/* Secure the link for @p op: with the bond's key if there is one not yet
 * tried, else by pairing (when @p may_pair). @return 0 (op waits) or an
 * error (op not queued). */
static int secure(hc *h, bk_op *op, bool may_pair) {
  if (!h->smp_ready)
    return bk_fail(BLEAK_ERR_STATE, "no link to secure");
  if (h->encrypting || bk_smp_running(&h->smp)) {
    wait_for_security(h, op);
    return 0;
  }
  if (h->have_bond && !h->bond_tried) {
    int r = encrypt_with_bond(h);
    if (r < 0)
      return r;
    wait_for_security(h, op);
    return 0;
  }
  if (!may_pair)
    return bk_fail(BLEAK_ERR_AUTH, "the bonded peer refused our key: pair() to pair again");
  int r = bk_smp_start(&h->smp, bk_ctrl_now(&h->u));
  if (r < 0)
    return r;
  wait_for_security(h, op);
  return 0;
}

int hc_sec_pair(hc *h, bk_op *op) {
  if (op->kind == BK_OP_PAIR && bk_client_state(h->c) != BK_CONN_CONNECTED)
    return bk_fail(BLEAK_ERR_NOT_CONNECTED, "not connected");
  /* Encrypted with a bond's key, or paired on this link, and the key is
   * what the options ask (authenticated, with mitm): nothing to do
   * (Bleak's pair() on a paired device succeeds). A key short of mitm is
   * not "paired": pair again, for an authenticated one. */
  bool enough = h->authenticated || !bk_client_options(h->c)->pairing.mitm;
  if (h->key_size && (h->have_bond || h->authenticated) && enough) {
    if (op->kind == BK_OP_CONNECT) {
      h->connect_op = NULL;
      h->ph = PH_IDLE;
    }
    bk_op_done(op, 0);
    return 0;
  }
  if (op->kind == BK_OP_CONNECT)
    bk_client_pairing(h->c);
  /* An explicit pair() may pair again a peer that lost our bond. */
  return secure(h, op, true);
}

/* Remove every bond with the peer, whatever our address was when it was
 * made (a controller's address can change: btvirt's do, per connection). */
static int remove_bonds(hc *h) {
  bk_bond_addr local, peer;
  bond_ids(h, &local, &peer);
  int r = bond_dir(h);
  if (r == 0)
    r = bk_bond_remove_peer(h->bond_dir, h->addr);
  if (r >= 0)
    bk_ctrl_forget_identity(&h->u, &peer);
  if (r >= 0 && memcmp(peer.addr, h->addr, 6)) /* the identity behind it */
    r = bk_bond_remove_peer(h->bond_dir, peer.addr);
  return r < 0 ? r : 0;
}

int hc_sec_unpair(hc *h, bk_op *op) {
  int r = remove_bonds(h);
  if (r < 0)
    return r;
  forget_bond(h);
  bleak_gatt_services_unref(h->cache); /* the database went with the bond */
  h->cache = NULL;
  h->cache_ok = false;
  /* Unpairing disconnects (Bleak's unpair()): done when the link is. */
  if (bk_ctrl_user_linked(&h->u) && bk_ctrl_disconnect(&h->u) == 0) {
    h->disconnecting = true;
    h->unpair_op = op;
    return 0;
  }
  bk_op_done(op, 0);
  return 0;
}

bool hc_sec_upgrade(hc *h, bk_op *op, int *status) {
  int att = bleak_error_att_code(*status);
  if (att != BLEAK_ATT_INSUFFICIENT_AUTHENTICATION && att != BLEAK_ATT_INSUFFICIENT_ENCRYPTION &&
      att != BLEAK_ATT_INSUFFICIENT_KEY_SIZE)
    return false;
  hc_op *s = op_state(op);
  if (s->retried)
    return false; /* secured once already: the peer's answer stands */
  s->retried = true;
  /* A link already encrypted with a key the peer finds too weak: only a
   * new pairing (MITM or a longer key) could help, and pair() is the
   * caller's to ask (with options mitm, for an authenticated key). */
  if (h->key_size && !(h->have_bond && !h->bond_tried))
    return false;
  /* Not secured, and why: the op's answer (a bonded peer that refused
   * our key: BLEAK_ERR_AUTH, pair() to pair again), not the peer's ATT
   * error, which only says what the link lacks. */
  int r = secure(h, op, !h->have_bond);
  if (r < 0)
    *status = r;
  return r == 0;
}

void hc_sec_abort(hc *h, bk_op *op) {
  if (op == h->unpair_op)
    h->unpair_op = NULL;
  hc_op *s = op_state(op);
  bool waited = bk_qnode_linked(&s->sec);
  bk_queue_remove(&h->sec_waiting, &s->sec);
  /* A canceled pair() that nothing else waits for ends the pairing too
   * (Pairing Failed to the peer): a late answer must not make a bond the
   * caller gave up on. */
  if (waited && op->kind == BK_OP_PAIR && bk_queue_empty(&h->sec_waiting) && h->smp_ready &&
      bk_smp_running(&h->smp))
    (void)bk_smp_cancel(&h->smp, bk_ctrl_now(&h->u));
}

int hc_sec_reply(hc *h, bool accept, uint32_t passkey) {
  if (!h->smp_ready)
    return bk_fail(BLEAK_ERR_STATE, "no pairing request is pending");
  return bk_smp_user_reply(&h->smp, accept, passkey, bk_ctrl_now(&h->u));
}

void hc_sec_smp(bk_ctrl_user *u, const uint8_t *pdu, size_t len) {
  hc *h = (hc *)u;
  if (h->smp_ready)
    bk_smp_recv(&h->smp, pdu, len, bk_ctrl_now(u));
}

uint64_t hc_sec_deadline(hc *h) { return h->smp_ready ? bk_smp_deadline(&h->smp) : 0; }

void hc_sec_tick(hc *h, uint64_t now) {
  if (h->smp_ready)
    bk_smp_tick(&h->smp, now);
}

/* ---- the link ---- */

void hc_sec_link_up(hc *h) {
  h->key_size = 0;
  h->authenticated = false;
  h->encrypting = false;
  h->bond_tried = false;
  h->pair_failed = false;
  smp_setup(h);
  load_bond(h);
  if (h->have_bond && encrypt_with_bond(h) < 0)
    BK_WARN(MOD, "%s: cannot encrypt with the bond's key: %s", bk_client_address(h->c),
            bleak_error_detail());
}

bool hc_sec_encrypting(const hc *h) { return h->encrypting; }

void hc_sec_link_down(hc *h) {
  bk_op *unpair = h->unpair_op;
  h->unpair_op = NULL;
  if (unpair) /* before the core hears of the link's end */
    bk_op_done(unpair, 0);
  /* Whatever waits is pending in the core, which fails it with the
   * link's end (the transport's error, or DISCONNECTED): let go first, so
   * that the end of a running pairing, told next, finds none waiting. */
  while (bk_queue_pop(&h->sec_waiting))
    ;
  if (h->smp_ready)
    bk_smp_close(&h->smp); /* done(DISCONNECTED) for a running pairing */
  h->smp_ready = false;
  h->encrypting = false;
  h->key_size = 0;
}

void hc_sec_init(hc *h) { bk_queue_init(&h->sec_waiting); }

void hc_sec_destroy(hc *h) {
  hc_sec_link_down(h);
  forget_bond(h);
  free(h->bond_dir);
  h->bond_dir = NULL;
}
