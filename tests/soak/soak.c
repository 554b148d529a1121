/* SPDX-License-Identifier: MIT */
/*
 * The soak test (issue 14): many cycles of connect, discover, read, write,
 * subscribe and receive notifications, unsubscribe, disconnect, against the
 * guest fixture's database (tests/vm/fixture/database.json) served by
 * bleak-vctl, with the values asserted every cycle and the process's open
 * fds and resident set sampled every few cycles.
 *
 *   soak ADDRESS [--hci SPEC] [--backend hci|bluez] [--adapter hciN]
 *        [--cycles N] [--every N] [--warmup N] [--rss-bound KIB] [--reuse]
 *        [--no-growth-check]
 *
 * Backend hci by default (the host's soak against bleak-vctl's socket);
 * bluez for the guest's, through the kernel and bluetoothd to bleak-vctl
 * --vhci (tests/vm/vhci.sh), where BlueZ keeps GAP to itself.
 *
 * By default every cycle makes a new client and frees it (--reuse: one
 * client for all cycles). A new client per cycle goes through everything a
 * program's lifetime of one client allocates: the client, its backend
 * state, the hci backend's controller transport (the last client of a
 * socket closes it, the next one opens it again and initialises the
 * controller), the scan that finds the device, the service tree, the
 * operations. What it leaks shows as a lost block under valgrind and as a
 * slope of fds or RSS. A reused client would hold on to what it keeps
 * per connection until it is freed (valgrind calls that reachable): --reuse
 * is the check of that other case, by its RSS slope.
 *
 * After the warm-up (--warmup cycles: allocator arenas and caches settle),
 * every --every cycles it samples the count of /proc/self/fd and the RSS of
 * /proc/self/statm, and reports the least-squares slope of both per 100
 * cycles. It fails when the fd count moves at all or when the RSS slope
 * exceeds --rss-bound KiB per 100 cycles (docs/vctl.md says why that
 * bound). --no-growth-check (under valgrind, whose own allocator decides
 * the RSS) reports the slopes without judging them.
 *
 * Prints "# " lines, then "ok - ..." or "not ok - ..." per failure and a
 * closing "soak: N cycles, ..." line; exit status 0 when every cycle passed.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bleak/bleak.h>

#define CUSTOM(n) "b1e5" n "-7e57-4c0d-9e00-000000000001"
#define UART_TX "6e400003-b5a3-f393-e0a9-e50e24dcca9e" /* notify */
#define UART_RX "6e400002-b5a3-f393-e0a9-e50e24dcca9e" /* write: echoed on TX */

/* The fixture's database: GAP, GATT, Battery, Heart Rate, Device
 * Information, the custom service, Nordic UART; BlueZ 5.66 keeps GAP to
 * itself (it exports the peer's GATT service). */
#define FIXTURE_SERVICES 7
#define FIXTURE_SERVICES_BLUEZ 6
static const char hello[] = "hello bleak-c"; /* c(1) */

typedef struct soak {
  bleak_loop *loop;
  bleak_client_options opts;
  const char *address;
  bleak_client *client; /* the reused one (--reuse), else NULL between cycles */
  bool reuse;
  /* what the notification callback saw this cycle */
  int notes;
  uint8_t note[32];
  size_t note_len;
  bool note_ok;
  char expect[32];
  size_t expect_len;
} soak;

static const char *err(int r) {
  static char buf[300];
  snprintf(buf, sizeof buf, "%s (%s) %s", bleak_err_name(r), bleak_strerror(r),
           bleak_error_detail());
  return buf;
}

static void on_note(bleak_client *c, const bleak_gatt_characteristic *ch,
                    const uint8_t *data, size_t len, void *user) {
  (void)c;
  (void)ch;
  soak *s = user;
  s->notes++;
  s->note_len = len < sizeof s->note ? len : sizeof s->note;
  memcpy(s->note, data, s->note_len);
  if (len == s->expect_len && !memcmp(data, s->expect, len))
    s->note_ok = true;
}

