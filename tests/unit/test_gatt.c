/* SPDX-License-Identifier: MIT */
/* The GATT collection: building, validation, lookups, properties. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "bleak/error.h"
#include "bleak/gatt.h"
#include "core/gatt_build.h"
#include "core/internal.h"

#define CUSTOM_SVC "b1e5c000-0000-4000-8000-00000000c0de"
#define TWIN_CHAR "b1e5c001-0000-4000-8000-00000000c0de"

static bleak_uuid U16(uint16_t v) { return bleak_uuid_from_u16(v); }

static bleak_uuid U(const char *s) {
  bleak_uuid u;
  assert_int_equal(bleak_uuid_parse(s, &u), 0);
  return u;
}

/* Battery 1-4, Heart Rate 5-10, custom 16-24; added out of order on
 * purpose (D-Bus delivers objects unordered). */
static bleak_gatt_services *build_db(void) {
  bleak_gatt_services *s = bk_gatt_services_new();
  assert_non_null(s);
  bleak_uuid u;
  u = U(TWIN_CHAR);
  assert_int_equal(bk_gatt_services_add_characteristic(s, 16, &u, 20, 21, BLEAK_GATT_PROP_WRITE), 0);
  assert_int_equal(bk_gatt_services_add_characteristic(s, 16, &u, 17, 18, BLEAK_GATT_PROP_READ), 0);
  u = U(CUSTOM_SVC);
  assert_int_equal(bk_gatt_services_add_service(s, &u, 16, 24, true), 0);
  u = U16(0x2902);
  assert_int_equal(bk_gatt_services_add_descriptor(s, 7, &u, 9), 0);
  u = U16(0x180d);
  assert_int_equal(bk_gatt_services_add_service(s, &u, 5, 10, true), 0);
  u = U16(0x2a37);
  assert_int_equal(bk_gatt_services_add_characteristic(s, 5, &u, 7, 8, BLEAK_GATT_PROP_NOTIFY), 0);
  u = U16(0x2901);
  assert_int_equal(bk_gatt_services_add_descriptor(s, 7, &u, 10), 0);
  u = U16(0x180f);
  assert_int_equal(bk_gatt_services_add_service(s, &u, 1, 4, true), 0);
  u = U16(0x2a19);
  assert_int_equal(bk_gatt_services_add_characteristic(
                       s, 1, &u, 2, 3, BLEAK_GATT_PROP_READ | BLEAK_GATT_PROP_NOTIFY), 0);
  u = U16(0x2902);
  assert_int_equal(bk_gatt_services_add_descriptor(s, 2, &u, 4), 0);
  u = U(TWIN_CHAR);
  u.bytes[3] = 0x09; /* a third custom characteristic with its own UUID */
  assert_int_equal(bk_gatt_services_add_characteristic(
                       s, 16, &u, 23, 24, BLEAK_GATT_PROP_WRITE_WITHOUT_RESPONSE), 0);
  assert_int_equal(bk_gatt_services_finish(s), 0);
  return s;
}

static void test_iteration_in_handle_order(void **state) {
  (void)state;
  bleak_gatt_services *s = build_db();
  assert_int_equal(bleak_gatt_services_count(s), 3);
  assert_int_equal(bleak_gatt_services_characteristic_count(s), 5);
  assert_int_equal(bleak_gatt_services_descriptor_count(s), 3);
  const bleak_gatt_service *b = bleak_gatt_services_at(s, 0);
  const bleak_gatt_service *h = bleak_gatt_services_at(s, 1);
  const bleak_gatt_service *c = bleak_gatt_services_at(s, 2);
  assert_null(bleak_gatt_services_at(s, 3));
  assert_int_equal(bleak_gatt_service_handle(b), 1);
  assert_int_equal(bleak_gatt_service_end_handle(b), 4);
  assert_true(bleak_gatt_service_is_primary(b));
  assert_string_equal(bleak_gatt_service_description(b), "Battery Service");
  assert_string_equal(bleak_gatt_service_description(h), "Heart Rate");
  assert_string_equal(bleak_gatt_service_description(c), "Unknown");
  assert_int_equal(bleak_gatt_service_characteristic_count(c), 3);
  uint16_t prev = 0;
  for (size_t i = 0; i < 3; i++) {
    const bleak_gatt_characteristic *ch = bleak_gatt_service_characteristic_at(c, i);
    assert_true(bleak_gatt_characteristic_handle(ch) > prev);
    prev = bleak_gatt_characteristic_handle(ch);
    assert_ptr_equal(bleak_gatt_characteristic_service(ch), c);
  }
  assert_null(bleak_gatt_service_characteristic_at(c, 3));
  const bleak_gatt_characteristic *hr = bleak_gatt_service_characteristic_at(h, 0);
  assert_int_equal(bleak_gatt_characteristic_handle(hr), 7);
  assert_int_equal(bleak_gatt_characteristic_value_handle(hr), 8);
  assert_int_equal(bleak_gatt_characteristic_descriptor_count(hr), 2);
  const bleak_gatt_descriptor *cccd = bleak_gatt_characteristic_descriptor_at(hr, 0);
  const bleak_gatt_descriptor *cud = bleak_gatt_characteristic_descriptor_at(hr, 1);
  assert_int_equal(bleak_gatt_descriptor_handle(cccd), 9);
  assert_int_equal(bleak_gatt_descriptor_handle(cud), 10);
  assert_ptr_equal(bleak_gatt_descriptor_characteristic(cud), hr);
  assert_string_equal(bleak_gatt_descriptor_description(cccd),
                      "Client Characteristic Configuration");
  assert_string_equal(bleak_gatt_characteristic_description(hr), "Heart Rate Measurement");
  bleak_uuid u = U16(0x2901);
  assert_ptr_equal(bleak_gatt_characteristic_get_descriptor(hr, &u), cud);
  u = U16(0x2904);
  assert_null(bleak_gatt_characteristic_get_descriptor(hr, &u));
  bleak_gatt_services_unref(s);
}

