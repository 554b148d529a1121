/* SPDX-License-Identifier: MIT */
/*
 * The hci backend's security end to end, through the public API, on the
 * fake controller with its SMP peer (tests/support/fake_controller.c and
 * smp_peer.c): pairing (Secure Connections and legacy; Just Works,
 * Passkey Entry both ways, Numeric Comparison; refused), the link's
 * encryption, bonds kept in files and used by a new process (its link
 * encrypted with the bond's LTK, its database taken from the bond), a
 * read the peer refuses for want of security that pairs by itself,
 * unpair, a bonded peer that lost its key (no pairing behind the user's
 * back), keys below the minimum (the link goes), requirements the peer
 * cannot meet, mitm asked of a Just Works bond, no_bonding, the peer's
 * Security Request, pair=true, the peer's keys before the key size is
 * read, and the link or the client gone while a pairing waits.
 *
 * Each test has a bond directory of its own (BLEAK_BOND_DIR, removed
 * after). Waits are on events, each with a deadline; after a completion
 * the loop runs a moment more to see that no second one comes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/hci/smp.h"
#include "backend/hci/smp_crypto.h"
#include "bleak/bleak.h"
#include "fake_controller.h"

#define PEER FAKE_PEER
#define DEADLINE_MS 5000

static fake_controller F;
static bleak_loop *L;
static char bond_dir[64];
static char bond_path[160];

/* ---- the world ---- */

static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *e;
  char p[sizeof bond_dir + sizeof e->d_name + 2];
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    unlink(p);
  }
  closedir(d);
  rmdir(dir);
}

static int setup(void **state) {
  (void)state;
  snprintf(bond_dir, sizeof bond_dir, "/tmp/bleak-pairing-XXXXXX");
  assert_non_null(mkdtemp(bond_dir));
  snprintf(bond_path, sizeof bond_path, "%s/%s", bond_dir, FAKE_BOND_FILE);
  assert_int_equal(setenv("BLEAK_BOND_DIR", bond_dir, 1), 0);
  assert_int_equal(bleak_loop_new(&L), 0);
  assert_int_equal(fake_controller_start(&F, L), 0);
  F.smp_enabled = true;
  F.protect = FAKE_NEED_ENCRYPTION;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  fake_controller_stop(&F);
  bleak_loop_free(L);
  remove_dir(bond_dir);
  unsetenv("BLEAK_BOND_DIR");
  return 0;
}

/* The host's process ends and a new one starts (its clients freed by the
 * caller): a new loop, a new controller; the peer is the same device, with
 * the bond it keeps. The fake's counters start again from 0. */
static void new_process(void) {
  bleak_loop *old = L;
  assert_int_equal(bleak_loop_new(&L), 0);
  assert_int_equal(fake_controller_restart(&F, L), 0);
  bleak_loop_free(old);
}

#define WAIT_FOR(cond)                                                        \
  do {                                                                        \
    uint64_t end_ = bleak_loop_now_ms(L) + DEADLINE_MS;                       \
    while (!(cond) && bleak_loop_now_ms(L) < end_)                            \
      bleak_loop_run_once(L, 20);                                             \
    assert_true(cond);                                                        \
  } while (0)

/* Run the loop a moment: what was still to come has come. */
static void settle(void) {
  bool never = false;
  bleak_loop_run_until(L, &never, 50);
}

/* ---- the client ---- */

static int disconnects;
static void on_disconnected(bleak_client *c, void *u) {
  (void)c;
  (void)u;
  disconnects++;
}

/* What the pairing callback was asked, and how it answers. */
static struct {
  int calls;
  bleak_pairing_request kind;
  uint32_t number;
  int reply;            /* 0: none, 1: accept, -1: refuse */
  uint32_t passkey;     /* typed, for REQUEST_PASSKEY */
  bool type_on_peer;    /* DISPLAY_PASSKEY: the peer's user types it */
} ask;

static void on_pairing(bleak_client *c, bleak_pairing_request kind, uint32_t number, void *u) {
  (void)u;
  ask.calls++;
  ask.kind = kind;
  ask.number = number;
  if (kind == BLEAK_PAIRING_DISPLAY_PASSKEY && ask.type_on_peer)
    fake_controller_type_passkey(&F, number);
  if (ask.reply)
    assert_int_equal(bleak_client_pairing_reply(c, ask.reply > 0, ask.passkey), 0);
}

static void client_opts(bleak_client_options *o, bool agent) {
  bleak_client_options_init(o);
  o->loop = L;
  o->backend = BLEAK_BACKEND_HCI;
  o->hci_transport = F.transport;
  o->timeout_ms = DEADLINE_MS;
  o->disconnected_callback = on_disconnected;
  if (agent)
    o->pairing_callback = on_pairing;
}

static bleak_client *connect_with(const bleak_client_options *o) {
  bleak_client *c = NULL;
  assert_int_equal(bleak_client_new(PEER, o, &c), 0);
  assert_int_equal(bleak_client_connect(c), 0);
  return c;
}

static bleak_client *connected(bool agent) {
  bleak_client_options o;
  client_opts(&o, agent);
  return connect_with(&o);
}

typedef struct done_rec {
  int calls, status;
} done_rec;

static void on_done(bleak_client *c, int status, void *u) {
  (void)c;
  done_rec *d = u;
  d->calls++;
  d->status = status;
}

typedef struct read_rec {
  int calls, status;
  size_t len;
  uint8_t value[8];
} read_rec;

