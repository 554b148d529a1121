/* SPDX-License-Identifier: MIT */
/* The bond store (src/backend/hci/bond_store.c): records and their GATT
 * databases round trip, the files' modes and atomic replacement, every
 * kind of bad file refused with its own detail, the directory's
 * resolution, listing, removal. Each test has a fresh temporary
 * directory (mkdtemp), removed after it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/hci/bond_store.h"
#include "bleak/error.h"
#include "bleak/gatt.h"
#include "bleak/log.h"
#include "core/gatt_build.h"
#include "core/internal.h"

#define LTK_HEX "00112233445566778899aabbccddeeff"
#define CUSTOM_SVC "b1e5c000-0000-4000-8000-00000000c0de"
#define CUSTOM_CHR "b1e5c001-0000-4000-8000-00000000c0de"

/* ---- fixtures ------------------------------------------------------------ */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  chmod(path, 0700); /* a read-only directory of a test */
  return remove(path);
}

static int setup_dir(void **state) {
  char *dir = strdup("/tmp/test-bond-store-XXXXXX");
  if (!dir || !mkdtemp(dir)) {
    free(dir);
    return -1;
  }
  *state = dir;
  return 0;
}

static int teardown_dir(void **state) {
  char *dir = *state;
  chmod(dir, 0700);
  int r = nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  free(dir);
  return r;
}

static char *path_in(const char *dir, const char *name) {
  static char buf[4][600];
  static int next;
  char *p = buf[next++ % 4];
  snprintf(p, sizeof buf[0], "%s/%s", dir, name);
  return p;
}

static bleak_uuid U(const char *s) {
  bleak_uuid u;
  assert_int_equal(bleak_uuid_parse(s, &u), 0);
  return u;
}

static bk_bond_addr ADDR(const char *s, uint8_t type) {
  bk_bond_addr a = {.type = type};
  for (int i = 0; i < 6; i++) {
    unsigned v;
    assert_int_equal(sscanf(s + 3 * i, "%2x", &v), 1);
    a.addr[5 - i] = (uint8_t)v;
  }
  return a;
}

static const bk_bond_addr *local_a(void) {
  static bk_bond_addr a;
  a = ADDR("C0:FF:EE:00:00:01", BK_BOND_ADDR_RANDOM);
  return &a;
}
static const bk_bond_addr *peer_a(void) {
  static bk_bond_addr a;
  a = ADDR("11:22:33:44:55:66", BK_BOND_ADDR_PUBLIC);
  return &a;
}

/* GAP 1-7 (a characteristic with no properties, two descriptors), a
 * secondary service 8-9 with no characteristics, a custom service 16-24
 * with every property. */
static bleak_gatt_services *build_db(void) {
  bleak_gatt_services *s = bk_gatt_services_new();
  assert_non_null(s);
  bleak_uuid u = bleak_uuid_from_u16(0x1800);
  assert_int_equal(bk_gatt_services_add_service(s, &u, 1, 7, true), 0);
  u = bleak_uuid_from_u16(0x2a00);
  assert_int_equal(bk_gatt_services_add_characteristic(
                       s, 1, &u, 2, 3, BLEAK_GATT_PROP_READ | BLEAK_GATT_PROP_NOTIFY), 0);
  u = bleak_uuid_from_u16(0x2902);
  assert_int_equal(bk_gatt_services_add_descriptor(s, 2, &u, 4), 0);
  u = bleak_uuid_from_u16(0x2901);
  assert_int_equal(bk_gatt_services_add_descriptor(s, 2, &u, 5), 0);
  u = bleak_uuid_from_u16(0x2a01);
  assert_int_equal(bk_gatt_services_add_characteristic(s, 1, &u, 6, 7, 0), 0);
  u = bleak_uuid_from_u16(0x180f);
  assert_int_equal(bk_gatt_services_add_service(s, &u, 8, 9, false), 0);
  u = U(CUSTOM_SVC);
  assert_int_equal(bk_gatt_services_add_service(s, &u, 16, 24, true), 0);
  u = U(CUSTOM_CHR);
  assert_int_equal(bk_gatt_services_add_characteristic(
                       s, 16, &u, 17, 18, (1u << BLEAK_GATT_PROP_COUNT) - 1u), 0);
  u = bleak_uuid_from_u16(0x2902);
  assert_int_equal(bk_gatt_services_add_descriptor(s, 17, &u, 24), 0);
  assert_int_equal(bk_gatt_services_finish(s), 0);
  return s;
}

static void fill16(uint8_t *p, uint8_t first) {
  for (int i = 0; i < 16; i++)
    p[i] = (uint8_t)(first + i * 0x11);
}

/* What every bond has, and no more: no IRK, no CSRK, no database. */
static bk_bond minimal_bond(void) {
  bk_bond b = {0};
  b.id.local = *local_a();
  b.id.peer = *peer_a();
  b.created = 0;
  fill16(b.ltk, 0x05);
  b.key_size = 7;
  b.secure_connections = true;
  return b;
}

/* Every field set, none to its default. */
static bk_bond full_bond(void) {
  bk_bond b = minimal_bond();
  b.created = 1733140800;
  fill16(b.ltk, 0x00);
  b.key_size = 16;
  b.authenticated = true;
  b.secure_connections = false;
  b.ediv = 0xbeef;
  b.rand = 0x0123456789abcdefull;
  b.has_irk = true;
  fill16(b.irk, 0x01);
  b.has_local_csrk = true;
  fill16(b.local_csrk, 0x02);
  b.local_sign_counter = 7;
  b.has_peer_csrk = true;
  fill16(b.peer_csrk, 0x03);
  b.peer_sign_counter = 4294967295u;
  b.gatt = build_db();
  b.has_db_hash = true;
  fill16(b.db_hash, 0x04);
  return b;
}