static void test_lookups(void **state) {
  (void)state;
  bleak_gatt_services *s = build_db();
  bleak_uuid u = U16(0x180d);
  const bleak_gatt_service *h = bleak_gatt_services_get_service(s, &u);
  assert_non_null(h);
  assert_int_equal(bleak_gatt_service_handle(h), 5);
  assert_ptr_equal(bleak_gatt_services_get_service_by_handle(s, 5), h);
  assert_null(bleak_gatt_services_get_service_by_handle(s, 6));
  u = U16(0x1800);
  assert_null(bleak_gatt_services_get_service(s, &u));
  const bleak_gatt_characteristic *ch = NULL;
  assert_int_equal(bleak_gatt_services_find_characteristic_str(s, "2a19", &ch), 0);
  assert_int_equal(bleak_gatt_characteristic_handle(ch), 2);
  assert_ptr_equal(bleak_gatt_services_get_characteristic_by_handle(s, 2), ch);
  u = U16(0x2a19);
  assert_ptr_equal(bleak_gatt_service_get_characteristic(bleak_gatt_services_at(s, 0), &u), ch);
  assert_null(bleak_gatt_service_get_characteristic(h, &u));
  /* Handles that are not characteristic declarations. */
  static const uint16_t not_chars[] = {0, 1, 3, 4, 6, 8, 0xffff};
  for (size_t i = 0; i < BK_ARRAY_SIZE(not_chars); i++)
    assert_null(bleak_gatt_services_get_characteristic_by_handle(s, not_chars[i]));
  assert_non_null(bleak_gatt_services_get_descriptor_by_handle(s, 4));
  assert_null(bleak_gatt_services_get_descriptor_by_handle(s, 0));
  assert_null(bleak_gatt_services_get_descriptor_by_handle(s, 3));
  assert_null(bleak_gatt_services_get_descriptor_by_handle(s, 0xffff));
  bleak_gatt_services_unref(s);
}

/* By value handle (what notifications name): every characteristic, and
 * NULL for declarations, descriptors, services and gaps; a value handle
 * that is not its declaration's + 1 too; nothing before finish. */