static void on_read(bleak_client *c, int status, const uint8_t *v, size_t n, void *u) {
  (void)c;
  read_rec *r = u;
  r->calls++;
  r->status = status;
  r->len = n;
  if (v && n <= sizeof r->value) /* a failed read has none */
    memcpy(r->value, v, n);
}

/* pair(), completed once: its status. */
static int pair_once(bleak_client *c) {
  done_rec d = {0};
  assert_true(bleak_client_pair_async(c, on_done, &d) > 0);
  WAIT_FOR(d.calls > 0);
  settle();
  assert_int_equal(d.calls, 1);
  return d.status;
}

/* A read of the (protected) Battery Level, completed once: its status;
 * the value checked when it is 0. */
static int read_once(bleak_client *c) {
  const bleak_gatt_characteristic *ch = NULL;
  assert_int_equal(bleak_client_char_by_uuid(c, "2a19", &ch), 0);
  read_rec r = {0};
  assert_true(bleak_client_read_gatt_char_async(c, ch, on_read, &r) > 0);
  WAIT_FOR(r.calls > 0);
  settle();
  assert_int_equal(r.calls, 1);
  if (r.status == 0) {
    assert_int_equal(r.len, 1);
    assert_int_equal(r.value[0], 0x57);
  }
  return r.status;
}

/* ---- the bond file ---- */

static bool bond_exists(void) { return access(bond_path, F_OK) == 0; }

/* The bond file's text (static; "" when there is none). */
static const char *bond_text(void) {
  static char text[8192];
  text[0] = '\0';
  FILE *fp = fopen(bond_path, "r");
  if (!fp)
    return text;
  size_t n = fread(text, 1, sizeof text - 1, fp);
  text[n] = '\0';
  fclose(fp);
  return text;
}

static bool bond_has(const char *line) { return strstr(bond_text(), line) != NULL; }