static void assert_gatt_equal(const bleak_gatt_services *a, const bleak_gatt_services *b) {
  assert_int_equal(bleak_gatt_services_count(a), bleak_gatt_services_count(b));
  assert_int_equal(bleak_gatt_services_characteristic_count(a),
                   bleak_gatt_services_characteristic_count(b));
  assert_int_equal(bleak_gatt_services_descriptor_count(a),
                   bleak_gatt_services_descriptor_count(b));
  for (size_t i = 0; i < bleak_gatt_services_count(a); i++) {
    const bleak_gatt_service *x = bleak_gatt_services_at(a, i), *y = bleak_gatt_services_at(b, i);
    assert_true(bleak_uuid_equal(bleak_gatt_service_uuid(x), bleak_gatt_service_uuid(y)));
    assert_int_equal(bleak_gatt_service_handle(x), bleak_gatt_service_handle(y));
    assert_int_equal(bleak_gatt_service_end_handle(x), bleak_gatt_service_end_handle(y));
    assert_int_equal(bleak_gatt_service_is_primary(x), bleak_gatt_service_is_primary(y));
    assert_int_equal(bleak_gatt_service_characteristic_count(x),
                     bleak_gatt_service_characteristic_count(y));
    for (size_t j = 0; j < bleak_gatt_service_characteristic_count(x); j++) {
      const bleak_gatt_characteristic *c = bleak_gatt_service_characteristic_at(x, j);
      const bleak_gatt_characteristic *d = bleak_gatt_service_characteristic_at(y, j);
      assert_true(bleak_uuid_equal(bleak_gatt_characteristic_uuid(c),
                                   bleak_gatt_characteristic_uuid(d)));
      assert_int_equal(bleak_gatt_characteristic_handle(c), bleak_gatt_characteristic_handle(d));
      assert_int_equal(bleak_gatt_characteristic_value_handle(c),
                       bleak_gatt_characteristic_value_handle(d));
      assert_int_equal(bleak_gatt_characteristic_properties(c),
                       bleak_gatt_characteristic_properties(d));
      assert_int_equal(bleak_gatt_characteristic_descriptor_count(c),
                       bleak_gatt_characteristic_descriptor_count(d));
      for (size_t k = 0; k < bleak_gatt_characteristic_descriptor_count(c); k++) {
        const bleak_gatt_descriptor *e = bleak_gatt_characteristic_descriptor_at(c, k);
        const bleak_gatt_descriptor *f = bleak_gatt_characteristic_descriptor_at(d, k);
        assert_true(bleak_uuid_equal(bleak_gatt_descriptor_uuid(e), bleak_gatt_descriptor_uuid(f)));
        assert_int_equal(bleak_gatt_descriptor_handle(e), bleak_gatt_descriptor_handle(f));
      }
    }
  }
}

static void assert_bond_equal(const bk_bond *a, const bk_bond *b) {
  assert_memory_equal(&a->id.local.addr, &b->id.local.addr, 6);
  assert_int_equal(a->id.local.type, b->id.local.type);
  assert_memory_equal(&a->id.peer.addr, &b->id.peer.addr, 6);
  assert_int_equal(a->id.peer.type, b->id.peer.type);
  assert_int_equal(a->created, b->created);
  assert_memory_equal(a->ltk, b->ltk, 16);
  assert_int_equal(a->key_size, b->key_size);
  assert_int_equal(a->authenticated, b->authenticated);
  assert_int_equal(a->secure_connections, b->secure_connections);
  assert_int_equal(a->ediv, b->ediv);
  assert_int_equal(a->rand, b->rand);
  assert_int_equal(a->has_irk, b->has_irk);
  assert_memory_equal(a->irk, b->irk, 16);
  assert_int_equal(a->has_local_csrk, b->has_local_csrk);
  assert_memory_equal(a->local_csrk, b->local_csrk, 16);
  assert_int_equal(a->local_sign_counter, b->local_sign_counter);
  assert_int_equal(a->has_peer_csrk, b->has_peer_csrk);
  assert_memory_equal(a->peer_csrk, b->peer_csrk, 16);
  assert_int_equal(a->peer_sign_counter, b->peer_sign_counter);
  assert_int_equal(a->has_db_hash, b->has_db_hash);
  assert_memory_equal(a->db_hash, b->db_hash, 16);
  assert_int_equal(a->gatt == NULL, b->gatt == NULL);
  if (a->gatt)
    assert_gatt_equal(a->gatt, b->gatt);
}

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  static char buf[1 << 16];
  *len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  char *p = malloc(*len + 1);
  assert_non_null(p);
  memcpy(p, buf, *len);
  p[*len] = '\0';
  return p;
}

static void write_text(const char *path, const char *text, size_t len) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

static const char *bond_file(const char *dir) {
  char name[BK_BOND_NAME_LEN];
  bk_bond_id id = {*local_a(), *peer_a()};
  assert_int_equal(bk_bond_file_name(&id, name), 0);
  return path_in(dir, name);
}

/* The names in @p dir, sorted, joined by ' '. */
static const char *dir_names(const char *dir) {
  static char out[2048];
  struct dirent **list;
  int n = scandir(dir, &list, NULL, alphasort);
  assert_true(n >= 0);
  out[0] = '\0';
  for (int i = 0; i < n; i++) {
    if (strcmp(list[i]->d_name, ".") && strcmp(list[i]->d_name, "..")) {
      if (out[0])
        strcat(out, " ");
      strcat(out, list[i]->d_name);
    }
    free(list[i]);
  }
  free(list);
  return out;
}

/* ---- round trips --------------------------------------------------------- */

static void test_round_trip_full(void **state) {
  const char *dir = *state;
  bk_bond b = full_bond(), got;
  assert_int_equal(bk_bond_store(dir, &b), 0);
  assert_int_equal(bk_bond_load(dir, local_a(), peer_a(), &got), 0);
  assert_bond_equal(&b, &got);
  assert_true(got.has_irk && got.has_local_csrk && got.has_peer_csrk && got.has_db_hash);
  assert_non_null(got.gatt);
  /* The rebuilt tree is a whole one: lookups by handle work. */
  assert_non_null(bleak_gatt_services_get_characteristic_by_value_handle(got.gatt, 18));
  assert_non_null(bleak_gatt_services_get_descriptor_by_handle(got.gatt, 24));
  bk_bond_clear(&got);
  /* Cleared: keys wiped, reference dropped (valgrind sees a leak else). */
  static const uint8_t zero[16];
  assert_memory_equal(got.ltk, zero, 16);
  assert_null(got.gatt);
  bk_bond_clear(&got);
  bk_bond_clear(&b);
}

static void test_round_trip_minimal(void **state) {
  const char *dir = *state;
  bk_bond b = minimal_bond(), got;
  assert_int_equal(bk_bond_store(dir, &b), 0);
  assert_int_equal(bk_bond_load(dir, local_a(), peer_a(), &got), 0);
  assert_bond_equal(&b, &got);
  assert_false(got.has_irk);
  assert_false(got.has_local_csrk);
  assert_false(got.has_peer_csrk);
  assert_false(got.has_db_hash);
  assert_null(got.gatt);
  assert_int_equal(got.key_size, 7);
  assert_true(got.secure_connections);
  size_t len;
  char *text = read_all(bond_file(dir), &len);
  assert_null(strstr(text, "[gatt]"));
  assert_null(strstr(text, "irk"));
  assert_null(strstr(text, "csrk"));
  free(text);
  bk_bond_clear(&got);
  bk_bond_clear(&b);
}