static void test_characteristic_by_value_handle(void **state) {
  (void)state;
  bleak_gatt_services *s = build_db();
  for (size_t i = 0; i < bleak_gatt_services_count(s); i++) {
    const bleak_gatt_service *v = bleak_gatt_services_at(s, i);
    for (size_t j = 0; j < bleak_gatt_service_characteristic_count(v); j++) {
      const bleak_gatt_characteristic *ch = bleak_gatt_service_characteristic_at(v, j);
      assert_ptr_equal(bleak_gatt_services_get_characteristic_by_value_handle(
                           s, bleak_gatt_characteristic_value_handle(ch)),
                       ch);
    }
  }
  assert_int_equal(bleak_gatt_characteristic_handle(
                       bleak_gatt_services_get_characteristic_by_value_handle(s, 21)),
                   20);
  static const uint16_t not_values[] = {0, 1, 2, 4, 5, 7, 9, 10, 16, 17, 20, 22, 25, 0xffff};
  for (size_t i = 0; i < BK_ARRAY_SIZE(not_values); i++)
    assert_null(bleak_gatt_services_get_characteristic_by_value_handle(s, not_values[i]));
  assert_null(bleak_gatt_services_get_characteristic_by_value_handle(NULL, 3));
  bleak_gatt_services_unref(s);

  s = bk_gatt_services_new();
  assert_non_null(s);
  bleak_uuid u = U16(0x180f);
  assert_int_equal(bk_gatt_services_add_service(s, &u, 1, 9, true), 0);
  u = U16(0x2a19);
  assert_int_equal(bk_gatt_services_add_characteristic(s, 1, &u, 2, 5, BLEAK_GATT_PROP_READ), 0);
  assert_int_equal(bk_gatt_services_add_characteristic(s, 1, &u, 6, 9, BLEAK_GATT_PROP_READ), 0);
  assert_null(bleak_gatt_services_get_characteristic_by_value_handle(s, 5)); /* not finished */
  assert_int_equal(bk_gatt_services_finish(s), 0);
  assert_int_equal(bleak_gatt_characteristic_handle(
                       bleak_gatt_services_get_characteristic_by_value_handle(s, 5)),
                   2);
  assert_int_equal(bleak_gatt_characteristic_handle(
                       bleak_gatt_services_get_characteristic_by_value_handle(s, 9)),
                   6);
  assert_null(bleak_gatt_services_get_characteristic_by_value_handle(s, 3));
  assert_null(bleak_gatt_services_get_characteristic_by_value_handle(s, 6));
  bleak_gatt_services_unref(s);
}

static void test_ambiguous_and_not_found(void **state) {
  (void)state;
  bleak_gatt_services *s = build_db();
  const bleak_gatt_characteristic *ch = (const bleak_gatt_characteristic *)1;
  assert_int_equal(bleak_gatt_services_find_characteristic_str(s, TWIN_CHAR, &ch),
                   BLEAK_ERR_AMBIGUOUS);
  assert_null(ch);
  assert_non_null(strstr(bleak_error_detail(), "2 characteristics"));
  assert_non_null(strstr(bleak_error_detail(), "handle"));
  /* Both twins are reachable by handle. */
  assert_non_null(bleak_gatt_services_get_characteristic_by_handle(s, 17));
  assert_non_null(bleak_gatt_services_get_characteristic_by_handle(s, 20));
  assert_int_equal(bleak_gatt_services_find_characteristic_str(s, "2a38", &ch),
                   BLEAK_ERR_NOT_FOUND);
  assert_non_null(strstr(bleak_error_detail(), "00002a38"));
  assert_int_equal(bleak_gatt_services_find_characteristic_str(s, "nope", &ch),
                   BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_gatt_services_find_characteristic_str(s, NULL, &ch),
                   BLEAK_ERR_INVALID_ARG);
  bleak_gatt_services_unref(s);
}

static void test_null_arguments(void **state) {
  (void)state;
  const bleak_gatt_characteristic *ch;
  bleak_uuid u = U16(0x2a19);
  assert_int_equal(bleak_gatt_services_count(NULL), 0);
  assert_null(bleak_gatt_services_at(NULL, 0));
  assert_null(bleak_gatt_services_get_service(NULL, &u));
  assert_null(bleak_gatt_services_get_service_by_handle(NULL, 1));
  assert_int_equal(bleak_gatt_services_find_characteristic(NULL, &u, &ch),
                   BLEAK_ERR_INVALID_ARG);
  assert_null(bleak_gatt_services_get_characteristic_by_handle(NULL, 1));
  assert_null(bleak_gatt_services_get_descriptor_by_handle(NULL, 1));
  assert_null(bleak_gatt_service_uuid(NULL));
  assert_int_equal(bleak_gatt_service_handle(NULL), 0);
  assert_string_equal(bleak_gatt_service_description(NULL), "Unknown");
  assert_null(bleak_gatt_service_characteristic_at(NULL, 0));
  assert_null(bleak_gatt_characteristic_uuid(NULL));
  assert_int_equal(bleak_gatt_characteristic_properties(NULL), 0);
  assert_int_equal(bleak_gatt_characteristic_max_write_without_response_size(NULL), 0);
  assert_null(bleak_gatt_characteristic_descriptor_at(NULL, 0));
  assert_null(bleak_gatt_descriptor_uuid(NULL));
  assert_null(bleak_gatt_descriptor_characteristic(NULL));
  assert_null(bleak_gatt_services_ref(NULL));
  bleak_gatt_services_unref(NULL);
  bleak_gatt_services *s = build_db();
  assert_int_equal(bleak_gatt_services_find_characteristic(s, NULL, &ch),
                   BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_gatt_services_find_characteristic(s, &u, NULL),
                   BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_gatt_services_add_service(s, NULL, 30, 31, true),
                   BLEAK_ERR_INVALID_ARG);
  /* Finished: no more additions. */
  assert_int_equal(bk_gatt_services_add_service(s, &u, 30, 31, true), BLEAK_ERR_STATE);
  bleak_gatt_services_unref(s);
}