static void assert_bond_mode_0600(void) {
  struct stat st;
  assert_int_equal(stat(bond_path, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0600);
}

/* "ltk = <hex>" of @p key as the bond file writes it. */
static bool bond_has_ltk(const uint8_t key[16]) {
  char line[64] = "ltk = ";
  for (int i = 0; i < 16; i++)
    snprintf(line + 6 + 2 * i, 3, "%02x", key[i]);
  return bond_has(line);
}

/* Pair with Just Works (SC) on a fresh client, and keep the bond with
 * the peer's database and its hash; the client is freed. */
static void bond_first(void) {
  bleak_client *c = connected(false);
  assert_int_equal(pair_once(c), 0);
  WAIT_FOR(bond_has("database_hash = "));
  assert_true(F.bond.valid);
  bleak_client_free(c);
}

/* A peer that asks for MITM protection (and protects its Battery Level
 * with it), with @p io_cap and the association model that gives; the
 * pairing callback's record cleared. */
static void mitm_peer(uint8_t io_cap, smp_peer_method method) {
  F.protect = FAKE_NEED_AUTHENTICATION;
  F.peer.io_cap = io_cap;
  F.peer.auth_req = BK_SMP_AUTH_BONDING | BK_SMP_AUTH_SC | BK_SMP_AUTH_MITM;
  F.peer.method = method;
  memset(&ask, 0, sizeof ask);
}

/* ---- the tests ---- */

/* Just Works (LE Secure Connections): pair() succeeds once; the link is
 * encrypted (the protected read succeeds without being refused); the bond
 * file is there, mode 0600, with what the pairing was; pair() again is
 * done at once, without SMP. */
static void test_just_works(void **state) {
  (void)state;
  bleak_client *c = connected(false);
  assert_int_equal(F.pairing_requests, 0);
  assert_int_equal(pair_once(c), 0);
  assert_int_equal(F.pairing_requests, 1);
  assert_true(F.peer.sc);
  assert_int_equal(F.peer.failed, 0);
  assert_int_equal(F.peer.got_failed, 0);
  assert_true(F.encrypted);
  assert_int_equal(F.encryptions, 1);
  assert_int_equal(read_once(c), 0);
  assert_int_equal(F.protected_refusals, 0);
  assert_true(bond_exists());
  assert_bond_mode_0600();
  assert_true(bond_has("secure_connections = true"));
  assert_true(bond_has("authenticated = false"));
  assert_true(bond_has("key_size = 16"));
  assert_true(bond_has_ltk(F.bond.ltk));
  int smp = F.smp_seen;
  assert_int_equal(pair_once(c), 0);
  assert_int_equal(F.smp_seen, smp);
  assert_int_equal(F.encryptions, 1);
  assert_true(bleak_client_is_connected(c));
  bleak_client_free(c);
  assert_int_equal(disconnects, 0);
}

/* A new process connects to the bonded peer: the link is encrypted with
 * the bond's LTK at once, without SMP; its database is the bond's (the
 * hash is checked, nothing discovered); the protected read is never
 * refused. */
static void test_bond_in_new_process(void **state) {
  (void)state;
  bond_first();
  new_process();
  assert_int_equal(F.pairing_requests, 0);
  bleak_client *c = connected(false);
  assert_int_equal(F.smp_seen, 0);
  assert_int_equal(F.encryptions, 1);
  assert_int_equal(F.encryption_failures, 0);
  assert_memory_equal(F.enc_ltk, F.bond.ltk, 16);
  assert_int_equal(F.enc_ediv, 0);
  assert_memory_equal(F.enc_rand, (uint8_t[8]){0}, 8);
  assert_true(F.encrypted);
  assert_int_equal(F.discovery_requests, 0);
  const bleak_gatt_services *s = bleak_client_services(c);
  assert_int_equal(bleak_gatt_services_count(s), 2);
  assert_int_equal(bleak_gatt_services_characteristic_count(s), 2);
  assert_int_equal(read_once(c), 0);
  assert_int_equal(F.protected_refusals, 0);
  assert_int_equal(F.pairing_requests, 0);
  bleak_client_free(c);
}

/* No pair(): the peer refuses the read for want of encryption; the
 * backend pairs (Just Works) and reads again; the read completes once,
 * with the value. */
static void test_pairs_on_demand(void **state) {
  (void)state;
  bleak_client *c = connected(false);
  assert_int_equal(read_once(c), 0);
  assert_int_equal(F.protected_refusals, 1);
  assert_int_equal(F.pairing_requests, 1);
  assert_true(F.encrypted);
  assert_true(bond_exists());
  /* and from now on, no refusal, no pairing */
  assert_int_equal(read_once(c), 0);
  assert_int_equal(F.protected_refusals, 1);
  assert_int_equal(F.pairing_requests, 1);
  bleak_client_free(c);
}

/* The same for Insufficient Authentication: the pairing it starts is
 * authenticated (the peer shows a passkey, our user types it). */
static void test_authenticates_on_demand(void **state) {
  (void)state;
  mitm_peer(BK_SMP_IO_DISPLAY_ONLY, PEER_PASSKEY);
  F.peer.passkey = 271828;
  ask.reply = 1;
  ask.passkey = 271828;
  bleak_client *c = connected(true);
  assert_int_equal(read_once(c), 0);
  assert_int_equal(F.protected_refusals, 1);
  assert_int_equal(ask.calls, 1);
  assert_int_equal(ask.kind, BLEAK_PAIRING_REQUEST_PASSKEY);
  assert_true(F.authenticated);
  assert_true(bond_has("authenticated = true"));
  bleak_client_free(c);
}

/* Passkey Entry, the peer shows it (DisplayOnly): the callback is asked
 * for it, answers with pairing_reply(); pair() completes once with 0; the
 * key is authenticated, which the peer's stricter characteristic needs. */
static void test_passkey_typed_by_us(void **state) {
  (void)state;
  mitm_peer(BK_SMP_IO_DISPLAY_ONLY, PEER_PASSKEY);
  F.peer.passkey = 4321; /* shown as 004321 */
  ask.reply = 1;
  ask.passkey = 4321;
  bleak_client *c = connected(true);
  assert_int_equal(pair_once(c), 0);
  assert_int_equal(ask.calls, 1);
  assert_int_equal(ask.kind, BLEAK_PAIRING_REQUEST_PASSKEY);
  assert_int_equal(ask.number, 0);
  assert_int_equal(F.peer.round, 20); /* every bit of it, both ways */
  assert_int_equal(F.peer.failed, 0);
  assert_true(F.authenticated);
  assert_int_equal(read_once(c), 0);
  assert_int_equal(F.protected_refusals, 0);
  assert_true(bond_has("authenticated = true"));
  bleak_client_free(c);
}

/* Passkey Entry, we show it (the peer is KeyboardOnly): the callback is
 * told the number; the peer's user types it there; pair() completes once
 * with 0. */
static void test_passkey_shown_by_us(void **state) {
  (void)state;
  mitm_peer(BK_SMP_IO_KEYBOARD_ONLY, PEER_PASSKEY);
  F.passkey_wait = true;
  ask.reply = 1; /* "shown": no more to say */
  ask.type_on_peer = true;
  bleak_client *c = connected(true);
  assert_int_equal(pair_once(c), 0);
  assert_int_equal(ask.calls, 1);
  assert_int_equal(ask.kind, BLEAK_PAIRING_DISPLAY_PASSKEY);
  assert_true(ask.number <= 999999);
  assert_int_equal(F.peer.passkey, ask.number);
  assert_int_equal(F.peer.round, 20);
  assert_true(F.authenticated);
  assert_int_equal(read_once(c), 0);
  bleak_client_free(c);
}

/* Numeric Comparison with a DisplayYesNo and with a KeyboardDisplay
 * peer: the callback is asked to confirm the number the peer shows;
 * pair() completes once with 0. unpair() between them. */
static void test_numeric_comparison(void **state) {
  (void)state;
  static const uint8_t caps[] = {BK_SMP_IO_DISPLAY_YES_NO, BK_SMP_IO_KEYBOARD_DISPLAY};
  for (size_t i = 0; i < sizeof caps; i++) {
    mitm_peer(caps[i], PEER_NUMERIC);
    ask.reply = 1;
    bleak_client *c = connected(true);
    assert_int_equal(pair_once(c), 0);
    assert_int_equal(ask.calls, 1);
    assert_int_equal(ask.kind, BLEAK_PAIRING_CONFIRM);
    assert_int_equal(ask.number, F.peer.shown);
    assert_true(F.authenticated);
    assert_int_equal(read_once(c), 0);
    assert_int_equal(bleak_client_unpair(c), 0);
    assert_false(bond_exists());
    bleak_client_free(c);
    F.bond.valid = false;
  }
}

/* The user says no (to a passkey asked for, and to a comparison): pair()
 * completes once with BLEAK_ERR_AUTH, the peer was told (Pairing Failed,
 * the matching reason), nothing is kept, the link is not encrypted. */
static void test_pairing_declined(void **state) {
  (void)state;
  struct {
    uint8_t io_cap;
    smp_peer_method method;
    bleak_pairing_request kind;
    uint8_t reason;
  } cases[] = {
      {BK_SMP_IO_DISPLAY_ONLY, PEER_PASSKEY, BLEAK_PAIRING_REQUEST_PASSKEY,
       BK_SMP_PASSKEY_ENTRY_FAILED},
      {BK_SMP_IO_DISPLAY_YES_NO, PEER_NUMERIC, BLEAK_PAIRING_CONFIRM,
       BK_SMP_NUMERIC_COMPARISON_FAILED},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    mitm_peer(cases[i].io_cap, cases[i].method);
    ask.reply = -1;
    bleak_client *c = connected(true);
    assert_int_equal(pair_once(c), BLEAK_ERR_AUTH);
    assert_int_equal(ask.calls, 1);
    assert_int_equal(ask.kind, cases[i].kind);
    assert_int_equal(F.peer.got_failed, cases[i].reason);
    assert_false(F.encrypted);
    assert_int_equal(F.encryptions, 0);
    assert_false(bond_exists());
    assert_false(F.bond.valid);
    assert_true(bleak_client_is_connected(c));
    bleak_client_free(c);
  }
}

/* LE legacy pairing (a peer without Secure Connections), Just Works: the
 * STK encrypts the link, the peer's LTK, EDIV and Rand are kept, and the
 * next process encrypts with them. */
static void test_legacy(void **state) {
  (void)state;
  F.peer.auth_req = BK_SMP_AUTH_BONDING;
  bleak_client *c = connected(false);
  assert_int_equal(pair_once(c), 0);
  assert_false(F.peer.sc);
  assert_int_equal(F.encryptions, 1); /* with the STK */
  assert_memory_equal(F.enc_ltk, F.peer.stk, 16);
  assert_true(F.encrypted);
  assert_int_equal(read_once(c), 0);
  WAIT_FOR(bond_has("database_hash = "));
  assert_true(bond_has("secure_connections = false"));
  assert_true(bond_has("ediv = 1234"));
  assert_true(bond_has("rand = d7d6d5d4d3d2d1d0"));
  assert_true(bond_has_ltk(F.peer.ltk));
  bleak_client_free(c);

  new_process();
  c = connected(false);
  assert_int_equal(F.smp_seen, 0);
  assert_int_equal(F.encryptions, 1);
  assert_int_equal(F.encryption_failures, 0);
  assert_memory_equal(F.enc_ltk, F.peer.ltk, 16);
  assert_int_equal(F.enc_ediv, 0x1234);
  assert_memory_equal(F.enc_rand, F.peer.rand, 8);
  assert_int_equal(F.discovery_requests, 0);
  assert_int_equal(read_once(c), 0);
  assert_int_equal(F.protected_refusals, 0);
  bleak_client_free(c);
}

/* unpair(): completes once with 0, the bond file goes, the link goes down
 * and the disconnected callback fires once. */
static void test_unpair(void **state) {
  (void)state;
  disconnects = 0;
  bleak_client *c = connected(false);
  assert_int_equal(pair_once(c), 0);
  assert_true(bond_exists());
  done_rec d = {0};
  assert_true(bleak_client_unpair_async(c, on_done, &d) > 0);
  WAIT_FOR(d.calls > 0 && disconnects > 0);
  settle();
  assert_int_equal(d.calls, 1);
  assert_int_equal(d.status, 0);
  assert_int_equal(disconnects, 1);
  assert_false(bond_exists());
  assert_false(bleak_client_is_connected(c));
  assert_false(F.linked);
  /* Connected again: no bond, so no encryption until the peer asks. */
  assert_int_equal(bleak_client_connect(c), 0);
  assert_int_equal(F.encryptions, 1);
  assert_false(F.encrypted);
  bleak_client_free(c);
  assert_int_equal(disconnects, 1);
}

/* The bonded peer lost its key (it answers the bond's LTK with PIN or Key
 * Missing): the protected read fails with BLEAK_ERR_AUTH and nothing pairs
 * behind the user's back, not even on the peer's Security Request; an
 * explicit pair() pairs again, and the new bond replaces the old. */
static void test_peer_lost_key(void **state) {
  (void)state;
  bond_first();
  uint8_t old_ltk[16];
  memcpy(old_ltk, F.bond.ltk, 16);
  F.bond.valid = false; /* the peer forgot us */
  new_process();
  bleak_client *c = connected(false);
  assert_int_equal(F.encryptions, 1);
  assert_int_equal(F.encryption_failures, 1);
  assert_false(F.encrypted);
  assert_int_equal(read_once(c), BLEAK_ERR_AUTH);
  assert_int_equal(F.protected_refusals, 1);
  assert_int_equal(F.pairing_requests, 0);
  assert_int_equal(F.smp_seen, 0);
  assert_true(bond_has_ltk(old_ltk)); /* still the user's to decide */
  assert_true(bleak_client_is_connected(c));
  /* Nor does the peer's Security Request pair (the read after it, on the
   * same stream, shows it was heard). */
  fake_controller_security_request(&F, BK_SMP_AUTH_BONDING | BK_SMP_AUTH_SC);
  assert_int_equal(read_once(c), BLEAK_ERR_AUTH);
  assert_int_equal(F.pairing_requests, 0);
  assert_int_equal(F.encryptions, 1);

  assert_int_equal(pair_once(c), 0);
  assert_int_equal(F.pairing_requests, 1);
  assert_true(F.encrypted);
  assert_true(F.bond.valid);
  assert_memory_not_equal(F.bond.ltk, old_ltk, 16);
  assert_true(bond_has_ltk(F.bond.ltk));
  assert_int_equal(read_once(c), 0);
  bleak_client_free(c);
}

/* A key shorter than our minimum (options.pairing.min_key_size 16):
 * pairing fails with BLEAK_ERR_SMP(Encryption Key Size) and the protected
 * read does not succeed. When the peer says so in its Pairing Response,
 * nothing is encrypted and the link stays; when the link turns out to be
 * encrypted with such a key (the controller says 7 octets, though SMP
 * agreed on 16), the link goes: nothing more is sent with that key. */
static void test_key_too_short(void **state) {
  (void)state;
  bleak_client_options o;
  client_opts(&o, false);
  o.pairing.min_key_size = 16;
  disconnects = 0;

  F.peer.max_key_size = 7;
  bleak_client *c = connect_with(&o);
  assert_int_equal(pair_once(c), BLEAK_ERR_SMP(BK_SMP_ENCRYPTION_KEY_SIZE));
  assert_int_equal(F.peer.got_failed, BK_SMP_ENCRYPTION_KEY_SIZE);
  assert_int_equal(read_once(c), BLEAK_ERR_SMP(BK_SMP_ENCRYPTION_KEY_SIZE)); /* paired again */
  assert_int_equal(F.pairing_requests, 2);
  assert_int_equal(F.encryptions, 0);
  assert_false(F.encrypted);
  assert_false(bond_exists());
  assert_true(bleak_client_is_connected(c));
  bleak_client_free(c);

  F.peer.max_key_size = 16;
  F.key_size = 7;
  int served = F.reads_seen - F.protected_refusals;
  c = connect_with(&o);
  assert_int_equal(pair_once(c), BLEAK_ERR_SMP(BK_SMP_ENCRYPTION_KEY_SIZE));
  assert_int_equal(F.peer.got_failed, BK_SMP_ENCRYPTION_KEY_SIZE);
  WAIT_FOR(disconnects == 1);
  assert_false(bleak_client_is_connected(c));
  assert_false(F.linked);
  /* On demand: the read that paired fails with the pairing. */
  assert_int_equal(bleak_client_connect(c), 0);
  assert_int_equal(read_once(c), BLEAK_ERR_SMP(BK_SMP_ENCRYPTION_KEY_SIZE));
  WAIT_FOR(disconnects == 2);
  assert_int_equal(F.reads_seen - F.protected_refusals, served); /* no value went */
  assert_false(bond_exists());
  bleak_client_free(c);
}

/* A bond whose key has 7 octets (kept under the default minimum), used
 * under a minimum of 16: the connect fails with BLEAK_ERR_SMP(Encryption
 * Key Size), the link encrypted with that key goes; no value is read. */
static void test_bond_key_too_short(void **state) {
  (void)state;
  F.peer.max_key_size = 7;
  bond_first();
  assert_true(bond_has("key_size = 7"));
  new_process();
  bleak_client_options o;
  client_opts(&o, false);
  o.pairing.min_key_size = 16;
  bleak_client *c = NULL;
  assert_int_equal(bleak_client_new(PEER, &o, &c), 0);
  assert_int_equal(bleak_client_connect(c), BLEAK_ERR_SMP(BK_SMP_ENCRYPTION_KEY_SIZE));
  WAIT_FOR(!F.linked);
  assert_int_equal(F.encryptions, 1);
  assert_int_equal(F.reads_seen, 0);
  assert_int_equal(F.pairing_requests, 0);
  assert_true(bond_exists()); /* the user's to remove (unpair) */
  bleak_client_free(c);
}

/* The peer's Security Request: without a bond, it pairs (and bonds);
 * with one, the link is encrypted with the bond's key and nothing pairs,
 * also when the peer asks again. */
static void test_security_request(void **state) {
  (void)state;
  bleak_client *c = connected(false);
  assert_int_equal(F.smp_seen, 0);
  fake_controller_security_request(&F, BK_SMP_AUTH_BONDING | BK_SMP_AUTH_SC);
  WAIT_FOR(F.encrypted && bond_has("ltk = "));
  assert_int_equal(F.pairing_requests, 1);
  assert_int_equal(read_once(c), 0);
  assert_int_equal(F.protected_refusals, 0);
  bleak_client_free(c);

  new_process();
  F.security_request = BK_SMP_AUTH_BONDING | BK_SMP_AUTH_SC; /* as the link comes up */
  c = connected(false);
  WAIT_FOR(F.encrypted);
  fake_controller_security_request(&F, BK_SMP_AUTH_BONDING | BK_SMP_AUTH_SC);
  assert_int_equal(read_once(c), 0);
  assert_int_equal(F.pairing_requests, 0);
  assert_int_equal(F.encryptions, 1);
  assert_int_equal(F.protected_refusals, 0);
  bleak_client_free(c);
}

/* pair=true: the connect completes once the pairing has. */
static void test_connect_and_pair(void **state) {
  (void)state;
  bleak_client_options o;
  client_opts(&o, false);
  o.pair = true;
  bleak_client *c = connect_with(&o);
  assert_int_equal(F.pairing_requests, 1);
  assert_true(F.encrypted);
  assert_true(bond_exists());
  assert_int_equal(read_once(c), 0);
  assert_int_equal(F.protected_refusals, 0);
  bleak_client_free(c);
}

/* pair=true and the pairing fails (the user declines): the connect
 * fails with it, and takes the link down with it; a connect again works. */
static void test_connect_and_pair_declined(void **state) {
  (void)state;
  mitm_peer(BK_SMP_IO_DISPLAY_YES_NO, PEER_NUMERIC);
  ask.reply = -1;
  bleak_client_options o;
  client_opts(&o, true);
  o.pair = true;
  disconnects = 0;
  bleak_client *c = NULL;
  assert_int_equal(bleak_client_new(PEER, &o, &c), 0);
  assert_int_equal(bleak_client_connect(c), BLEAK_ERR_AUTH);
  assert_int_equal(ask.calls, 1);
  assert_false(bleak_client_is_connected(c));
  WAIT_FOR(!F.linked);
  settle();
  assert_int_equal(disconnects, 0); /* it never was connected */
  ask.reply = 1;
  assert_int_equal(bleak_client_connect(c), 0);
  assert_int_equal(ask.calls, 2);
  assert_true(F.encrypted);
  assert_int_equal(read_once(c), 0);
  bleak_client_free(c);
}

/* The peer's keys may come before the host has read the key size of the
 * new encryption (they cross on the wire): the pairing still completes. */
static void test_keys_before_key_size(void **state) {
  (void)state;
  F.keys_early = true;
  bleak_client *c = connected(false);
  assert_int_equal(pair_once(c), 0);
  assert_true(bond_has("irk = ")); /* every key of the peer came */
  assert_true(bond_has("peer_csrk = "));
  assert_int_equal(read_once(c), 0);
  bleak_client_free(c);
}

/* A client whose pair() waits for the user to type the passkey the peer
 * shows (never answered), and a read waits for that pairing. */
static bleak_client *pairing_waits_for_user(done_rec *d, read_rec *r) {
  mitm_peer(BK_SMP_IO_DISPLAY_ONLY, PEER_PASSKEY);
  bleak_client *c = connected(true);
  const bleak_gatt_characteristic *ch = NULL;
  assert_int_equal(bleak_client_char_by_uuid(c, "2a19", &ch), 0);
  assert_true(bleak_client_pair_async(c, on_done, d) > 0);
  assert_true(bleak_client_read_gatt_char_async(c, ch, on_read, r) > 0);
  WAIT_FOR(ask.calls == 1 && F.protected_refusals == 1);
  return c;
}

/* A pairing waits for the user (the passkey the peer shows), with a read
 * waiting for it, when the controller goes away: both complete once with
 * the transport's error (as any pending op does), and a late answer finds
 * no question. */
static void test_controller_gone_while_pairing(void **state) {
  (void)state;
  done_rec d = {0};
  read_rec r = {0};
  bleak_client *c = pairing_waits_for_user(&d, &r);
  fake_controller_unplug(&F);
  WAIT_FOR(d.calls > 0 && r.calls > 0);
  settle();
  assert_int_equal(d.calls, 1);
  assert_int_equal(d.status, BLEAK_ERR_IO);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.status, BLEAK_ERR_IO);
  assert_int_equal(ask.calls, 1);
  assert_int_equal(bleak_client_pairing_reply(c, true, 1), BLEAK_ERR_STATE);
  assert_false(bond_exists());
  bleak_client_free(c);
}