/* The exact text written, as the header documents it. */
static void test_format_text(void **state) {
  (void)state;
  bk_bond b = full_bond();
  char *text;
  size_t len;
  assert_int_equal(bk_bond_format(&b, &text, &len), 0);
  assert_int_equal(strlen(text), len);
  static const char *const lines[] = {
      "\nversion = 1\n",
      "\nlocal = C0:FF:EE:00:00:01\nlocal_type = random\n",
      "\npeer = 11:22:33:44:55:66\npeer_type = public\n",
      "\ncreated = 1733140800\n",
      "\nltk = " LTK_HEX "\n",
      "\nkey_size = 16\nauthenticated = true\nsecure_connections = false\n",
      "\nediv = beef\nrand = 0123456789abcdef\n",
      "\nirk = 0112233445566778899aabbccddeef00\n",
      "\nlocal_sign_counter = 7\n",
      "\npeer_sign_counter = 4294967295\n",
      "\n[gatt]\ndatabase_hash = 0415263748596a7b8c9dae",
      "\nservice = 0x0001 0x0007 primary 00001800-0000-1000-8000-00805f9b34fb\n"
      "characteristic = 0x0002 0x0003 read,notify 00002a00-0000-1000-8000-00805f9b34fb\n"
      "descriptor = 0x0004 00002902-0000-1000-8000-00805f9b34fb\n"
      "descriptor = 0x0005 00002901-0000-1000-8000-00805f9b34fb\n"
      "characteristic = 0x0006 0x0007 - 00002a01-0000-1000-8000-00805f9b34fb\n"
      "service = 0x0008 0x0009 secondary 0000180f-0000-1000-8000-00805f9b34fb\n"
      "service = 0x0010 0x0018 primary " CUSTOM_SVC "\n"
      "characteristic = 0x0011 0x0012 broadcast,read,",
      "\n\n[end]\n",
  };
  for (size_t i = 0; i < BK_ARRAY_SIZE(lines); i++)
    if (!strstr(text, lines[i]))
      fail_msg("no \"%s\" in:\n%s", lines[i], text);
  assert_int_equal(strncmp(text, "# ", 2), 0);
  /* And it parses back to the same bond. */
  bk_bond got;
  assert_int_equal(bk_bond_parse(text, len, NULL, &got), 0);
  assert_bond_equal(&b, &got);
  bk_bond_clear(&got);
  free(text);
  bk_bond_clear(&b);
}

static void test_gatt_round_trip(void **state) {
  (void)state;
  bk_bond b = minimal_bond();
  b.gatt = build_db(); /* a database without a hash */
  char *text;
  size_t len;
  assert_int_equal(bk_bond_format(&b, &text, &len), 0);
  bk_bond got;
  assert_int_equal(bk_bond_parse(text, len, NULL, &got), 0);
  free(text);
  assert_false(got.has_db_hash);
  assert_gatt_equal(b.gatt, got.gatt);
  /* Spelled out, not only equal to the original. */
  assert_int_equal(bleak_gatt_services_count(got.gatt), 3);
  const bleak_gatt_service *sec = bleak_gatt_services_at(got.gatt, 1);
  assert_false(bleak_gatt_service_is_primary(sec));
  assert_int_equal(bleak_gatt_service_characteristic_count(sec), 0);
  const bleak_gatt_characteristic *ch =
      bleak_gatt_services_get_characteristic_by_handle(got.gatt, 0x11);
  assert_non_null(ch);
  assert_int_equal(bleak_gatt_characteristic_properties(ch), (1u << BLEAK_GATT_PROP_COUNT) - 1u);
  bleak_uuid cu = U(CUSTOM_CHR);
  assert_true(bleak_uuid_equal(bleak_gatt_characteristic_uuid(ch), &cu));
  assert_int_equal(bleak_gatt_characteristic_descriptor_count(ch), 1);
  assert_int_equal(bleak_gatt_descriptor_handle(bleak_gatt_characteristic_descriptor_at(ch, 0)),
                   24);
  ch = bleak_gatt_services_get_characteristic_by_handle(got.gatt, 6);
  assert_int_equal(bleak_gatt_characteristic_properties(ch), 0);
  /* An empty database is one too (a [gatt] section with no lines). */
  bk_bond_clear(&got);
  bleak_gatt_services_unref(b.gatt);
  b.gatt = bk_gatt_services_new();
  assert_int_equal(bk_gatt_services_finish(b.gatt), 0);
  assert_int_equal(bk_bond_format(&b, &text, &len), 0);
  assert_int_equal(bk_bond_parse(text, len, NULL, &got), 0);
  free(text);
  assert_non_null(got.gatt);
  assert_int_equal(bleak_gatt_services_count(got.gatt), 0);
  bk_bond_clear(&got);
  bk_bond_clear(&b);
}

/* ---- files: modes, atomic replacement ------------------------------------ */

static mode_t mode_of(const char *path) {
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  return st.st_mode & 07777;
}

static void test_modes(void **state) {
  const char *dir = *state;
  /* Made whatever the umask says: 0700 directories (the missing parents
   * too), 0600 files. */
  static const mode_t masks[] = {0, 022, 0277};
  for (size_t i = 0; i < BK_ARRAY_SIZE(masks); i++) {
    char sub[64];
    snprintf(sub, sizeof sub, "m%zu/state/bonds", i);
    char *bonds = strdup(path_in(dir, sub));
    mode_t old = umask(masks[i]);
    bk_bond b = minimal_bond();
    int r = bk_bond_store(bonds, &b);
    umask(old);
    assert_int_equal(r, 0);
    assert_int_equal(mode_of(bonds), 0700);
    snprintf(sub, sizeof sub, "m%zu/state", i);
    assert_int_equal(mode_of(path_in(dir, sub)), 0700);
    snprintf(sub, sizeof sub, "m%zu", i);
    assert_int_equal(mode_of(path_in(dir, sub)), 0700);
    assert_int_equal(mode_of(bond_file(bonds)), 0600);
    free(bonds);
  }
  /* An existing directory is left as it is; its file is still 0600. */
  assert_int_equal(chmod(dir, 0750), 0);
  bk_bond b = minimal_bond();
  assert_int_equal(bk_bond_store(dir, &b), 0);
  assert_int_equal(mode_of(dir), 0750);
  assert_int_equal(mode_of(bond_file(dir)), 0600);
  /* A file where the directory should be. */
  write_text(path_in(dir, "plain"), "x", 1);
  assert_int_equal(bk_bond_store(path_in(dir, "plain"), &b), BLEAK_ERR_IO);
  assert_non_null(strstr(bleak_error_detail(), "plain"));
}

