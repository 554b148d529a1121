/* SPDX-License-Identifier: MIT */
/* A main() for fuzz targets built without libFuzzer (gcc, the ASan build of
 * make check): run every file named (or every file in a directory named)
 * through LLVMFuzzerTestOneInput, then deterministic mutations of each
 * (bit flips, truncations, length bytes set to extremes), so that the
 * parsers meet the seeds' neighbourhood on every `make check`.
 *   fuzz_X [-n MUTATIONS] FILE|DIR...
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long mutations = 2000;
static unsigned long inputs;

static uint32_t rng = 0x12345678u; /* xorshift: the same run every time */
static uint32_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

static void run_one(const uint8_t *data, size_t size) {
  /* A copy of exactly the size: ASan sees any read past the end. */
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy)
    abort();
  if (size)
    memcpy(copy, data, size);
  LLVMFuzzerTestOneInput(copy, size);
  free(copy);
  inputs++;
}

static void run_with_mutations(const uint8_t *data, size_t size) {
  run_one(data, size);
  uint8_t *m = malloc(size + 8);
  if (!m)
    abort();
  for (unsigned long i = 0; i < mutations; i++) {
    size_t n = size;
    memcpy(m, data, size);
    switch (next_rand() % 5) {
    case 0: /* flip a bit */
      if (n)
        m[next_rand() % n] ^= (uint8_t)(1u << (next_rand() % 8));
      break;
    case 1: /* cut short */
      n = n ? next_rand() % n : 0;
      break;
    case 2: /* a byte to an extreme (lengths: 0, 1, 0xff) */
      if (n) {
        static const uint8_t extremes[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff};
        m[next_rand() % n] = extremes[next_rand() % sizeof extremes];
      }
      break;
    case 3: /* a few random bytes appended */
      for (int k = 0; k < 8; k++)
        m[n + (size_t)k] = (uint8_t)next_rand();
      n += 1 + next_rand() % 8;
      break;
    default: /* a random byte anywhere */
      if (n)
        m[next_rand() % n] = (uint8_t)next_rand();
      break;
    }
    run_one(m, n);
  }
  free(m);
}

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return -1;
  }
  static uint8_t buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  run_with_mutations(buf, n);
  return 0;
}

static int run_path(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) {
    perror(path);
    return -1;
  }
  if (!S_ISDIR(st.st_mode))
    return run_file(path);
  DIR *d = opendir(path);
  if (!d)
    return -1;
  struct dirent *e;
  int r = 0;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", path, e->d_name);
    r |= run_file(p);
  }
  closedir(d);
  return r;
}

int main(int argc, char **argv) {
  int i = 1, r = 0;
  if (argc > 2 && !strcmp(argv[1], "-n")) {
    mutations = strtoul(argv[2], NULL, 10);
    i = 3;
  }
  for (; i < argc; i++)
    r |= run_path(argv[i]);
  run_with_mutations((const uint8_t *)"", 0);
  printf("%lu inputs\n", inputs);
  return r ? 1 : 0;
}
