/* SPDX-License-Identifier: MIT */
/*
 * The guest fixture's database (BLEAK_FIXTURE_DB, set by the fuzz
 * targets' CMake), read once: the peripheral the vctl fuzz targets
 * (fuzz_att_server, fuzz_vctl_controller) load for every input.
 */
#ifndef BLEAK_FUZZ_FIXTURE_TEXT_H
#define BLEAK_FUZZ_FIXTURE_TEXT_H

#include <stdio.h>
#include <stdlib.h>

static char *fixture_text(void) {
  static char *text;
  if (text)
    return text;
  FILE *f = fopen(BLEAK_FIXTURE_DB, "rb");
  if (!f)
    abort();
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return text = buf;
}

#endif