static void test_store_replaces_atomically(void **state) {
  const char *dir = *state;
  char name[BK_BOND_NAME_LEN];
  bk_bond_id id = {*local_a(), *peer_a()};
  assert_int_equal(bk_bond_file_name(&id, name), 0);
  bk_bond b = full_bond();
  assert_int_equal(bk_bond_store(dir, &b), 0);
  assert_string_equal(dir_names(dir), name); /* no temporary file left */
  b.peer_sign_counter = 12;
  assert_int_equal(bk_bond_store(dir, &b), 0);
  assert_string_equal(dir_names(dir), name);
  bk_bond got;
  assert_int_equal(bk_bond_load(dir, local_a(), peer_a(), &got), 0);
  assert_int_equal(got.peer_sign_counter, 12);
  bk_bond_clear(&got);
  bk_bond_clear(&b);
}

/* A store that fails leaves the bond stored before as it was, and no
 * temporary file. */
static void assert_untouched(const char *dir, const char *before, size_t before_len) {
  char name[BK_BOND_NAME_LEN];
  bk_bond_id id = {*local_a(), *peer_a()};
  assert_int_equal(bk_bond_file_name(&id, name), 0);
  size_t len;
  char *now = read_all(bond_file(dir), &len);
  assert_int_equal(len, before_len);
  assert_memory_equal(now, before, len);
  free(now);
  assert_string_equal(dir_names(dir), name);
}

static void test_failed_store_keeps_old(void **state) {
  const char *dir = *state;
  bk_bond b = full_bond();
  assert_int_equal(bk_bond_store(dir, &b), 0);
  size_t len;
  char *before = read_all(bond_file(dir), &len);
  b.peer_sign_counter = 99;

  /* Refused before any file is made. */
  b.key_size = 17;
  assert_int_equal(bk_bond_store(dir, &b), BLEAK_ERR_INVALID_ARG);
  assert_untouched(dir, before, len);
  b.key_size = 16;

  /* A write that fails half way (the file size limit: root obeys it
   * too): the temporary file goes, the old one stays. */
  struct rlimit old_lim, lim;
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_lim), 0);
  lim = old_lim;
  lim.rlim_cur = 256;
  void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
  int r = bk_bond_store(dir, &b);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &old_lim), 0);
  signal(SIGXFSZ, old_sig);
  assert_int_equal(r, BLEAK_ERR_IO);
  assert_non_null(strstr(bleak_error_detail(), "cannot write"));
  assert_untouched(dir, before, len);

  /* A read-only directory. Root ignores permissions: skipped as root. */
  if (geteuid() == 0) {
    print_message("[  SKIP    ] read-only directory case: running as root, which ignores "
                  "permissions\n");
  } else {
    assert_int_equal(chmod(dir, 0500), 0);
    r = bk_bond_store(dir, &b);
    assert_int_equal(chmod(dir, 0700), 0);
    assert_int_equal(r, BLEAK_ERR_IO);
    assert_non_null(strstr(bleak_error_detail(), "cannot create"));
    assert_untouched(dir, before, len);
  }
  free(before);
  bk_bond_clear(&b);
}

static void test_store_refuses_bad_records(void **state) {
  const char *dir = *state;
  bk_bond b = minimal_bond();
  assert_int_equal(bk_bond_store(NULL, &b), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_bond_store(dir, NULL), BLEAK_ERR_INVALID_ARG);
  b.key_size = 6;
  assert_int_equal(bk_bond_store(dir, &b), BLEAK_ERR_INVALID_ARG);
  assert_non_null(strstr(bleak_error_detail(), "key size 6"));
  b.key_size = 16;
  b.id.peer.type = 2;
  assert_int_equal(bk_bond_store(dir, &b), BLEAK_ERR_INVALID_ARG);
  b.id.peer.type = 1;
  b.ediv = 1; /* secure_connections with an EDIV */
  assert_int_equal(bk_bond_store(dir, &b), BLEAK_ERR_INVALID_ARG);
  assert_non_null(strstr(bleak_error_detail(), "Secure Connections"));
  b.ediv = 0;
  b.has_db_hash = true;
  assert_int_equal(bk_bond_store(dir, &b), BLEAK_ERR_INVALID_ARG);
  assert_non_null(strstr(bleak_error_detail(), "without a database"));
  b.has_db_hash = false;
  b.created = -1;
  assert_int_equal(bk_bond_store(dir, &b), BLEAK_ERR_INVALID_ARG);
  b.created = 0;
  /* An unfinished collection. */
  b.gatt = bk_gatt_services_new();
  bleak_uuid u = bleak_uuid_from_u16(0x1800);
  assert_int_equal(bk_gatt_services_add_service(b.gatt, &u, 1, 2, true), 0);
  assert_int_equal(bk_bond_store(dir, &b), BLEAK_ERR_INVALID_ARG);
  assert_non_null(strstr(bleak_error_detail(), "not finished"));
  bleak_gatt_services_unref(b.gatt);
  /* A database too large for a file: TOO_LONG, nothing written. */
  b.gatt = bk_gatt_services_new();
  assert_int_equal(bk_gatt_services_add_service(b.gatt, &u, 1, 0xffff, true), 0);
  bleak_uuid c = U(CUSTOM_CHR);
  for (unsigned h = 2; h + 1 <= 0xffff; h += 2)
    assert_int_equal(bk_gatt_services_add_characteristic(b.gatt, 1, &c, (uint16_t)h,
                                                         (uint16_t)(h + 1),
                                                         BLEAK_GATT_PROP_READ), 0);
  assert_int_equal(bk_gatt_services_finish(b.gatt), 0);
  assert_int_equal(bk_bond_store(dir, &b), BLEAK_ERR_TOO_LONG);
  assert_string_equal(dir_names(dir), "");
  bk_bond_clear(&b);
}

/* ---- bad files ----------------------------------------------------------- */

/* The full bond's text with the first @p from replaced by @p to. */
static char *edited(const char *from, const char *to, size_t *len) {
  bk_bond b = full_bond();
  char *text;
  size_t n;
  assert_int_equal(bk_bond_format(&b, &text, &n), 0);
  bk_bond_clear(&b);
  char *at = strstr(text, from);
  if (!at)
    fail_msg("no \"%s\" in the text", from);
  char *out = malloc(n + strlen(to) + 1);
  assert_non_null(out);
  size_t head = (size_t)(at - text);
  memcpy(out, text, head);
  strcpy(out + head, to);
  strcat(out, at + strlen(from));
  free(text);
  *len = strlen(out);
  return out;
}

/* The line number of the first line of @p text containing @p needle. */
static unsigned line_of(const char *text, const char *needle) {
  const char *at = strstr(text, needle);
  assert_non_null(at);
  unsigned line = 1;
  for (const char *p = text; p < at; p++)
    line += *p == '\n';
  return line;
}

static void expect_refused(const char *text, size_t len, const char *detail) {
  bk_bond got;
  int r = bk_bond_parse(text, len, NULL, &got);
  if (r != BLEAK_ERR_PROTOCOL || !strstr(bleak_error_detail(), detail))
    fail_msg("got %d \"%s\", wanted PROTOCOL \"%s\"", r, bleak_error_detail(), detail);
  /* No key's value in any detail. */
  assert_null(strstr(bleak_error_detail(), LTK_HEX));
  assert_null(got.gatt);
  static const uint8_t zero[16];
  assert_memory_equal(got.ltk, zero, 16);
}