/* The client is freed while its pairing waits for the user, a read
 * waiting for it: both complete once with BLEAK_ERR_DISCONNECTED, from
 * the free. */
static void test_free_while_pairing(void **state) {
  (void)state;
  done_rec d = {0};
  read_rec r = {0};
  bleak_client *c = pairing_waits_for_user(&d, &r);
  bleak_client_free(c);
  assert_int_equal(d.calls, 1);
  assert_int_equal(d.status, BLEAK_ERR_DISCONNECTED);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.status, BLEAK_ERR_DISCONNECTED);
  settle();
  assert_int_equal(d.calls, 1);
  assert_int_equal(r.calls, 1);
  assert_int_equal(ask.calls, 1);
}

/* What the user requires and the peer cannot give: MITM protection from
 * a peer with no input or output (Just Works only), LE Secure Connections
 * from a legacy peer: pair() fails once with BLEAK_ERR_SMP(Authentication
 * Requirements), the peer told so; nothing encrypted, nothing kept. */
static void test_requirements_unmet(void **state) {
  (void)state;
  for (int sc_only = 0; sc_only <= 1; sc_only++) {
    bleak_client_options o;
    client_opts(&o, false);
    o.pairing.mitm = !sc_only;
    o.pairing.sc_only = sc_only;
    F.peer.auth_req = sc_only ? BK_SMP_AUTH_BONDING : BK_SMP_AUTH_BONDING | BK_SMP_AUTH_SC;
    bleak_client *c = connect_with(&o);
    assert_int_equal(pair_once(c), BLEAK_ERR_SMP(BK_SMP_AUTHENTICATION_REQUIREMENTS));
    assert_int_equal(F.peer.got_failed, BK_SMP_AUTHENTICATION_REQUIREMENTS);
    assert_int_equal(F.encryptions, 0);
    assert_false(bond_exists());
    bleak_client_free(c);
  }
}

