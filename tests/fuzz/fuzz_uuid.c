/* SPDX-License-Identifier: MIT */
/* Fuzz target: UUID strings and wire forms (src/core/uuid.c). A string that
 * parses normalizes to a form that parses to the same UUID; wire forms of
 * 2, 4 and 16 bytes decode, and encode back to the same UUID. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bleak/uuid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char str[128];
  size_t n = size < sizeof str - 1 ? size : sizeof str - 1;
  memcpy(str, data, n);
  str[n] = '\0';
  bleak_uuid u, v;
  char norm[BLEAK_UUID_STR_LEN];
  if (bleak_uuid_parse(str, &u) == 0) {
    bleak_uuid_to_string(&u, norm);
    if (bleak_uuid_parse(norm, &v) != 0 || !bleak_uuid_equal(&u, &v))
      abort();
    (void)bleak_uuid_name(&u);
  }
  (void)bleak_uuid_str_name(str);
  if (size == 2 || size == 4 || size == 16) {
    uint8_t back[16];
    if (bleak_uuid_from_le_bytes(data, size, &u) != 0)
      abort();
    int w = bleak_uuid_to_le_bytes(&u, back, sizeof back);
    if (w != 2 && w != 16)
      abort(); /* the shortest ATT form: 16 bits on the base, else 128 */
    if (bleak_uuid_from_le_bytes(back, (size_t)w, &v) != 0 || !bleak_uuid_equal(&u, &v))
      abort();
  }
  return 0;
}