/* Each hostile shape makes finish() fail with a protocol error. */
typedef struct bad_shape {
  const char *what;
  uint16_t svc[2][2]; /* up to two services: start, end (0,0 = none) */
  uint16_t chr[2][3]; /* service start, decl handle, value handle */
  uint16_t desc[2][2]; /* char decl handle, handle */
} bad_shape;

static void test_validation(void **state) {
  (void)state;
  static const bad_shape shapes[] = {
      {"service handle 0", {{0, 5}}, {{0}}, {{0}}},
      {"end before start", {{5, 4}}, {{0}}, {{0}}},
      {"overlapping services", {{1, 5}, {5, 9}}, {{0}}, {{0}}},
      {"duplicate services", {{1, 5}, {1, 5}}, {{0}}, {{0}}},
      {"char without service", {{1, 5}}, {{6, 7, 8}}, {{0}}},
      {"char at service start", {{1, 5}}, {{1, 1, 2}}, {{0}}},
      {"value before decl", {{1, 5}}, {{1, 3, 3}}, {{0}}},
      {"value past service end", {{1, 5}}, {{1, 5, 6}}, {{0}}},
      {"duplicate char", {{1, 9}}, {{1, 2, 3}, {1, 2, 3}}, {{0}}},
      {"overlapping chars", {{1, 9}}, {{1, 2, 4}, {1, 4, 5}}, {{0}}},
      {"desc without char", {{1, 9}}, {{1, 2, 3}}, {{5, 6}}},
      {"desc on the value", {{1, 9}}, {{1, 2, 3}}, {{2, 3}}},
      {"desc past service", {{1, 5}}, {{1, 2, 3}}, {{2, 6}}},
      {"desc in next char", {{1, 9}}, {{1, 2, 3}, {1, 5, 6}}, {{2, 7}}},
      {"duplicate desc", {{1, 9}}, {{1, 2, 3}}, {{2, 4}, {2, 4}}},
  };
  for (size_t i = 0; i < BK_ARRAY_SIZE(shapes); i++) {
    const bad_shape *sh = &shapes[i];
    bleak_gatt_services *s = bk_gatt_services_new();
    bleak_uuid u = U16(0x1234);
    for (int k = 0; k < 2; k++)
      if (sh->svc[k][0] || sh->svc[k][1])
        assert_int_equal(bk_gatt_services_add_service(s, &u, sh->svc[k][0], sh->svc[k][1], true), 0);
    for (int k = 0; k < 2; k++)
      if (sh->chr[k][1])
        assert_int_equal(bk_gatt_services_add_characteristic(s, sh->chr[k][0], &u, sh->chr[k][1], sh->chr[k][2], 0), 0);
    for (int k = 0; k < 2; k++)
      if (sh->desc[k][1])
        assert_int_equal(bk_gatt_services_add_descriptor(s, sh->desc[k][0], &u, sh->desc[k][1]), 0);
    int r = bk_gatt_services_finish(s);
    if (r != BLEAK_ERR_PROTOCOL)
      fail_msg("shape \"%s\": finish returned %d", sh->what, r);
    assert_true(strlen(bleak_error_detail()) > 0);
    /* A failed collection is empty and safe to use and free. */
    assert_int_equal(bleak_gatt_services_count(s), 0);
    assert_null(bleak_gatt_services_get_characteristic_by_handle(s, 2));
    bleak_gatt_services_unref(s);
  }
}