/* One failure of cycle @p i: printed, and the cycle ends. */
#define FAIL(...)                                                              \
  do {                                                                         \
    printf("not ok - cycle %u: ", i);                                          \
    printf(__VA_ARGS__);                                                       \
    printf("\n");                                                              \
    goto out;                                                                  \
  } while (0)

static const bleak_gatt_characteristic *find(bleak_client *c, const char *uuid) {
  const bleak_gatt_characteristic *ch = NULL;
  return bleak_client_char_by_uuid(c, uuid, &ch) == 0 ? ch : NULL;
}

/* One cycle; 0 when every step did what it should. */
static int cycle(soak *s, unsigned i) {
  int ok = -1, r;
  bleak_client *c = s->client;
  if (!c && (r = bleak_client_new(s->address, &s->opts, &c)) != 0) {
    printf("not ok - cycle %u: bleak_client_new: %s\n", i, err(r));
    return -1;
  }
  if ((r = bleak_client_connect(c)) != 0)
    FAIL("connect: %s", err(r));
  if (!bleak_client_is_connected(c))
    FAIL("connected, but is_connected says no");

  /* discovery: the whole database, every cycle */
  const bleak_gatt_services *svcs = bleak_client_services(c);
  size_t n_svcs = bleak_gatt_services_count(svcs);
  size_t want = s->opts.backend == BLEAK_BACKEND_BLUEZ ? FIXTURE_SERVICES_BLUEZ : FIXTURE_SERVICES;
  if (n_svcs != want)
    FAIL("%zu services discovered, want %zu", n_svcs, want);
  const bleak_gatt_characteristic *c1 = find(c, CUSTOM("0001"));
  const bleak_gatt_characteristic *c2 = find(c, CUSTOM("0002"));
  const bleak_gatt_characteristic *tx = find(c, UART_TX);
  const bleak_gatt_characteristic *rx = find(c, UART_RX);
  if (!c1 || !c2 || !tx || !rx)
    FAIL("characteristics missing: c(1) %p c(2) %p TX %p RX %p", (const void *)c1,
         (const void *)c2, (const void *)tx, (const void *)rx);

  /* read: the fixed value */
  uint8_t buf[BLEAK_MAX_ATTR_VALUE];
  size_t len = 0;
  if ((r = bleak_client_read_gatt_char(c, c1, buf, sizeof buf, &len)) != 0)
    FAIL("read c(1): %s", err(r));
  if (len != strlen(hello) || memcmp(buf, hello, len))
    FAIL("read c(1): %zu bytes, not \"%s\"", len, hello);

  /* write with response, then read it back: this cycle's number */
  const uint8_t w[4] = {(uint8_t)i, (uint8_t)(i >> 8), (uint8_t)(i >> 16), 0x5a};
  if ((r = bleak_client_write_gatt_char(c, c2, w, sizeof w, BLEAK_WRITE_WITH_RESPONSE)) != 0)
    FAIL("write c(2): %s", err(r));
  if ((r = bleak_client_read_gatt_char(c, c2, buf, sizeof buf, &len)) != 0)
    FAIL("read c(2) back: %s", err(r));
  if (len != sizeof w || memcmp(buf, w, sizeof w))
    FAIL("read c(2) back: %zu bytes, not what was written", len);

  /* notifications: subscribe to the UART's TX, write to RX, its echo
   * (upper-cased) comes as a notification */
  s->notes = 0;
  s->note_ok = false;
  s->note_len = 0;
  char text[sizeof s->expect];
  int n = snprintf(text, sizeof text, "soak-%u", i);
  if (n < 0 || (size_t)n >= sizeof text)
    FAIL("snprintf");
  s->expect_len = (size_t)n;
  for (int k = 0; k < n; k++)
    s->expect[k] = (text[k] >= 'a' && text[k] <= 'z') ? (char)(text[k] - 32) : text[k];
  if ((r = bleak_client_start_notify(c, tx, on_note, s)) != 0)
    FAIL("start_notify TX: %s", err(r));
  if ((r = bleak_client_write_gatt_char(c, rx, (const uint8_t *)text, (size_t)n,
                                        BLEAK_WRITE_WITH_RESPONSE)) != 0)
    FAIL("write RX: %s", err(r));
  if ((r = bleak_loop_run_until(s->loop, &s->note_ok, 5000)) != 0)
    FAIL("no echo \"%s\" on TX within 5 s (%d notifications, last %zu bytes): %s", s->expect,
         s->notes, s->note_len, err(r));
  if (s->notes <= 0)
    FAIL("no notification counted");
  if ((r = bleak_client_stop_notify(c, tx)) != 0)
    FAIL("stop_notify TX: %s", err(r));
  int before = s->notes;

  if ((r = bleak_client_disconnect(c)) != 0)
    FAIL("disconnect: %s", err(r));
  if (bleak_client_is_connected(c))
    FAIL("disconnected, but is_connected says yes");
  if (s->notes != before)
    FAIL("%d notifications after stop_notify", s->notes - before);
  ok = 0;
out:
  if (ok && bleak_client_is_connected(c))
    bleak_client_disconnect(c);
  if (!s->reuse)
    bleak_client_free(c);
  else
    s->client = c;
  return ok;
}

