/* SPDX-License-Identifier: MIT */
/*
 * The pairing checks of the hci backend against the kernel's SMP (the
 * fixture's bluetoothd and its agent on the peripheral's side), one
 * scenario a process, so that "a new process with the bond" is one:
 *
 *   pairing ADDRESS --hci SPEC --mode MODE [--passkey-file F] [--name N]
 *
 * ADDRESS is the fixture's identity address; bonds are in $BLEAK_BOND_DIR.
 * Modes (tests/vm/pairing-hci.sh runs them in turn, setting the fixture's
 * agent and the peripheral's controller as each needs):
 *   on-demand        no pair(): the encrypted read pairs (Just Works, LE
 *                    Secure Connections) and gets the value; the bond kept
 *   bonded           a new process: the read gets the value with the bond's
 *                    key, no pairing (the pairing callback never asked, the
 *                    bond file unchanged)
 *   unpair           unpair(): the bond gone, the link down
 *   passkey-display  we show the passkey (written to F), the peripheral's
 *                    user types it (the fixture's agent reads F)
 *   passkey-enter    the peripheral shows it (its agent writes F), we type
 *   numeric          numeric comparison, confirmed
 *   legacy           the peripheral without Secure Connections: legacy
 *                    pairing, the bond's EDIV and Rand (then "bonded" again
 *                    proves the reconnection with them)
 *   privacy-pair     the peripheral with privacy: found by name behind a
 *                    resolvable private address, paired; the bond is its
 *                    identity's, with its IRK
 *   privacy-identity a new process: a scan shows the identity, and a client
 *                    made with the identity address finds the peer behind
 *                    its private address and reads with the bond
 * Prints TAP lines and a closing "N passed, N failed" line.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define ENCRYPTED "b1e5000b-7e57-4c0d-9e00-000000000001"
#define WAIT_MS 20000

static const char *passkey_file;

/* ---- the bond file ---- */

/* The text of the bond file of @p peer ("AA:BB:..."), "" when none. */
static const char *bond_text(const char *peer) {
  static char text[16384];
  text[0] = '\0';
  const char *dir = getenv("BLEAK_BOND_DIR");
  char hex[13] = {0};
  for (size_t i = 0, j = 0; peer[i] && j < 12; i++)
    if (peer[i] != ':')
      hex[j++] = peer[i];
  DIR *d = dir ? opendir(dir) : NULL;
  if (!d)
    return text;
  for (struct dirent *e; (e = readdir(d));) {
    const char *at = strstr(e->d_name, "_");
    if (e->d_name[0] == '.' || !at || strncasecmp(at + 1, hex, 12) != 0 ||
        !strstr(e->d_name, ".bond"))
      continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    FILE *f = fopen(path, "r");
    if (f) {
      size_t n = fread(text, 1, sizeof text - 1, f);
      text[n] = '\0';
      fclose(f);
    }
    break;
  }
  closedir(d);
  return text;
}

static int bond_count(void) {
  const char *dir = getenv("BLEAK_BOND_DIR");
  DIR *d = dir ? opendir(dir) : NULL;
  if (!d)
    return 0;
  int n = 0;
  for (struct dirent *e; (e = readdir(d));)
    n += e->d_name[0] != '.' && strstr(e->d_name, ".bond") != NULL;
  closedir(d);
  return n;
}

static bool bond_has(const char *peer, const char *line) {
  return strstr(bond_text(peer), line) != NULL;
}

/* ---- the pairing callback ---- */

static struct {
  int count;
  bleak_pairing_request last;
  uint32_t number;
  bool want_passkey; /* REQUEST_PASSKEY waits for the peripheral's */
} asked;

static void write_passkey(uint32_t n) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", passkey_file);
  FILE *f = fopen(tmp, "w");
  if (!f)
    return;
  fprintf(f, "%06u\n", n);
  fclose(f);
  rename(tmp, passkey_file);
}

static void on_pairing(bleak_client *c, bleak_pairing_request kind, uint32_t number, void *u) {
  (void)u;
  asked.count++;
  asked.last = kind;
  asked.number = number;
  printf("#   pairing callback: kind %d, number %06u\n", (int)kind, number);
  switch (kind) {
  case BLEAK_PAIRING_DISPLAY_PASSKEY: /* the peripheral's user types it */
    if (passkey_file)
      write_passkey(number);
    break;
  case BLEAK_PAIRING_REQUEST_PASSKEY: /* answered when the peripheral shows it */
    asked.want_passkey = true;
    break;
  case BLEAK_PAIRING_CONFIRM:
  case BLEAK_PAIRING_AUTHORIZE:
    bleak_client_pairing_reply(c, true, 0);
    break;
  }
}

