/* SPDX-License-Identifier: MIT */
/*
 * The bleak-c side of the guest benchmarks (make bench): the same
 * workloads as bench/bleak_bench.py runs with Python's Bleak, against the
 * benchmark peripheral (bench/bench_peripheral.py), timed inside the
 * process. The backend comes from BLEAK_BACKEND / BLEAK_HCI, as for any
 * bleak-c program. Prints one JSON object.
 *
 *   bench_client ADDRESS [--cycles K] [--reads N] [--writes N] [--long N]
 *                [--wwr N] [--notify N] [--pause-ms MS] [--wwr-burst N]
 *                [--connect-only 1]
 *
 * cycles: K connect (with discovery) + disconnect cycles; the first is
 * cold when the caller made the central forget the peer, the rest may use
 * a cache (BlueZ's; the hci backend's own, checked by Database Hash).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bleak/bleak.h"

#define BENCH(n) "b1e600" n "-7e57-4c0d-9e00-000000000002"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* CPU time (user + system) this process has used, in ms: what a client
 * costs, whatever the link's pace. */
static double cpu_ms(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* CPU time bluetoothd has used, in ms, when BENCH_DAEMON_PID names it
 * (bench/guest-virtual.sh sets it for the bluez runs); -1 otherwise. Read
 * around each phase, so the report can say what a phase costs the daemon
 * beside what it costs the client: the work a D-Bus client leaves to it. */
static double daemon_ms(void) {
  const char *pid = getenv("BENCH_DAEMON_PID");
  if (!pid || !*pid)
    return -1;
  char path[64], line[1024];
  snprintf(path, sizeof path, "/proc/%.20s/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  size_t n = fread(line, 1, sizeof line - 1, f);
  fclose(f);
  line[n] = 0;
  const char *p = strrchr(line, ')'); /* the name may hold spaces */
  unsigned long long ut = 0, st = 0;
  /* after the name: state, then fields 4..13, then utime and stime */
  if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
    return -1;
  return (double)(ut + st) * 1e3 / (double)sysconf(_SC_CLK_TCK);
}

/* Accumulates the daemon's CPU over the spans of one phase. */
typedef struct daemon_span {
  double at, total;
  bool known;
} daemon_span;
static void span_begin(daemon_span *d) { d->at = daemon_ms(); }
static void span_end(daemon_span *d) {
  double now = daemon_ms();
  if (now >= 0 && d->at >= 0) {
    d->total += now - d->at;
    d->known = true;
  }
}
static void print_span(const char *name, const daemon_span *d) {
  if (d->known)
    printf("\"%s\": %.1f, ", name, d->total);
}

static void print_list(const char *name, const double *v, size_t n) {
  printf("\"%s\": [", name);
  for (size_t i = 0; i < n; i++)
    printf("%s%.3f", i ? ", " : "", v[i]);
  printf("], ");
}

static const bleak_gatt_characteristic *chr(bleak_client *c, const char *uuid) {
  const bleak_gatt_characteristic *ch = NULL;
  if (bleak_client_char_by_uuid(c, uuid, &ch) != 0) {
    fprintf(stderr, "bench_client: no characteristic %s\n", uuid);
    exit(1);
  }
  return ch;
}

/* Where the first connect's time goes (bluez, at BLEAK_LOGGING=debug):
 * the moments, from the connect's start, of BlueZ's Connect reply and of
 * its ServicesResolved; the log lines still go to stderr (report.py
 * counts the object tree's fills there). */
static struct {
  bool on;
  double t0, reply, resolved;
  char resolved_line[64]; /* the peer's device object's, not another's */
} phase;

static void on_log(bleak_log_level level, const char *mod, const char *msg, void *user) {
  (void)user;
  fprintf(stderr, "bleak %s [%s] %s\n", bleak_log_level_name(level), mod, msg);
  if (!phase.on)
    return;
  double t = now_ms() - phase.t0;
  if (phase.reply == 0 && strstr(msg, ": Connect returned"))
    phase.reply = t;
  /* BlueZ 5.66 says no Connected=true for a central's device: only
   * ServicesResolved is looked at. */
  if (phase.resolved == 0 && strstr(msg, phase.resolved_line) && strstr(msg, "ServicesResolved 1"))
    phase.resolved = t;
}

static void must(int r, const char *what) {
  if (r < 0) {
    fprintf(stderr, "bench_client: %s: %s (%s)\n", what, bleak_strerror(r), bleak_error_detail());
    exit(1);
  }
}

/* Notifications: sequence numbers seen, first and last arrival. */
static struct {
  unsigned long count, dups, out_of_order;
  long next;
  double first, last;
  unsigned char *seen;
  unsigned long want;
} nt;

static void on_note(bleak_client *c, const bleak_gatt_characteristic *ch, const uint8_t *d,
                    size_t n, void *u) {
  (void)c;
  (void)ch;
  (void)u;
  if (n < 4)
    return;
  unsigned long seq = (unsigned long)d[0] | (unsigned long)d[1] << 8 |
                      (unsigned long)d[2] << 16 | (unsigned long)d[3] << 24;
  double t = now_ms();
  if (nt.count == 0)
    nt.first = t;
  nt.last = t;
  if (seq < nt.want && nt.seen[seq])
    nt.dups++;
  else if (seq < nt.want)
    nt.seen[seq] = 1;
  if ((long)seq != nt.next)
    nt.out_of_order++;
  nt.next = (long)seq + 1;
  nt.count++;
}

/* The peripheral's counters (its control characteristic reads as JSON). */
static double stat_of(const char *json, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\": ", key);
  const char *p = strstr(json, pat);
  return p ? atof(p + strlen(pat)) : -1;
}

static void read_stats(bleak_client *c, const bleak_gatt_characteristic *ctl, char *buf,
                       size_t cap) {
  size_t len = 0;
  must(bleak_client_read_gatt_char(c, ctl, (uint8_t *)buf, cap - 1, &len), "read stats");
  buf[len] = '\0';
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_client ADDRESS [--cycles K] [--reads N] [--writes N] "
                    "[--long N] [--wwr N] [--notify N] [--pause-ms MS] [--wwr-burst N] [--connect-only 1]\n");
    return 2;
  }
  const char *addr = argv[1];
  int cycles = 3, reads = 200, writes = 200, longs = 20, wwr = 1000, notes = 1000;
  int pause_ms = 1000; /* between cycles, untimed: the kernel tears the link down */
  /* Writes without response go in bursts, each closed by a read of the
   * peripheral's counters: its bluetoothd handles PDUs in order, so the
   * answer means the burst was taken. Without it the emulated link (no
   * air time, credits back at once) overruns the peripheral's socket
   * buffer and packets are lost, for every client. */
  int burst = 50;
  bool connect_only = false; /* --connect-only 1: one cold connect, timed */
  for (int i = 2; i + 1 < argc; i += 2) {
    int v = atoi(argv[i + 1]);
    if (!strcmp(argv[i], "--cycles"))
      cycles = v;
    else if (!strcmp(argv[i], "--reads"))
      reads = v;
    else if (!strcmp(argv[i], "--writes"))
      writes = v;
    else if (!strcmp(argv[i], "--long"))
      longs = v;
    else if (!strcmp(argv[i], "--wwr"))
      wwr = v;
    else if (!strcmp(argv[i], "--notify"))
      notes = v;
    else if (!strcmp(argv[i], "--pause-ms"))
      pause_ms = v;
    else if (!strcmp(argv[i], "--wwr-burst"))
      burst = v > 0 ? v : 1;
    else if (!strcmp(argv[i], "--connect-only"))
      connect_only = v != 0;
  }
  bleak_log_set_handler(on_log, NULL);
  {
    char dev[18];
    snprintf(dev, sizeof dev, "%s", addr);
    for (char *p = dev; *p; p++)
      *p = *p == ':' ? '_' : (char)((*p >= 'a' && *p <= 'f') ? *p - 32 : *p);
    snprintf(phase.resolved_line, sizeof phase.resolved_line, "/dev_%s: Connected", dev);
  }
  bleak_client_options o;
  bleak_client_options_init(&o);
  o.timeout_ms = 30000;
  bleak_client *c = NULL;
  must(bleak_client_new(addr, &o, &c), "client");
  printf("{\"client\": \"bleak-c %s\", ", bleak_client_backend_id(c));

  /* The peer found before the first connect (untimed), as the Bleak
   * script finds it with find_device_by_address before its timed connect:
   * a scanner of the same backend (on hci, on the same transport, which
   * shares the controller and so the address it saw). A connect by address
   * alone would search by itself, inside its time. */
  bleak_scanner *sc = NULL;
  {
    bleak_scanner_options so;
    bleak_scanner_options_init(&so);
    const bleak_device *dev = NULL;
    must(bleak_scanner_new(&so, &sc), "scanner");
    must(bleak_scanner_find_device_by_address(sc, addr, 20000, &dev), "find the peer");
  }
  double *conn = calloc((size_t)cycles + 1, sizeof *conn);
  double *disc = calloc((size_t)cycles + 1, sizeof *disc);
  daemon_span d_cold = {0}, d_conn = {0};
  for (int i = 0; i < cycles; i++) {
    daemon_span *d = i == 0 ? &d_cold : &d_conn;
    span_begin(d);
    double t0 = now_ms();
    phase.on = i == 0;
    phase.t0 = t0;
    must(bleak_client_connect(c), "connect");
    conn[i] = now_ms() - t0;
    span_end(d);
    phase.on = false;
    /* Untimed: what a connection does after connect (BlueZ reads names
     * and hashes, so do we) settles, as in a program that uses it. */
    bool never = false;
    bleak_loop_run_until(bleak_loop_default(), &never, pause_ms / 2);
    double t1 = now_ms();
    must(bleak_client_disconnect(c), "disconnect");
    disc[i] = now_ms() - t1;
    bleak_loop_run_until(bleak_loop_default(), &never, pause_ms / 2);
  }
  print_list("connect_ms", conn, (size_t)cycles);
  if (phase.reply > 0 || phase.resolved > 0)
    printf("\"connect_phases_ms\": {\"connect_reply\": %.1f, \"services_resolved\": %.1f}, ",
           phase.reply, phase.resolved);
  print_list("disconnect_ms", disc, (size_t)cycles);
  print_span("daemon_connect_cold_cpu_ms", &d_cold);
  print_span("daemon_connect_cached_cpu_ms", &d_conn);
  if (connect_only) {
    printf("\"connect_failures\": 0}\n");
    bleak_client_free(c);
    bleak_scanner_free(sc);
    free(conn);
    free(disc);
    return 0;
  }
  must(bleak_client_connect(c), "connect");
  printf("\"connect_failures\": 0, ");
  const bleak_gatt_services *s = bleak_client_services(c);
  printf("\"services\": %zu, \"characteristics\": %zu, \"descriptors\": %zu, \"mtu\": %d, ",
         bleak_gatt_services_count(s), bleak_gatt_services_characteristic_count(s),
         bleak_gatt_services_descriptor_count(s), bleak_client_mtu_size(c));

  uint8_t buf[600];
  size_t len;
  const bleak_gatt_characteristic *rd = chr(c, BENCH("01")), *wr = chr(c, BENCH("02")),
                                  *ww = chr(c, BENCH("03")), *nf = chr(c, BENCH("04")),
                                  *lg = chr(c, BENCH("05")), *ctl = chr(c, BENCH("06"));
  double *lat = calloc((size_t)(reads > writes ? reads : writes) + longs + 1, sizeof *lat);
  daemon_span d_read = {0};
  span_begin(&d_read);
  for (int i = 0; i < reads; i++) {
    double t0 = now_ms();
    must(bleak_client_read_gatt_char(c, rd, buf, sizeof buf, &len), "read");
    lat[i] = now_ms() - t0;
  }
  span_end(&d_read);
  print_list("read_ms", lat, (size_t)reads);
  print_span("daemon_read_cpu_ms", &d_read);
  memset(buf, 0x5a, 20);
  for (int i = 0; i < writes; i++) {
    double t0 = now_ms();
    must(bleak_client_write_gatt_char(c, wr, buf, 20, BLEAK_WRITE_WITH_RESPONSE), "write");
    lat[i] = now_ms() - t0;
  }
  print_list("write_ms", lat, (size_t)writes);
  for (int i = 0; i < longs; i++) {
    double t0 = now_ms();
    must(bleak_client_read_gatt_char(c, lg, buf, sizeof buf, &len), "long read");
    lat[i] = now_ms() - t0;
    if (len != 512) {
      fprintf(stderr, "bench_client: long read gave %zu bytes\n", len);
      return 1;
    }
  }
  print_list("long_read_ms", lat, (size_t)longs);

  /* Writes without response of the largest size, sequence-numbered. */
  static const uint8_t reset[] = {0x01};
  must(bleak_client_write_gatt_char(c, ctl, reset, 1, BLEAK_WRITE_WITH_RESPONSE), "reset");
  /* The largest size, but for 511 and 512: BlueZ 5.66's server drops
   * those (see tests/vm/README.md). */
  size_t size = bleak_gatt_characteristic_max_write_without_response_size(ww);
  if (size > 510)
    size = 510;
  daemon_span d_wwr = {0};
  span_begin(&d_wwr);
  double t0 = now_ms(), c0 = cpu_ms();
  for (int i = 0; i < wwr; i++) {
    memset(buf, (uint8_t)i, size);
    memcpy(buf, &i, 4);
    must(bleak_client_write_gatt_char(c, ww, buf, size, BLEAK_WRITE_WITHOUT_RESPONSE), "wwr");
    if ((i + 1) % burst == 0) {
      char sync[600];
      read_stats(c, ctl, sync, sizeof sync);
    }
  }
  double sent_ms = now_ms() - t0, wwr_cpu = cpu_ms() - c0;
  span_end(&d_wwr);
  print_span("daemon_wwr_cpu_ms", &d_wwr);
  char st[600];
  double got = 0, last_got = -1;
  for (int idle = 0; idle < 30;) {
    read_stats(c, ctl, st, sizeof st);
    got = stat_of(st, "wwr_packets");
    if (got >= wwr)
      break;
    idle = got == last_got ? idle + 1 : 0;
    last_got = got;
    bool never = false;
    bleak_loop_run_until(bleak_loop_default(), &never, 100);
  }
  double span = stat_of(st, "wwr_last") - stat_of(st, "wwr_first");
  printf("\"wwr_size\": %zu, \"wwr_sent\": %d, \"wwr_send_ms\": %.3f, \"wwr_received\": %.0f, "
         "\"wwr_bytes\": %.0f, \"wwr_gaps\": %.0f, \"wwr_peripheral_s\": %.6f, "
         "\"wwr_cpu_ms\": %.3f, ",
         size, wwr, sent_ms, got, stat_of(st, "wwr_bytes"), stat_of(st, "wwr_gaps"), span, wwr_cpu);

  /* Notifications: a burst of the largest size the link carries. */
  nt.want = (unsigned long)notes;
  nt.seen = calloc((size_t)notes + 1, 1);
  must(bleak_client_start_notify(c, nf, on_note, NULL), "start_notify");
  int nsize = bleak_client_mtu_size(c) - 3;
  if (nsize > 512)
    nsize = 512;
  uint8_t cmd[7] = {0x02};
  memcpy(cmd + 1, &notes, 4);
  cmd[5] = (uint8_t)nsize;
  cmd[6] = (uint8_t)(nsize >> 8);
  daemon_span d_note = {0};
  span_begin(&d_note);
  double nc0 = cpu_ms();
  must(bleak_client_write_gatt_char(c, ctl, cmd, 7, BLEAK_WRITE_WITH_RESPONSE), "burst");
  unsigned long seen_before = 0;
  for (int idle = 0; nt.count < (unsigned long)notes && idle < 50;) {
    bool never = false;
    bleak_loop_run_until(bleak_loop_default(), &never, 100);
    idle = nt.count == seen_before ? idle + 1 : 0;
    seen_before = nt.count;
  }
  double notify_cpu = cpu_ms() - nc0;
  span_end(&d_note);
  print_span("daemon_notify_cpu_ms", &d_note);
  unsigned long unique = 0;
  for (int i = 0; i < notes; i++)
    unique += nt.seen[i];
  printf("\"notify_size\": %d, \"notify_requested\": %d, \"notify_received\": %lu, "
         "\"notify_unique\": %lu, \"notify_dups\": %lu, \"notify_out_of_order\": %lu, "
         "\"notify_ms\": %.3f, \"notify_cpu_ms\": %.3f",
         nsize, notes, nt.count, unique, nt.dups, nt.out_of_order, nt.last - nt.first, notify_cpu);
  bleak_client_stop_notify(c, nf);
  bleak_client_disconnect(c);
  bleak_client_free(c);
  bleak_scanner_free(sc);
  printf("}\n");
  free(conn);
  free(disc);
  free(lat);
  free(nt.seen);
  return 0;
}