/* Refused on the line where @p to begins, @p plus lines on. */
static void expect_edit_refused_at(const char *from, const char *to, unsigned plus,
                                   const char *detail) {
  size_t len;
  char *text = edited(from, to, &len);
  char want[200];
  snprintf(want, sizeof want, "line %u: %s", line_of(text, to) + plus, detail);
  expect_refused(text, len, want);
  free(text);
}

static void expect_edit_refused(const char *from, const char *to, const char *detail) {
  expect_edit_refused_at(from, to, 0, detail);
}

/* Refused by the builder's finish: the detail names the [gatt] line and
 * the builder's reason. */
static void expect_gatt_refused(const char *from, const char *to, const char *why) {
  size_t len;
  char *text = edited(from, to, &len);
  char want[200];
  snprintf(want, sizeof want, "bond file line %u: [gatt]: %s", line_of(text, "[gatt]"), why);
  bk_bond got;
  assert_int_equal(bk_bond_parse(text, len, NULL, &got), BLEAK_ERR_PROTOCOL);
  assert_string_equal(bleak_error_detail(), want);
  assert_null(got.gatt);
  free(text);
}

static void test_corrupt_files(void **state) {
  (void)state;
  /* Each its own detail, naming the line. */
  expect_edit_refused("version = 1", "version = 2", "version 2 is not one this reads (1)");
  expect_edit_refused("version = 1", "version = x", "'version' is not a number");
  expect_edit_refused("ltk = " LTK_HEX, "ltk = 0011223344556677889xaabbccddeeff",
                      "'ltk' is not hex");
  expect_edit_refused("ltk = " LTK_HEX, "ltk = 00112233445566778899aabbccddee",
                      "'ltk' is 15 bytes long, not 16");
  expect_edit_refused("ltk = " LTK_HEX, "ltk = 00112233445566778899aabbccddeef",
                      "'ltk' has an odd number of hex digits");
  expect_edit_refused("irk = 0112233445566778899aabbccddeef00", "irk = ff",
                      "'irk' is 1 byte long, not 16");
  expect_edit_refused("key_size = 16", "key_size = 6", "'key_size' is not 7..16");
  expect_edit_refused("key_size = 16", "key_size = 99999999999999999999999",
                      "'key_size' is not 7..16");
  expect_edit_refused("authenticated = true", "authenticated = yes",
                      "'authenticated' is neither true nor false");
  expect_edit_refused("local_type = random", "local_type = static",
                      "'local_type' is neither public nor random");
  expect_edit_refused("peer = 11:22:33:44:55:66", "peer = 11:22:33:44:55",
                      "'peer' is not an address");
  expect_edit_refused("ediv = beef", "ediv = beefy", "'ediv' is not 4 hex digits");
  expect_edit_refused("rand = 0123456789abcdef", "rand = -123456789abcdef",
                      "'rand' is not 16 hex digits");
  expect_edit_refused("created = 1733140800", "created = 1733140800 UTC",
                      "'created' is not a time");
  expect_edit_refused("local_sign_counter = 7", "local_sign_counter = 4294967296",
                      "'local_sign_counter' is not a 32-bit number");
  expect_edit_refused_at("key_size = 16", "key_size = 16\nltk = " LTK_HEX, 1,
                         "'ltk' again (first on line 8)");
  expect_edit_refused("key_size = 16", "colour = blue", "unknown key 'colour' before [gatt]");
  /* A damaged line that is a key's text is not quoted. */
  expect_edit_refused("ltk = " LTK_HEX, LTK_HEX "= 1", "unknown key before [gatt]");
  expect_edit_refused("ltk = " LTK_HEX, LTK_HEX, "not 'key = value'");
  expect_edit_refused("[gatt]", "[gatt", "a section header is '[name]'");
  expect_edit_refused("[gatt]", "[extra]", "unknown section [extra]");
  expect_edit_refused_at("[end]\n", "[end]\nversion = 1\n", 1, "text after [end]");
  expect_edit_refused("key_size = 16\n", "key_size = 16\r\n", "a control character (0x0d)");
  /* A second [gatt] (where [end] was): named on its own line. */
  size_t len;
  char *text = edited("[end]", "[gatt]", &len);
  char want[200];
  unsigned last = 0;
  for (size_t i = 0; i < len; i++)
    last += text[i] == '\n';
  snprintf(want, sizeof want, "line %u: [gatt] again (first on line %u)", last,
           line_of(text, "[gatt]"));
  expect_refused(text, len, want);
  free(text);
  /* Cut short: in a line, at a line's end, before anything. */
  text = edited("", "", &len);
  expect_refused(text, len - 3, "no newline at its end: the file is cut short");
  expect_refused(text, (size_t)(strstr(text, "[end]") - text),
                 "without [end]: cut short");
  expect_refused(text, 0, "empty");
  text[10] = '\0';
  expect_refused(text, len, "a NUL byte");
  free(text);
  expect_refused("ltk = " LTK_HEX "\n", strlen("ltk = " LTK_HEX "\n"),
                 "line 1: a bond file begins with 'version = 1'");
  expect_refused("# c\n\n[gatt]\n", 12, "line 3: a bond file begins with 'version = 1'");
  /* What is missing or goes together. */
  text = edited("ltk = " LTK_HEX "\n", "", &len);
  snprintf(want, sizeof want, "line %u: no 'ltk' before [end]", line_of(text, "[end]"));
  expect_refused(text, len, want);
  free(text);
  text = edited("local_sign_counter = 7\n", "", &len);
  snprintf(want, sizeof want, "line %u: 'local_csrk' goes with 'local_sign_counter'",
           line_of(text, "local_csrk"));
  expect_refused(text, len, want);
  free(text);
  text = edited("secure_connections = false", "secure_connections = true", &len);
  snprintf(want, sizeof want, "line %u: a Secure Connections LTK has EDIV 0 and Rand 0",
           line_of(text, "ediv"));
  expect_refused(text, len, want);
  free(text);
  /* The [gatt] section: lines, and shapes the builder refuses. */
  expect_edit_refused("service = 0x0008 0x0009 secondary", "service = 0x0008 0x09 secondary",
                      "not 'service = 0xSTART 0xEND primary|secondary UUID'");
  expect_edit_refused("service = 0x0008 0x0009 secondary", "service = 0x0008 0x0009 tertiary",
                      "a service is primary or secondary");
  expect_edit_refused("0x0008 0x0009 secondary 0000180f", "0x0008 0x0009 secondary 0000180g",
                      "not a UUID");
  expect_edit_refused("0x0002 0x0003 read,notify", "0x0002 0x0003 read,shout",
                      "not a list of properties");
  expect_edit_refused("0x0002 0x0003 read,notify", "0x0002 0x0003 read,,notify",
                      "not a list of properties");
  expect_edit_refused("descriptor = 0x0004 ", "descriptor = 0x0004 0x0005 ",
                      "not 'descriptor = 0xHANDLE UUID'");
  expect_edit_refused("database_hash = ", "database_hash = 00\ndatabase_hash = ",
                      "'database_hash' is 1 byte long, not 16");
  expect_edit_refused("service = 0x0001", "characteristic = 0x0009 0x000a - 2a00\nservice = 0x0001",
                      "a characteristic before any service");
  expect_edit_refused_at(
      "service = 0x0008 0x0009 secondary 0000180f-0000-1000-8000-00805f9b34fb\n",
      "service = 0x0008 0x0009 secondary 0000180f-0000-1000-8000-00805f9b34fb\n"
      "descriptor = 0x0009 2902\n",
      1, "a descriptor before any characteristic of its service");
  expect_edit_refused("database_hash = ", "ltk = 00\ndatabase_hash = ",
                      "unknown key 'ltk' in [gatt]");
  /* Hostile shapes: the builder's finish names the handle, the detail
   * the section. */
  expect_gatt_refused("service = 0x0008 0x0009", "service = 0x0007 0x0009",
                      "service at 0x0007 overlaps the one at 0x0001-0x0007");
  expect_gatt_refused("descriptor = 0x0004", "descriptor = 0x0003",
                      "descriptor 0x0003 outside characteristic 0x0002");
  expect_gatt_refused("descriptor = 0x0005", "descriptor = 0x0004",
                      "duplicate descriptor handle 0x0004");
  expect_gatt_refused("service = 0x0001 0x0007", "service = 0x0000 0x0007",
                      "service 0x0000-0x0007: bad range");
  expect_gatt_refused("characteristic = 0x0006 0x0007", "characteristic = 0x0006 0x0008",
                      "characteristic 0x0006 (value 0x0008) outside service 0x0001-0x0007");
  expect_gatt_refused("characteristic = 0x0011 0x0012", "characteristic = 0x0011 0x0011",
                      "characteristic 0x0011 (value 0x0011) outside service 0x0010-0x0018");
  /* Too large, given as a buffer. */
  expect_refused("", BK_BOND_MAX_FILE + 1, "more than 1048576");
  /* NULLs. */
  bk_bond got;
  assert_int_equal(bk_bond_parse(NULL, 1, NULL, &got), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_bond_parse("", 0, NULL, NULL), BLEAK_ERR_INVALID_ARG);
}