/* Every 100 ms: when the peripheral's passkey is in the file, type it. */
typedef struct typist {
  bleak_client *c;
  bleak_source *timer;
  bool typed;
} typist;

static void on_type(bleak_source *src, void *user) {
  typist *t = user;
  if (asked.want_passkey && !t->typed && passkey_file) {
    FILE *f = fopen(passkey_file, "r");
    unsigned n = 0;
    if (f && fscanf(f, "%u", &n) == 1) {
      printf("#   typing the peripheral's passkey %06u\n", n);
      t->typed = bleak_client_pairing_reply(t->c, true, n) == 0;
    }
    if (f)
      fclose(f);
  }
  bleak_source_set_timer(src, 100);
}

/* ---- the scenarios ---- */

typedef struct run {
  const char *address; /* the identity */
  const char *name;    /* the fixture's advertised name */
  bleak_client_options opts;
} run;

static typist the_typist;

static bleak_client *connect_to(run *r, const char *address, bool agent) {
  bleak_client_options o = r->opts;
  if (agent)
    o.pairing_callback = on_pairing;
  bleak_client *c = NULL;
  int e = bleak_client_new(address, &o, &c);
  /* A bonded peripheral may ask for security (a Security Request) as the
   * link comes up: the passkey can be wanted during the connect too. */
  the_typist.c = c;
  the_typist.typed = false;
  if (e == 0 && agent && !the_typist.timer)
    bleak_loop_add_timer(bleak_loop_default(), 100, on_type, &the_typist, &the_typist.timer);
  if (e == 0)
    e = connect_retry(c);
  CHECK("connect", e == 0, "%s: %s", address, err(e));
  if (e) {
    bleak_client_free(c);
    return NULL;
  }
  return c;
}

static int read_secret(bleak_client *c) {
  const bleak_gatt_characteristic *ch = NULL;
  uint8_t buf[BLEAK_MAX_ATTR_VALUE];
  size_t len = 0;
  int e = bleak_client_char_by_uuid(c, ENCRYPTED, &ch);
  if (e == 0)
    e = bleak_client_read_gatt_char(c, ch, buf, sizeof buf, &len);
  if (e == 0 && (len != 6 || memcmp(buf, "secret", 6) != 0))
    e = BLEAK_ERR_PROTOCOL;
  return e;
}

static void done(bleak_client *c) {
  if (c)
    bleak_client_disconnect(c);
  bleak_client_free(c);
}

static void on_demand(run *r) {
  bleak_client *c = connect_to(r, r->address, false);
  if (!c)
    return;
  int e = read_secret(c);
  CHECK("the encrypted read pairs on demand and gets the value", e == 0, "%s", err(e));
  CHECK("the bond is kept: Secure Connections, Just Works",
        bond_has(r->address, "secure_connections = true") &&
            bond_has(r->address, "authenticated = false"),
        "bond: %s", bond_text(r->address));
  done(c);
}

static void bonded(run *r) {
  char before[16384];
  snprintf(before, sizeof before, "%s", bond_text(r->address));
  CHECK("a bond from an earlier process is there", strstr(before, "ltk = ") != NULL,
        "%d bonds", bond_count());
  bleak_client *c = connect_to(r, r->address, true);
  if (!c)
    return;
  int e = read_secret(c);
  CHECK("a new process reads the encrypted characteristic with the bond", e == 0, "%s", err(e));
  CHECK("without pairing again: no question, the bond unchanged",
        asked.count == 0 && !strcmp(before, bond_text(r->address)), "%d questions", asked.count);
  done(c);
}

static void unpair(run *r) {
  bleak_client *c = connect_to(r, r->address, false);
  if (!c)
    return;
  int e = bleak_client_unpair(c);
  CHECK("unpair removes the bond and disconnects",
        e == 0 && !bleak_client_is_connected(c) && bond_text(r->address)[0] == '\0', "%s", err(e));
  bleak_client_free(c);
}

/* pair() with the pairing callback; the question @p want was asked; the
 * bond authenticated (MITM) when @p mitm. */
static void pair_with_callback(run *r, bleak_pairing_request want, bool mitm, const char *what) {
  bleak_client *c = connect_to(r, r->address, true);
  if (!c)
    return;
  int e = bleak_client_pair(c);
  char name[160];
  snprintf(name, sizeof name, "pair: %s", what);
  CHECK(name, e == 0 && asked.count >= 1 && asked.last == want, "%s; %d questions, last %d",
        err(e), asked.count, (int)asked.last);
  CHECK("the bond is kept, authenticated as the model gives",
        bond_has(r->address, mitm ? "authenticated = true" : "authenticated = false"),
        "bond: %s", bond_text(r->address));
  e = read_secret(c);
  CHECK("the encrypted read after pair gets the value", e == 0, "%s", err(e));
  done(c);
}

