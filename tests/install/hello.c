/* SPDX-License-Identifier: MIT */
/* A program that knows bleak only through pkg-config and the installed
 * headers: it must compile, link and run against a staged install. */
#include <bleak/bleak.h>
#include <stdio.h>
#include <string.h>

static void on_timer(bleak_source *src, void *user) {
  (void)src;
  *(bool *)user = true;
}

int main(void) {
  bleak_uuid u;
  char s[BLEAK_UUID_STR_LEN];
  if (bleak_uuid_parse("0x2A37", &u) != 0)
    return 1;
  bleak_uuid_to_string(&u, s);
  if (strcmp(s, "00002a37-0000-1000-8000-00805f9b34fb") != 0)
    return 2;
  bleak_loop *loop = bleak_loop_default();
  bleak_source *t;
  bool done = false;
  if (!loop || bleak_loop_add_timer(loop, 1, on_timer, &done, &t) != 0)
    return 3;
  int r = bleak_loop_run_until(loop, &done, 1000);
  bleak_source_free(t);
  bleak_loop_free(loop);
  if (r != 0)
    return 4;
  printf("bleak %s: %s is %s; %s\n", bleak_version(), s,
         bleak_uuid_str_name(s), bleak_strerror(BLEAK_ERR_ATT(3)));
  return 0;
}