/* no_bonding: the pairing encrypts this link, nothing is kept on either
 * side; the next process pairs again. */
static void test_no_bonding(void **state) {
  (void)state;
  bleak_client_options o;
  client_opts(&o, false);
  o.pairing.no_bonding = true;
  bleak_client *c = connect_with(&o);
  assert_int_equal(pair_once(c), 0);
  assert_true(F.encrypted);
  assert_int_equal(read_once(c), 0);
  assert_false(bond_exists());
  assert_false(F.bond.valid);
  bleak_client_free(c);
  new_process();
  c = connected(false);
  assert_int_equal(F.encryptions, 0);
  assert_int_equal(read_once(c), 0); /* refused, paired, read */
  assert_int_equal(F.pairing_requests, 1);
  assert_true(bond_exists());
  bleak_client_free(c);
}

/* A Just Works bond, and now the user requires MITM protection
 * (options.mitm): the link encrypted with the bond's key is not enough,
 * pair() pairs again (the peer shows a passkey), and the new, authenticated
 * key re-encrypts the link and replaces the bond. */
static void test_mitm_upgrades_bond(void **state) {
  (void)state;
  bond_first();
  assert_true(bond_has("authenticated = false"));
  new_process();
  mitm_peer(BK_SMP_IO_DISPLAY_ONLY, PEER_PASSKEY);
  F.peer.passkey = 999999;
  ask.reply = 1;
  ask.passkey = 999999;
  bleak_client_options o;
  client_opts(&o, true);
  o.pairing.mitm = true;
  bleak_client *c = connect_with(&o);
  assert_true(F.encrypted);
  assert_false(F.authenticated);
  assert_int_equal(pair_once(c), 0);
  assert_int_equal(F.pairing_requests, 1);
  assert_int_equal(ask.calls, 1);
  assert_int_equal(ask.kind, BLEAK_PAIRING_REQUEST_PASSKEY);
  assert_int_equal(F.encryptions, 2); /* the bond's key, then the new one */
  assert_true(F.authenticated);
  assert_true(bond_has("authenticated = true"));
  assert_int_equal(read_once(c), 0);
  bleak_client_free(c);
}