static void legacy(run *r) {
  bleak_client *c = connect_to(r, r->address, false);
  if (!c)
    return;
  int e = bleak_client_pair(c);
  CHECK("pair with a peripheral without Secure Connections (legacy, Just Works)", e == 0, "%s",
        err(e));
  CHECK("the bond is legacy, with the peer's EDIV and Rand",
        bond_has(r->address, "secure_connections = false") &&
            !bond_has(r->address, "rand = 0000000000000000"),
        "bond: %s", bond_text(r->address));
  e = read_secret(c);
  CHECK("the encrypted read after legacy pairing gets the value", e == 0, "%s", err(e));
  done(c);
}

/* The address the scanner reports for the fixture's name. */
static int scan_for_name(run *r, char out[18]) {
  bleak_scanner_options so;
  bleak_scanner_options_init(&so);
  so.backend = BLEAK_BACKEND_HCI;
  so.hci_transport = r->opts.hci_transport;
  bleak_scanner *s = NULL;
  const bleak_device *d = NULL;
  int e = bleak_scanner_new(&so, &s);
  if (e == 0)
    e = bleak_scanner_find_device_by_name(s, r->name, WAIT_MS, &d);
  if (e == 0)
    snprintf(out, 18, "%s", bleak_device_address(d));
  bleak_scanner_free(s);
  return e;
}

static bool is_rpa(const char *a) {
  unsigned top = 0;
  return sscanf(a, "%2x", &top) == 1 && (top & 0xc0) == 0x40;
}

static void privacy_pair(run *r) {
  char seen[18] = "";
  int e = scan_for_name(r, seen);
  CHECK("the peripheral with privacy is seen behind a resolvable private address",
        e == 0 && strcasecmp(seen, r->address) != 0 && is_rpa(seen), "%s, seen as %s", err(e),
        seen);
  if (e)
    return;
  bleak_client *c = connect_to(r, seen, false);
  if (!c)
    return;
  e = bleak_client_pair(c);
  CHECK("pair with it there", e == 0, "%s", err(e));
  CHECK("the bond is its identity's, with its IRK",
        bond_has(r->address, "irk = ") && bond_text(seen)[0] == '\0', "bond: %s",
        bond_text(r->address));
  done(c);
}

static void privacy_identity(run *r) {
  char seen[18] = "";
  int e = scan_for_name(r, seen);
  CHECK("a new process's scan shows its identity address (the IRK resolved it)",
        e == 0 && !strcasecmp(seen, r->address), "%s, seen as %s", err(e), seen);
  bleak_client *c = connect_to(r, r->address, true);
  if (!c)
    return;
  e = read_secret(c);
  CHECK("connect by identity finds it behind its private address, reads with the bond",
        e == 0 && asked.count == 0, "%s; %d questions", err(e), asked.count);
  done(c);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: pairing ADDRESS --hci SPEC --mode MODE [--passkey-file F] "
                    "[--name N]\n");
    return 2;
  }
  run r = {.address = argv[1], .name = "bleak-fx"};
  bleak_client_options_init(&r.opts);
  r.opts.backend = BLEAK_BACKEND_HCI;
  const char *mode = "";
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--hci"))
      r.opts.hci_transport = argv[i + 1];
    else if (!strcmp(argv[i], "--mode"))
      mode = argv[i + 1];
    else if (!strcmp(argv[i], "--passkey-file"))
      passkey_file = argv[i + 1];
    else if (!strcmp(argv[i], "--name"))
      r.name = argv[i + 1];
  }
  printf("# pairing: %s\n", mode);
  if (!strcmp(mode, "on-demand"))
    on_demand(&r);
  else if (!strcmp(mode, "bonded"))
    bonded(&r);
  else if (!strcmp(mode, "unpair"))
    unpair(&r);
  else if (!strcmp(mode, "passkey-display"))
    pair_with_callback(&r, BLEAK_PAIRING_DISPLAY_PASSKEY, true,
                       "passkey entry, we show it, the peripheral's user types it");
  else if (!strcmp(mode, "passkey-enter"))
    pair_with_callback(&r, BLEAK_PAIRING_REQUEST_PASSKEY, true,
                       "passkey entry, the peripheral shows it, we type it");
  else if (!strcmp(mode, "numeric"))
    pair_with_callback(&r, BLEAK_PAIRING_CONFIRM, true, "numeric comparison");
  else if (!strcmp(mode, "legacy"))
    legacy(&r);
  else if (!strcmp(mode, "privacy-pair"))
    privacy_pair(&r);
  else if (!strcmp(mode, "privacy-identity"))
    privacy_identity(&r);
  else
    CHECK("a known mode", false, "unknown mode '%s'", mode);
  bleak_source_free(the_typist.timer);
  check_summary();
  return failed ? 1 : 0;
}
