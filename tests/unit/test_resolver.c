/* SPDX-License-Identifier: MIT */
/*
 * Peer privacy, host-side (src/backend/hci/resolver.c): identities known
 * by their IRK resolve the private addresses made with it (the Core
 * specification's ah sample, Vol 3, Part H, D.8), and nothing else does:
 * identity addresses, static and non-resolvable random addresses, RPAs of
 * unknown IRKs, a forgotten identity, and the cached answers after each
 * change.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "backend/hci/resolver.h"
#include "bleak/error.h"

/* The sample's IRK and the RPA it makes (prand 708194, hash 0dfbaa),
 * least significant byte first as HCI carries them. */
static const uint8_t IRK[16] = {0x9b, 0x7d, 0x39, 0x0a, 0xa6, 0x10, 0x10, 0x34,
                                0x05, 0xad, 0xc8, 0x57, 0xa3, 0x34, 0x02, 0xec};
static const uint8_t RPA[6] = {0xaa, 0xfb, 0x0d, 0x94, 0x81, 0x70};
static const bk_bond_addr ID = {{0x66, 0x55, 0x44, 0x33, 0x22, 0x11}, BK_BOND_ADDR_PUBLIC};

static void test_rpa_shape(void **state) {
  (void)state;
  assert_true(bk_resolver_is_rpa(RPA, BK_BOND_ADDR_RANDOM));
  assert_false(bk_resolver_is_rpa(RPA, BK_BOND_ADDR_PUBLIC)); /* a public address */
  uint8_t a[6];
  memcpy(a, RPA, 6);
  a[5] |= 0xc0; /* static random */
  assert_false(bk_resolver_is_rpa(a, BK_BOND_ADDR_RANDOM));
  a[5] &= 0x3f; /* non-resolvable private */
  assert_false(bk_resolver_is_rpa(a, BK_BOND_ADDR_RANDOM));
}

static void test_resolves_sample(void **state) {
  (void)state;
  bk_resolver r;
  bk_resolver_init(&r);
  bk_bond_addr got = {{0}, 9};
  assert_false(bk_resolver_resolve(&r, RPA, BK_BOND_ADDR_RANDOM, &got)); /* none known */
  /* Another identity first: the right one is found among several. */
  uint8_t other[16];
  memset(other, 0x42, sizeof other);
  bk_bond_addr other_id = {{1, 2, 3, 4, 5, 0xc6}, BK_BOND_ADDR_RANDOM};
  assert_int_equal(bk_resolver_add(&r, other, &other_id), 0);
  assert_false(bk_resolver_resolve(&r, RPA, BK_BOND_ADDR_RANDOM, &got));
  /* Known now: the cached "no" is gone with the add. */
  assert_int_equal(bk_resolver_add(&r, IRK, &ID), 0);
  assert_int_equal(bk_resolver_count(&r), 2);
  assert_true(bk_resolver_resolve(&r, RPA, BK_BOND_ADDR_RANDOM, &got));
  assert_memory_equal(&got, &ID, sizeof got);
  /* Twice: the cached answer is the same. */
  memset(&got, 0, sizeof got);
  assert_true(bk_resolver_resolve(&r, RPA, BK_BOND_ADDR_RANDOM, &got));
  assert_memory_equal(&got, &ID, sizeof got);
  /* The same bytes as a public address, or one bit off: not it. */
  assert_false(bk_resolver_resolve(&r, RPA, BK_BOND_ADDR_PUBLIC, &got));
  uint8_t off[6];
  memcpy(off, RPA, 6);
  off[0] ^= 1;
  assert_false(bk_resolver_resolve(&r, off, BK_BOND_ADDR_RANDOM, &got));
  bk_resolver_clear(&r);
  assert_int_equal(bk_resolver_count(&r), 0);
  assert_false(bk_resolver_resolve(&r, RPA, BK_BOND_ADDR_RANDOM, &got));
}

static void test_update_and_remove(void **state) {
  (void)state;
  bk_resolver r;
  bk_resolver_init(&r);
  uint8_t wrong[16];
  memset(wrong, 0x11, sizeof wrong);
  bk_bond_addr got;
  assert_int_equal(bk_resolver_add(&r, wrong, &ID), 0);
  assert_false(bk_resolver_resolve(&r, RPA, BK_BOND_ADDR_RANDOM, &got));
  /* The identity paired again: its new IRK replaces the old one. */
  assert_int_equal(bk_resolver_add(&r, IRK, &ID), 0);
  assert_int_equal(bk_resolver_count(&r), 1);
  assert_true(bk_resolver_resolve(&r, RPA, BK_BOND_ADDR_RANDOM, &got));
  /* Forgotten (the bond removed): the cached "yes" goes with it. */
  bk_resolver_remove(&r, &ID);
  assert_int_equal(bk_resolver_count(&r), 0);
  assert_false(bk_resolver_resolve(&r, RPA, BK_BOND_ADDR_RANDOM, &got));
  bk_resolver_remove(&r, &ID); /* unknown: nothing happens */
  bk_resolver_clear(&r);
}

static void test_many_identities(void **state) {
  (void)state;
  bk_resolver r;
  bk_resolver_init(&r);
  uint8_t irk[16];
  for (int i = 0; i < 40; i++) { /* past the first allocations */
    memset(irk, i + 1, sizeof irk);
    bk_bond_addr id = {{(uint8_t)i, 0, 0, 0, 0, 0xc0}, BK_BOND_ADDR_RANDOM};
    assert_int_equal(bk_resolver_add(&r, irk, &id), 0);
  }
  assert_int_equal(bk_resolver_add(&r, IRK, &ID), 0);
  bk_bond_addr got;
  assert_true(bk_resolver_resolve(&r, RPA, BK_BOND_ADDR_RANDOM, &got));
  assert_memory_equal(&got, &ID, sizeof got);
  /* Removing one in the middle keeps the others' answers right. */
  bk_bond_addr mid = {{7, 0, 0, 0, 0, 0xc0}, BK_BOND_ADDR_RANDOM};
  bk_resolver_remove(&r, &mid);
  assert_int_equal(bk_resolver_count(&r), 40);
  assert_true(bk_resolver_resolve(&r, RPA, BK_BOND_ADDR_RANDOM, &got));
  assert_memory_equal(&got, &ID, sizeof got);
  bk_resolver_clear(&r);
}

static void test_refuses_bad_input(void **state) {
  (void)state;
  bk_resolver r;
  bk_resolver_init(&r);
  static const uint8_t zero[16];
  assert_int_equal(bk_resolver_add(&r, zero, &ID), BLEAK_ERR_INVALID_ARG);
  bk_bond_addr bad = ID;
  bad.type = 2;
  assert_int_equal(bk_resolver_add(&r, IRK, &bad), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_resolver_add(&r, NULL, &ID), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_resolver_add(NULL, IRK, &ID), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_resolver_count(&r), 0);
  bk_bond_addr got;
  assert_false(bk_resolver_resolve(&r, NULL, BK_BOND_ADDR_RANDOM, &got));
  bk_resolver_clear(&r);
  bk_resolver_clear(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rpa_shape),       cmocka_unit_test(test_resolves_sample),
      cmocka_unit_test(test_update_and_remove), cmocka_unit_test(test_many_identities),
      cmocka_unit_test(test_refuses_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