/* pair() canceled while it waits for the user: it completes once with
 * CANCELED, the pairing ends (the peer is told), a late answer finds no
 * question, and nothing is bonded. */
static void test_cancel_pair(void **state) {
  (void)state;
  mitm_peer(BK_SMP_IO_DISPLAY_ONLY, PEER_PASSKEY);
  bleak_client *c = connected(true);
  done_rec d = {0};
  int id = bleak_client_pair_async(c, on_done, &d);
  assert_true(id > 0);
  WAIT_FOR(ask.calls == 1);
  assert_int_equal(bleak_client_cancel(c, id), 0);
  WAIT_FOR(d.calls > 0 && F.peer.got_failed);
  settle();
  assert_int_equal(d.calls, 1);
  assert_int_equal(d.status, BLEAK_ERR_CANCELED);
  assert_true(F.peer.got_failed != 0);
  assert_int_equal(bleak_client_pairing_reply(c, true, F.peer.passkey), BLEAK_ERR_STATE);
  settle();
  assert_false(bond_exists());
  assert_true(bleak_client_is_connected(c));
  bleak_client_free(c);
}

/* Privacy: the peer advertises a resolvable private address and gives
 * its identity (FAKE_PEER, public) and IRK when pairing. Before that, a
 * scan shows the private address and the client connects to it; the bond
 * is kept under the identity. In a new process, the controller resolves
 * the private address with the bond's IRK: a scan shows the identity, and
 * a client made with the identity address finds the peer behind its
 * private address, encrypts with the bond's key and reads. */