/* Through the files: missing, foreign, oversized, not a file. */
static void test_bad_files_on_disk(void **state) {
  const char *dir = *state;
  bk_bond got;
  assert_int_equal(bk_bond_load(dir, local_a(), peer_a(), &got), BLEAK_ERR_NOT_FOUND);
  assert_int_equal(bk_bond_load(path_in(dir, "none"), local_a(), peer_a(), &got),
                   BLEAK_ERR_NOT_FOUND);
  assert_null(got.gatt);
  /* A good file under another bond's name. */
  bk_bond b = full_bond();
  char *text;
  size_t len;
  assert_int_equal(bk_bond_format(&b, &text, &len), 0);
  bk_bond_addr other = ADDR("11:22:33:44:55:67", BK_BOND_ADDR_PUBLIC);
  bk_bond_id id = {*local_a(), other};
  char name[BK_BOND_NAME_LEN];
  assert_int_equal(bk_bond_file_name(&id, name), 0);
  write_text(path_in(dir, name), text, len);
  assert_int_equal(bk_bond_load(dir, local_a(), &other, &got), BLEAK_ERR_PROTOCOL);
  char want[200];
  snprintf(want, sizeof want,
           "bond file line %u: 'peer' is not the file name's (11:22:33:44:55:67, public) (%s)",
           line_of(text, "peer ="), name);
  assert_string_equal(bleak_error_detail(), want);
  /* The address type is part of whose it is. */
  other = *peer_a();
  other.type = BK_BOND_ADDR_RANDOM;
  id.peer = other;
  assert_int_equal(bk_bond_file_name(&id, name), 0);
  write_text(path_in(dir, name), text, len);
  assert_int_equal(bk_bond_load(dir, local_a(), &other, &got), BLEAK_ERR_PROTOCOL);
  assert_non_null(strstr(bleak_error_detail(), "'peer' is not the file name's"));
  bk_bond_addr local2 = ADDR("C0:FF:EE:00:00:02", BK_BOND_ADDR_RANDOM);
  id = (bk_bond_id){local2, *peer_a()};
  assert_int_equal(bk_bond_file_name(&id, name), 0);
  write_text(path_in(dir, name), text, len);
  assert_int_equal(bk_bond_load(dir, &local2, peer_a(), &got), BLEAK_ERR_PROTOCOL);
  assert_non_null(strstr(bleak_error_detail(), "'local' is not the file name's"));
  free(text);
  /* Oversized: refused before it is read. */
  const char *path = bond_file(dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, BK_BOND_MAX_FILE + 1), 0);
  close(fd);
  assert_int_equal(bk_bond_load(dir, local_a(), peer_a(), &got), BLEAK_ERR_PROTOCOL);
  assert_non_null(strstr(bleak_error_detail(), "1048577 bytes, more than the 1048576 allowed"));
  /* Not a regular file (a FIFO would block a plain open). */
  assert_int_equal(unlink(path), 0);
  assert_int_equal(mkfifo(path, 0600), 0);
  assert_int_equal(bk_bond_load(dir, local_a(), peer_a(), &got), BLEAK_ERR_PROTOCOL);
  assert_non_null(strstr(bleak_error_detail(), "not a regular file"));
  assert_int_equal(unlink(path), 0);
  /* A bad file's detail names the line and the file. */
  write_text(path, "version = 1\nltk = zz\n", 21);
  assert_int_equal(bk_bond_load(dir, local_a(), peer_a(), &got), BLEAK_ERR_PROTOCOL);
  char fname[BK_BOND_NAME_LEN];
  id = (bk_bond_id){*local_a(), *peer_a()};
  assert_int_equal(bk_bond_file_name(&id, fname), 0);
  snprintf(want, sizeof want, "bond file line 2: 'ltk' is not hex (%s)", fname);
  assert_string_equal(bleak_error_detail(), want);
  bk_bond_clear(&b);
}

/* ---- names, listing, removal --------------------------------------------- */

