/* SPDX-License-Identifier: MIT */
/* Fuzz target: the bond file parser (src/backend/hci/bond_store.c) on a
 * buffer, never the file system. A file that parses is a bond within its
 * ranges whose text, written again, parses again and is written the same
 * (format is a fixed point after one round); a file that does not parse
 * is a PROTOCOL error (or NO_MEMORY) with a detail, and leaves the bond
 * cleared. Nothing leaks (ASan/valgrind). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/hci/bond_store.h"
#include "bleak/error.h"
#include "bleak/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ranges(const bk_bond *b) {
  if (b->key_size < 7 || b->key_size > 16 || b->id.local.type > 1 || b->id.peer.type > 1 ||
      b->created < 0 || (b->secure_connections && (b->ediv || b->rand)) ||
      (b->has_db_hash && !b->gatt))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bleak_log_set_level(BLEAK_LOG_NONE);
  bk_bond b;
  int r = bk_bond_parse((const char *)data, size, NULL, &b);
  if (r != 0) {
    if ((r != BLEAK_ERR_PROTOCOL && r != BLEAK_ERR_NO_MEMORY) || b.gatt ||
        (r == BLEAK_ERR_PROTOCOL && !bleak_error_detail()[0]))
      abort();
    return 0;
  }
  check_ranges(&b);
  /* The file names whose it is: the same identities pass that check. */
  bk_bond again;
  if (bk_bond_parse((const char *)data, size, &b.id, &again) != 0)
    abort();
  bk_bond_clear(&again);
  char *t1, *t2;
  size_t n1, n2;
  r = bk_bond_format(&b, &t1, &n1);
  bk_bond_clear(&b);
  if (r == BLEAK_ERR_TOO_LONG) /* short UUIDs written out in full */
    return 0;
  if (r != 0)
    abort();
  if (bk_bond_parse(t1, n1, NULL, &again) != 0)
    abort();
  check_ranges(&again);
  if (bk_bond_format(&again, &t2, &n2) != 0 || n1 != n2 || memcmp(t1, t2, n1) != 0)
    abort();
  bk_bond_clear(&again);
  free(t1);
  free(t2);
  return 0;
}