static const char *found_address(void) {
  static char addr[18];
  bleak_scanner_options so;
  fake_controller_scanner_options(&F, L, &so);
  bleak_scanner *s = NULL;
  assert_int_equal(bleak_scanner_new(&so, &s), 0);
  const bleak_device *dev = NULL;
  assert_int_equal(bleak_scanner_find_device_by_name(s, "fake", DEADLINE_MS, &dev), 0);
  snprintf(addr, sizeof addr, "%s", bleak_device_address(dev));
  bleak_scanner_free(s);
  return addr;
}

static void test_privacy(void **state) {
  (void)state;
  static const uint8_t prand[3] = {0x94, 0x81, 0x70}; /* top bits 01 */
  F.privacy = true;
  memcpy(F.rpa + 3, prand, 3);
  assert_int_equal(bk_smp_ah(F.peer.irk, prand, F.rpa), 0);
  F.peer.identity = (bk_smp_addr){0, {0x66, 0x55, 0x44, 0x33, 0x22, 0x11}}; /* FAKE_PEER */
  char rpa[18];
  snprintf(rpa, sizeof rpa, "%02X:%02X:%02X:%02X:%02X:%02X", F.rpa[5], F.rpa[4], F.rpa[3],
           F.rpa[2], F.rpa[1], F.rpa[0]);
  assert_string_equal(found_address(), rpa); /* nothing resolves it yet */

  bleak_client_options o;
  client_opts(&o, false);
  bleak_client *c = NULL;
  assert_int_equal(bleak_client_new(rpa, &o, &c), 0);
  assert_int_equal(bleak_client_connect(c), 0);
  assert_int_equal(pair_once(c), 0);
  assert_true(F.peer.sc);
  WAIT_FOR(bond_has("database_hash = "));
  assert_true(bond_has("peer = 11:22:33:44:55:66"));
  assert_true(bond_has("irk = "));
  bleak_client_free(c);

  new_process();
  assert_string_equal(found_address(), FAKE_PEER); /* resolved with the bond's IRK */
  c = connected(false); /* by the identity: FAKE_PEER */
  assert_int_equal(F.smp_seen, 0);
  assert_int_equal(F.encryptions, 1);
  assert_int_equal(F.encryption_failures, 0);
  assert_memory_equal(F.enc_ltk, F.bond.ltk, 16);
  assert_memory_equal(F.peer.self.val, F.rpa, 6); /* linked to the private address */
  assert_int_equal(F.peer.self.type, 1);
  assert_int_equal(read_once(c), 0);
  assert_int_equal(F.protected_refusals, 0);
  assert_string_equal(bleak_client_address(c), FAKE_PEER);
  bleak_client_free(c);
}

/* Out-of-band data (Secure Connections): the peer's r and C, given in the
 * options, pair with the OOB model: no question, an authenticated bond.
 * A confirm value that is not the peer's fails the pairing (SMP Confirm
 * Value Failed) and
 * keeps no bond. */