static void test_file_names(void **state) {
  (void)state;
  bk_bond_id id = {*local_a(), *peer_a()}, back;
  char name[BK_BOND_NAME_LEN];
  assert_int_equal(bk_bond_file_name(&id, name), 0);
  assert_string_equal(name, "C0FFEE000001-random_112233445566-public.bond");
  assert_int_equal(bk_bond_parse_file_name(name, &back), 0);
  assert_memory_equal(&back, &id, sizeof id);
  static const char *const bad[] = {
      "c0ffee000001-random_112233445566-public.bond", /* another spelling */
      "C0FFEE000001-static_112233445566-public.bond",
      "C0FFEE000001-random_112233445566-public.bond~",
      ".C0FFEE000001-random_112233445566-public.bond.Ab12Cd",
      "C0FFEE00000G-random_112233445566-public.bond",
      "C0FFEE000001-random-112233445566-public.bond",
      "README",
      "",
  };
  for (size_t i = 0; i < BK_ARRAY_SIZE(bad); i++)
    assert_int_equal(bk_bond_parse_file_name(bad[i], &back), BLEAK_ERR_INVALID_ARG);
  id.local.type = 2;
  assert_int_equal(bk_bond_file_name(&id, name), BLEAK_ERR_INVALID_ARG);
}

static void test_list_and_remove(void **state) {
  const char *dir = *state;
  bk_bond_id *ids;
  size_t n;
  /* No directory yet: no bonds. */
  assert_int_equal(bk_bond_list(path_in(dir, "none"), &ids, &n), 0);
  assert_int_equal(n, 0);
  assert_null(ids);
  bk_bond_addr peers[3] = {ADDR("AA:00:00:00:00:03", BK_BOND_ADDR_RANDOM),
                           ADDR("11:22:33:44:55:66", BK_BOND_ADDR_PUBLIC),
                           ADDR("11:22:33:44:55:66", BK_BOND_ADDR_RANDOM)};
  for (int i = 0; i < 3; i++) {
    bk_bond b = minimal_bond();
    b.id.peer = peers[i];
    assert_int_equal(bk_bond_store(dir, &b), 0);
  }
  /* Things that are not bonds are not listed (nor touched). */
  write_text(path_in(dir, "README"), "hi\n", 3);
  write_text(path_in(dir, ".C0FFEE000001-random_112233445566-public.bond.Xy12Zw"), "", 0);
  assert_int_equal(mkdir(path_in(dir, "sub"), 0700), 0);
  assert_int_equal(bk_bond_list(dir, &ids, &n), 0);
  assert_int_equal(n, 3);
  /* In file name order: the peers sorted as written. */
  assert_memory_equal(&ids[0].peer, &peers[1], sizeof peers[1]);
  assert_memory_equal(&ids[1].peer, &peers[2], sizeof peers[2]);
  assert_memory_equal(&ids[2].peer, &peers[0], sizeof peers[0]);
  for (size_t i = 0; i < n; i++)
    assert_memory_equal(&ids[i].local, local_a(), sizeof *local_a());
  free(ids);
  assert_int_equal(bk_bond_remove(dir, local_a(), &peers[1]), 0);
  assert_int_equal(bk_bond_remove(dir, local_a(), &peers[1]), BLEAK_ERR_NOT_FOUND);
  bk_bond got;
  assert_int_equal(bk_bond_load(dir, local_a(), &peers[1], &got), BLEAK_ERR_NOT_FOUND);
  assert_int_equal(bk_bond_list(dir, &ids, &n), 0);
  assert_int_equal(n, 2);
  assert_memory_equal(&ids[0].peer, &peers[2], sizeof peers[2]);
  free(ids);
  assert_int_equal(access(path_in(dir, "README"), F_OK), 0);
  assert_int_equal(bk_bond_remove(NULL, local_a(), &peers[1]), BLEAK_ERR_INVALID_ARG);
  /* An empty directory name is none (not the root). */
  assert_int_equal(bk_bond_remove("", local_a(), &peers[2]), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_bond_list("", &ids, &n), BLEAK_ERR_INVALID_ARG);
  bk_bond b = minimal_bond();
  assert_int_equal(bk_bond_store("", &b), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_bond_load("", local_a(), &peers[2], &got), BLEAK_ERR_INVALID_ARG);
}

typedef struct seen {
  int calls, stop_at;
  bk_bond_addr peers[4];
} seen;

static int on_bond(const bk_bond *b, void *user) {
  seen *s = user;
  assert_true(b->has_irk);
  s->peers[s->calls++] = b->id.peer;
  return s->calls == s->stop_at ? 42 : 0;
}

typedef struct logged {
  char all[4096];
  int n;
} logged;

static void capture(bleak_log_level level, const char *module, const char *msg, void *user) {
  (void)level;
  logged *l = user;
  l->n++;
  size_t used = strlen(l->all);
  snprintf(l->all + used, sizeof l->all - used, "%s: %s\n", module, msg);
}

static void test_foreach(void **state) {
  const char *dir = *state;
  bk_bond_addr peers[2] = {ADDR("11:22:33:44:55:66", BK_BOND_ADDR_PUBLIC),
                           ADDR("22:22:33:44:55:66", BK_BOND_ADDR_PUBLIC)};
  for (int i = 0; i < 2; i++) {
    bk_bond b = full_bond();
    b.id.peer = peers[i];
    assert_int_equal(bk_bond_store(dir, &b), 0);
    bk_bond_clear(&b);
  }
  /* A broken one between them: skipped, counted, logged without keys. */
  bk_bond_id id = {*local_a(), ADDR("1F:00:00:00:00:00", BK_BOND_ADDR_PUBLIC)};
  char name[BK_BOND_NAME_LEN];
  assert_int_equal(bk_bond_file_name(&id, name), 0);
  const char *bad = "version = 1\nltk = " LTK_HEX "\nirk = " LTK_HEX "0\n";
  write_text(path_in(dir, name), bad, strlen(bad));
  logged l = {0};
  bleak_log_set_handler(capture, &l);
  bleak_log_set_level(BLEAK_LOG_DEBUG);
  seen s = {0};
  size_t nbad = 9;
  assert_int_equal(bk_bond_foreach(dir, on_bond, &s, &nbad), 0);
  bleak_log_set_handler(NULL, NULL);
  bleak_log_set_level(BLEAK_LOG_WARNING);
  assert_int_equal(s.calls, 2);
  assert_memory_equal(&s.peers[0], &peers[0], sizeof peers[0]);
  assert_memory_equal(&s.peers[1], &peers[1], sizeof peers[1]);
  assert_int_equal(nbad, 1);
  assert_int_equal(l.n, 1);
  assert_non_null(strstr(l.all, "'irk' has an odd number of hex digits"));
  assert_non_null(strstr(l.all, name));
  assert_null(strstr(l.all, LTK_HEX));
  /* The callback stops the walk with its own value. */
  s = (seen){.stop_at = 1};
  assert_int_equal(bk_bond_foreach(dir, on_bond, &s, NULL), 42);
  assert_int_equal(s.calls, 1);
  /* No directory: nothing. */
  s = (seen){0};
  assert_int_equal(bk_bond_foreach(path_in(dir, "none"), on_bond, &s, &nbad), 0);
  assert_int_equal(s.calls, 0);
  assert_int_equal(nbad, 0);
  assert_int_equal(bk_bond_foreach(dir, NULL, NULL, NULL), BLEAK_ERR_INVALID_ARG);
}

