/* SPDX-License-Identifier: MIT */
/* The generated tables of UUID names (src/core/uuid_names.c). */
#ifndef BLEAK_CORE_UUID_NAMES_H
#define BLEAK_CORE_UUID_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "bleak/uuid.h"

typedef struct bk_uuid16_name {
  uint16_t value;
  const char *name;
} bk_uuid16_name;

typedef struct bk_uuid128_name {
  bleak_uuid uuid;
  const char *name;
} bk_uuid128_name;

/* Sorted by value, for bsearch. */
extern const bk_uuid16_name bk_uuid16_names[];
extern const size_t bk_uuid16_names_count;
/* Sorted by text (= byte order), for bsearch. */
extern const bk_uuid128_name bk_uuid128_names[];
extern const size_t bk_uuid128_names_count;

#endif /* BLEAK_CORE_UUID_NAMES_H */