static void test_oob(void **state) {
  (void)state;
  F.peer.method = PEER_OOB;
  for (int i = 0; i < 16; i++)
    F.peer.own_r[i] = (uint8_t)(0x30 + i);
  bleak_oob_data oob = {.has_sc = true};
  memcpy(oob.sc_random, F.peer.own_r, 16);
  /* C = f4(PKb, PKb, rb, 0), from the peer's public key */
  assert_int_equal(bk_smp_f4(F.peer.key.pub, F.peer.key.pub, oob.sc_random, 0, oob.sc_confirm),
                   0);
  bleak_client_options o;
  client_opts(&o, true);
  o.pairing.oob = &oob;
  memset(&ask, 0, sizeof ask);
  bleak_client *c = connect_with(&o);
  memset(&oob, 0, sizeof oob); /* copied by bleak_client_new */
  assert_int_equal(pair_once(c), 0);
  assert_true(F.peer.sc);
  assert_int_equal(F.peer.preq[2], 1); /* we said we have its OOB data */
  assert_int_equal(ask.calls, 0);
  assert_true(bond_has("authenticated = true"));
  assert_int_equal(read_once(c), 0);
  bleak_client_free(c);

  remove(bond_path);
  F.bond.valid = false;
  memcpy(oob.sc_random, F.peer.own_r, 16);
  oob.has_sc = true;
  memset(oob.sc_confirm, 0x5a, 16); /* not the peer's */
  c = connect_with(&o);
  assert_int_equal(pair_once(c), BLEAK_ERR_SMP(0x04)); /* Confirm Value Failed */
  assert_false(bond_exists());
  bleak_client_free(c);
}

/* A legacy OOB key cannot go with sc_only: refused at construction. */
static void test_oob_legacy_with_sc_only(void **state) {
  (void)state;
  bleak_oob_data oob = {.has_legacy_tk = true};
  bleak_client_options o;
  client_opts(&o, false);
  o.pairing.oob = &oob;
  o.pairing.sc_only = true;
  bleak_client *c = NULL;
  assert_int_equal(bleak_client_new(PEER, &o, &c), BLEAK_ERR_INVALID_ARG);
  assert_null(c);
}

/* bleak/bonds.h: the bond is listed (no keys: what they are worth) and
 * removed by the peer's address, without a connection. */
static void test_bonds_api(void **state) {
  (void)state;
  bond_first();
  bleak_bond_info *v = NULL;
  size_t n = 0, bad = 9;
  assert_int_equal(bleak_bonds_list(NULL, &v, &n, &bad), 0); /* $BLEAK_BOND_DIR */
  assert_int_equal(n, 1);
  assert_int_equal(bad, 0);
  assert_string_equal(v[0].peer, FAKE_PEER);
  assert_string_equal(v[0].local, FAKE_HOST);
  assert_false(v[0].peer_random);
  assert_int_equal(v[0].key_size, 16);
  assert_true(v[0].secure_connections);
  assert_false(v[0].authenticated);
  assert_true(v[0].has_irk);
  assert_true(v[0].has_database);
  assert_true(v[0].created > 1700000000); /* the wall clock's */
  free(v);
  assert_int_equal(bleak_bonds_remove(bond_dir, "nonsense"), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_bonds_remove(bond_dir, "11:22:33:44:55:66"), 1);
  assert_false(bond_exists());
  assert_int_equal(bleak_bonds_remove(bond_dir, FAKE_PEER), BLEAK_ERR_NOT_FOUND);
  assert_int_equal(bleak_bonds_list(bond_dir, &v, &n, NULL), 0);
  assert_int_equal(n, 0);
  assert_null(v);
}

int main(void) {
  /* TEST_LOG=1: the library's log. */
  bleak_log_set_level(getenv("TEST_LOG") ? BLEAK_LOG_DEBUG : BLEAK_LOG_NONE);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_just_works, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bond_in_new_process, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pairs_on_demand, setup, teardown),
      cmocka_unit_test_setup_teardown(test_authenticates_on_demand, setup, teardown),
      cmocka_unit_test_setup_teardown(test_passkey_typed_by_us, setup, teardown),
      cmocka_unit_test_setup_teardown(test_passkey_shown_by_us, setup, teardown),
      cmocka_unit_test_setup_teardown(test_numeric_comparison, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pairing_declined, setup, teardown),
      cmocka_unit_test_setup_teardown(test_legacy, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unpair, setup, teardown),
      cmocka_unit_test_setup_teardown(test_peer_lost_key, setup, teardown),
      cmocka_unit_test_setup_teardown(test_key_too_short, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bond_key_too_short, setup, teardown),
      cmocka_unit_test_setup_teardown(test_security_request, setup, teardown),
      cmocka_unit_test_setup_teardown(test_connect_and_pair, setup, teardown),
      cmocka_unit_test_setup_teardown(test_connect_and_pair_declined, setup, teardown),
      cmocka_unit_test_setup_teardown(test_keys_before_key_size, setup, teardown),
      cmocka_unit_test_setup_teardown(test_controller_gone_while_pairing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_free_while_pairing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cancel_pair, setup, teardown),
      cmocka_unit_test_setup_teardown(test_requirements_unmet, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_bonding, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mitm_upgrades_bond, setup, teardown),
      cmocka_unit_test_setup_teardown(test_privacy, setup, teardown),
      cmocka_unit_test_setup_teardown(test_oob, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bonds_api, setup, teardown),
      cmocka_unit_test_setup_teardown(test_oob_legacy_with_sc_only, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