/* Keys never reach the log, whatever is logged at DEBUG meanwhile. */
static void test_no_keys_in_log(void **state) {
  const char *dir = *state;
  logged l = {0};
  bleak_log_set_handler(capture, &l);
  bleak_log_set_level(BLEAK_LOG_DEBUG);
  bk_bond b = full_bond(), got;
  assert_int_equal(bk_bond_store(dir, &b), 0);
  assert_int_equal(bk_bond_load(dir, local_a(), peer_a(), &got), 0);
  size_t bad;
  seen s = {0};
  assert_int_equal(bk_bond_foreach(dir, on_bond, &s, &bad), 0);
  bleak_log_set_handler(NULL, NULL);
  bleak_log_set_level(BLEAK_LOG_WARNING);
  assert_null(strstr(l.all, LTK_HEX));
  assert_null(strstr(l.all, "0112233445566778899aabbccddeef00"));
  bk_bond_clear(&got);
  bk_bond_clear(&b);
}

/* ---- the directory ------------------------------------------------------- */

typedef struct env_case {
  const char *option, *bond_dir, *xdg, *home; /* NULL: unset */
  const char *want;                           /* NULL: by the euid (no HOME) */
} env_case;

static void set_or_unset(const char *name, const char *v) {
  if (v)
    assert_int_equal(setenv(name, v, 1), 0);
  else
    assert_int_equal(unsetenv(name), 0);
}

static char *saved_env(const char *name) {
  const char *v = getenv(name);
  return v ? strdup(v) : NULL;
}

static void test_dir_resolution(void **state) {
  (void)state;
  static const char *const names[] = {"BLEAK_BOND_DIR", "XDG_STATE_HOME", "HOME"};
  char *saved[3];
  for (int i = 0; i < 3; i++)
    saved[i] = saved_env(names[i]);
  static const env_case cases[] = {
      {"/opt/bonds", "/b", "/x", "/h", "/opt/bonds"},
      {"/opt/bonds/", NULL, NULL, NULL, "/opt/bonds"},
      {"", "/b", "/x", "/h", "/b"},
      {NULL, "/b", "/x", "/h", "/b"},
      {NULL, "rel/b", NULL, NULL, "rel/b"},
      {NULL, "", "/x", "/h", "/x/bleak/bonds"},
      {NULL, NULL, "/x", "/h", "/x/bleak/bonds"},
      {NULL, NULL, "/x/", NULL, "/x/bleak/bonds"},
      {NULL, NULL, "relative", "/h", "/h/.local/state/bleak/bonds"},
      {NULL, NULL, "", "/h", "/h/.local/state/bleak/bonds"},
      {NULL, NULL, NULL, "/h", "/h/.local/state/bleak/bonds"},
      {NULL, NULL, NULL, "/", "/.local/state/bleak/bonds"},
      {NULL, NULL, "relative", NULL, NULL},
      {NULL, NULL, NULL, "", NULL},
      {NULL, NULL, NULL, NULL, NULL},
  };
  bool root = geteuid() == 0;
  for (size_t i = 0; i < BK_ARRAY_SIZE(cases); i++) {
    const env_case *c = &cases[i];
    set_or_unset("BLEAK_BOND_DIR", c->bond_dir);
    set_or_unset("XDG_STATE_HOME", c->xdg);
    set_or_unset("HOME", c->home);
    char *dir = (char *)"untouched";
    int r = bk_bond_dir_resolve(c->option, &dir);
    const char *want = c->want ? c->want : root ? BK_BOND_SYSTEM_DIR : NULL;
    if (want) {
      assert_int_equal(r, 0);
      assert_string_equal(dir, want);
      free(dir);
    } else {
      assert_int_equal(r, BLEAK_ERR_INVALID_ARG);
      assert_null(dir);
      assert_non_null(strstr(bleak_error_detail(), "set BLEAK_BOND_DIR"));
    }
    /* Without HOME: root and not root, whoever runs the test. */
    if (!c->want) {
      bk_bond_env env = {c->bond_dir, c->xdg, c->home, true};
      assert_int_equal(bk_bond_dir_resolve_env(c->option, &env, &dir), 0);
      assert_string_equal(dir, "/var/lib/bleak/bonds");
      free(dir);
      env.root = false;
      assert_int_equal(bk_bond_dir_resolve_env(c->option, &env, &dir), BLEAK_ERR_INVALID_ARG);
      assert_null(dir);
      assert_non_null(strstr(bleak_error_detail(), "HOME is not set; set BLEAK_BOND_DIR"));
    }
  }
  /* Root with a HOME (sudo) uses the HOME. */
  bk_bond_env env = {NULL, NULL, "/root", true};
  char *dir;
  assert_int_equal(bk_bond_dir_resolve_env(NULL, &env, &dir), 0);
  assert_string_equal(dir, "/root/.local/state/bleak/bonds");
  free(dir);
  /* Too long for a path. */
  char *huge = malloc(PATH_MAX + 10);
  assert_non_null(huge);
  memset(huge, 'a', PATH_MAX + 9);
  huge[0] = '/';
  huge[PATH_MAX + 9] = '\0';
  assert_int_equal(bk_bond_dir_resolve(huge, &dir), BLEAK_ERR_TOO_LONG);
  free(huge);
  assert_int_equal(bk_bond_dir_resolve(NULL, NULL), BLEAK_ERR_INVALID_ARG);
  for (int i = 0; i < 3; i++) {
    set_or_unset(names[i], saved[i]);
    free(saved[i]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_round_trip_full, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_round_trip_minimal, setup_dir, teardown_dir),
      cmocka_unit_test(test_format_text),
      cmocka_unit_test(test_gatt_round_trip),
      cmocka_unit_test_setup_teardown(test_modes, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_store_replaces_atomically, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_failed_store_keeps_old, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_store_refuses_bad_records, setup_dir, teardown_dir),
      cmocka_unit_test(test_corrupt_files),
      cmocka_unit_test_setup_teardown(test_bad_files_on_disk, setup_dir, teardown_dir),
      cmocka_unit_test(test_file_names),
      cmocka_unit_test_setup_teardown(test_list_and_remove, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_foreach, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_no_keys_in_log, setup_dir, teardown_dir),
      cmocka_unit_test(test_dir_resolution),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