static void test_properties(void **state) {
  (void)state;
  for (int i = 0; i < BLEAK_GATT_PROP_COUNT; i++) {
    uint32_t bit = 1u << i;
    const char *n = bleak_gatt_property_name(bit);
    assert_non_null(n);
    assert_int_equal(bleak_gatt_property_from_name(n), bit);
  }
  assert_string_equal(bleak_gatt_property_name(BLEAK_GATT_PROP_WRITE_WITHOUT_RESPONSE),
                      "write-without-response");
  assert_null(bleak_gatt_property_name(0));
  assert_null(bleak_gatt_property_name(3));
  assert_null(bleak_gatt_property_name(1u << 31));
  assert_int_equal(bleak_gatt_property_from_name("Read"), 0);
  assert_int_equal(bleak_gatt_property_from_name(NULL), 0);
  char buf[64];
  uint32_t p = BLEAK_GATT_PROP_READ | BLEAK_GATT_PROP_WRITE | BLEAK_GATT_PROP_NOTIFY;
  assert_int_equal(bleak_gatt_properties_format(p, buf, sizeof buf), 17);
  assert_string_equal(buf, "read,write,notify");
  assert_int_equal(bleak_gatt_properties_format(0, buf, sizeof buf), 0);
  assert_string_equal(buf, "");
  /* Too small: whole names that fit, NUL-terminated. */
  assert_int_equal(bleak_gatt_properties_format(p, buf, 12), BLEAK_ERR_BUFFER_TOO_SMALL);
  assert_string_equal(buf, "read,write");
  assert_int_equal(bleak_gatt_properties_format(p, buf, 17), BLEAK_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(bleak_gatt_properties_format(p, buf, 18), 17);
  assert_int_equal(bleak_gatt_properties_format(p, NULL, 5), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_gatt_properties_format(p, NULL, 0), BLEAK_ERR_BUFFER_TOO_SMALL);
}

static void test_mtu_and_write_size(void **state) {
  (void)state;
  bleak_gatt_services *s = build_db();
  const bleak_gatt_characteristic *ch = bleak_gatt_services_get_characteristic_by_handle(s, 23);
  assert_int_equal(bleak_gatt_services_mtu(s), 23);
  assert_int_equal(bleak_gatt_characteristic_max_write_without_response_size(ch), 20);
  bk_gatt_services_set_mtu(s, 500);
  assert_int_equal(bleak_gatt_characteristic_max_write_without_response_size(ch), 497);
  bk_gatt_services_set_mtu(s, 517); /* MTU - 3 = 514, but a value has at most 512 bytes */
  assert_int_equal(bleak_gatt_characteristic_max_write_without_response_size(ch), 512);
  bk_gatt_services_set_mtu(s, 5); /* below the minimum: clamped */
  assert_int_equal(bleak_gatt_services_mtu(s), 23);
  assert_int_equal(bk_gatt_services_set_max_write_without_response(s, 23, 180), 0);
  assert_int_equal(bleak_gatt_characteristic_max_write_without_response_size(ch), 180);
  assert_int_equal(bk_gatt_services_set_max_write_without_response(s, 24, 1),
                   BLEAK_ERR_NOT_FOUND);
  bleak_gatt_services_unref(s);
}

static void test_filter_and_refs(void **state) {
  (void)state;
  bleak_gatt_services *s = build_db();
  bleak_uuid keep[2] = {U16(0x180d), U16(0x1800)};
  bk_gatt_services_filter(s, keep, 2);
  assert_int_equal(bleak_gatt_services_count(s), 1);
  assert_int_equal(bleak_gatt_services_characteristic_count(s), 1);
  assert_int_equal(bleak_gatt_services_descriptor_count(s), 2);
  const bleak_gatt_characteristic *hr = bleak_gatt_services_get_characteristic_by_handle(s, 7);
  assert_non_null(hr);
  assert_int_equal(bleak_gatt_characteristic_descriptor_count(hr), 2);
  assert_null(bleak_gatt_services_get_characteristic_by_handle(s, 2));
  /* A reference keeps the tree alive after the first owner lets go. */
  assert_ptr_equal(bleak_gatt_services_ref(s), s);
  bleak_gatt_services_unref(s);
  assert_string_equal(bleak_gatt_characteristic_description(hr), "Heart Rate Measurement");
  bleak_gatt_services_unref(s);
}

static void test_empty(void **state) {
  (void)state;
  bleak_gatt_services *s = bk_gatt_services_new();
  assert_int_equal(bk_gatt_services_finish(s), 0);
  assert_int_equal(bk_gatt_services_finish(s), 0); /* idempotent */
  assert_int_equal(bleak_gatt_services_count(s), 0);
  const bleak_gatt_characteristic *ch;
  assert_int_equal(bleak_gatt_services_find_characteristic_str(s, "2a37", &ch),
                   BLEAK_ERR_NOT_FOUND);
  bleak_gatt_services_unref(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_iteration_in_handle_order),
      cmocka_unit_test(test_lookups),
      cmocka_unit_test(test_characteristic_by_value_handle),
      cmocka_unit_test(test_ambiguous_and_not_found),
      cmocka_unit_test(test_null_arguments),
      cmocka_unit_test(test_validation),
      cmocka_unit_test(test_properties),
      cmocka_unit_test(test_mtu_and_write_size),
      cmocka_unit_test(test_filter_and_refs),
      cmocka_unit_test(test_empty),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