static long count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d)
    return -1;
  long n = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n - 1; /* the directory's own */
}

static long rss_kib(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f)
    return -1;
  long size = 0, resident = -1;
  if (fscanf(f, "%ld %ld", &size, &resident) != 2)
    resident = -1;
  fclose(f);
  long page = sysconf(_SC_PAGESIZE);
  return resident < 0 || page <= 0 ? -1 : resident * (page / 1024);
}

/* Least-squares slope of y over x, n points. */
static double slope(const double *x, const double *y, size_t n) {
  if (n < 2)
    return 0;
  double mx = 0, my = 0;
  for (size_t k = 0; k < n; k++) {
    mx += x[k];
    my += y[k];
  }
  mx /= (double)n;
  my /= (double)n;
  double sxy = 0, sxx = 0;
  for (size_t k = 0; k < n; k++) {
    sxy += (x[k] - mx) * (y[k] - my);
    sxx += (x[k] - mx) * (x[k] - mx);
  }
  return sxx > 0 ? sxy / sxx : 0;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static unsigned arg_uint(const char *v, const char *name) {
  char *end;
  unsigned long n = strtoul(v, &end, 10);
  if (!*v || *end || n > 10000000) {
    fprintf(stderr, "soak: %s: not a number: %s\n", name, v);
    exit(2);
  }
  return (unsigned)n;
}

int main(int argc, char **argv) {
  if (argc < 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: soak ADDRESS [--hci SPEC] [--backend hci|bluez] [--adapter hciN]"
                    " [--cycles N] [--every N] [--warmup N] [--rss-bound KIB] [--reuse]"
                    " [--no-growth-check]\n");
    return 2;
  }
  soak s = {.address = argv[1]};
  bleak_client_options_init(&s.opts);
  s.opts.backend = BLEAK_BACKEND_HCI;
  s.opts.timeout_ms = 10000;
  unsigned cycles = 1000, every = 10, warmup = 100, rss_bound = 8;
  bool judge = true;
  for (int k = 2; k < argc; k++) {
    const char *a = argv[k], *v = k + 1 < argc ? argv[k + 1] : NULL;
    if (!strcmp(a, "--reuse"))
      s.reuse = true;
    else if (!strcmp(a, "--no-growth-check"))
      judge = false;
    else if (!v) {
      fprintf(stderr, "soak: %s: unknown, or its value missing\n", a);
      return 2;
    } else if (!strcmp(a, "--hci"))
      s.opts.hci_transport = v, k++;
    else if (!strcmp(a, "--adapter"))
      s.opts.adapter = v, k++;
    else if (!strcmp(a, "--backend") && (!strcmp(v, "hci") || !strcmp(v, "bluez")))
      s.opts.backend = !strcmp(v, "hci") ? BLEAK_BACKEND_HCI : BLEAK_BACKEND_BLUEZ, k++;
    else if (!strcmp(a, "--cycles"))
      cycles = arg_uint(v, a), k++;
    else if (!strcmp(a, "--every"))
      every = arg_uint(v, a), k++;
    else if (!strcmp(a, "--warmup"))
      warmup = arg_uint(v, a), k++;
    else if (!strcmp(a, "--rss-bound"))
      rss_bound = arg_uint(v, a), k++;
    else {
      fprintf(stderr, "soak: %s: unknown\n", a);
      return 2;
    }
  }
  if (!every)
    every = 1;
  int r = bleak_loop_new(&s.loop);
  if (r) {
    printf("not ok - bleak_loop_new: %s\n", err(r));
    return 1;
  }
  s.opts.loop = s.loop;

  size_t cap = cycles / every + 2, n = 0;
  double *xs = calloc(cap, sizeof *xs), *fds = calloc(cap, sizeof *fds),
         *rss = calloc(cap, sizeof *rss);
  if (!xs || !fds || !rss) {
    printf("not ok - out of memory\n");
    return 1;
  }
  unsigned passed = 0, failed = 0;
  double t0 = now_s(), tw = t0;
  for (unsigned i = 1; i <= cycles; i++) {
    if (cycle(&s, i) == 0)
      passed++;
    else if (++failed >= 5) {
      printf("# five cycles failed: stopping at cycle %u\n", i);
      break;
    }
    if (i == warmup)
      tw = now_s();
    if (i >= warmup && (i - warmup) % every == 0 && n < cap) {
      xs[n] = i;
      fds[n] = (double)count_fds();
      rss[n] = (double)rss_kib();
      printf("# cycle %u: %.0f fds, %.0f KiB resident\n", i, fds[n], rss[n]);
      n++;
    }
  }
  double t1 = now_s();
  bleak_client_free(s.client);
  bleak_loop_free(s.loop);

  unsigned done = passed + failed;
  double rate = t1 > t0 ? done / (t1 - t0) : 0;
  double fd_slope = slope(xs, fds, n) * 100, rss_slope = slope(xs, rss, n) * 100;
  bool fd_moved = false;
  for (size_t k = 1; k < n; k++)
    if (fds[k] != fds[0])
      fd_moved = true;
  printf("# %u cycles in %.2f s: %.1f cycles/s (%.1f/s after the warm-up)\n", done, t1 - t0,
         rate, done > warmup && t1 > tw ? (done - warmup) / (t1 - tw) : 0.0);
  printf("# %zu samples from cycle %u: fds %+.3f, RSS %+.1f KiB per 100 cycles "
         "(bound %u KiB)\n",
         n, warmup, fd_slope, rss_slope, rss_bound);
  bool ok = failed == 0;
  if (judge && n >= 2) {
    if (fd_moved) {
      printf("not ok - the open fds moved: %.0f at cycle %.0f, %.0f at cycle %.0f\n", fds[0],
             xs[0], fds[n - 1], xs[n - 1]);
      ok = false;
    }
    if (rss_slope > rss_bound) {
      printf("not ok - RSS grows %.1f KiB per 100 cycles, over the bound %u\n", rss_slope,
             rss_bound);
      ok = false;
    }
  } else if (judge) {
    printf("not ok - %zu samples after the warm-up: too few to judge\n", n);
    ok = false;
  }
  if (ok)
    printf("ok - %u cycles (%s)\n", passed, s.reuse ? "one client" : "a new client each");
  printf("soak: %u cycles, %u passed, %u failed\n", done, passed, failed);
  free(xs);
  free(fds);
  free(rss);
  return ok ? 0 : 1;
}
