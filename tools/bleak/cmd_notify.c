/* SPDX-License-Identifier: MIT */
/* bleak notify: start_notify and print each value with a timestamp, until
 * --count values arrived, --duration passed, Ctrl-C, or the link drops. */
#include "cli.h"

typedef struct notify_state {
  bleak_loop *loop;
  uint64_t t0;
  unsigned long count, max; /* max 0: no limit */
  bool text, disconnected;
} notify_state;

static void on_value(bleak_client *c, const bleak_gatt_characteristic *sender,
                     const uint8_t *data, size_t len, void *user) {
  (void)c, (void)sender;
  notify_state *st = user;
  if (st->max && st->count >= st->max)
    return; /* values already on the way when the count was reached */
  uint64_t t = bleak_loop_now_ms(st->loop) - st->t0;
  printf("%llu.%03llu ", (unsigned long long)(t / 1000), (unsigned long long)(t % 1000));
  if (st->text)
    fwrite(data, 1, len, stdout);
  else
    cli_print_hex(stdout, data, len);
  putchar('\n');
  fflush(stdout); /* a pipe reader sees each value as it comes */
  st->count++;
}

static void on_disconnect(bleak_client *c, void *user) {
  (void)c;
  ((notify_state *)user)->disconnected = true;
}

static int run(const cli_global *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"count", required_argument, NULL, 'c'},
      {"duration", required_argument, NULL, 'd'},
      {"text", no_argument, NULL, 't'},
      {NULL, 0, NULL, 0},
  };
  cli_global gl = *g;
  notify_state st = {0};
  int duration_ms = 0;
  int id;
  while ((id = cli_getopt(argc, argv, opts, &gl)) != -1) {
    switch (id) {
    case 'c':
      if (!cli_parse_uint(optarg, 1000000000ul, &st.max) || st.max == 0)
        return cli_usage_error(&cli_cmd_notify, "--count wants a number > 0, not '%s'", optarg);
      break;
    case 'd':
      if (!cli_parse_seconds(optarg, &duration_ms) || duration_ms <= 0)
        return cli_usage_error(&cli_cmd_notify, "--duration wants seconds > 0, not '%s'",
                               optarg);
      break;
    case 't':
      st.text = true;
      break;
    case 'h':
      cli_command_help(&cli_cmd_notify, stdout);
      return CLI_OK;
    default:
      return cli_usage_error(&cli_cmd_notify, "invalid option");
    }
  }
  if (argc - optind != 2)
    return cli_usage_error(&cli_cmd_notify, "wants ADDR CHAR");
  bleak_client_options o;
  bleak_client_options_init(&o);
  o.disconnected_callback = on_disconnect;
  o.disconnected_user_data = &st;
  bleak_client *c;
  const bleak_gatt_characteristic *ch;
  int rc = cli_connect(&gl, argv[optind], &o, &c);
  if (rc != CLI_OK)
    return rc;
  if ((rc = cli_find_char(c, argv[optind + 1], &ch)) != CLI_OK) {
    cli_close(&gl, c);
    return rc;
  }
  st.loop = bleak_client_loop(c);
  cli_catch_signals(st.loop);
  st.t0 = bleak_loop_now_ms(st.loop);
  int r = bleak_client_start_notify(c, ch, on_value, &st);
  if (r < 0) {
    rc = r == BLEAK_ERR_NOT_SUPPORTED
             ? (fprintf(stderr, "bleak: notify: %s can neither notify nor indicate\n",
                        argv[optind + 1]), CLI_PROTOCOL)
             : cli_fail("start notify", r);
    cli_close(&gl, c);
    return rc;
  }
  uint64_t end = duration_ms ? st.t0 + (uint64_t)duration_ms : UINT64_MAX;
  while (!cli_interrupted() && !st.disconnected && !(st.max && st.count >= st.max)) {
    uint64_t now = bleak_loop_now_ms(st.loop);
    if (now >= end)
      break;
    bleak_loop_run_once(st.loop, end == UINT64_MAX ? -1 : (int)(end - now));
  }
  if (st.disconnected) {
    fprintf(stderr, "bleak: notify: the link dropped after %lu values\n", st.count);
    rc = CLI_NOT_CONNECTED;
  } else if ((r = bleak_client_stop_notify(c, ch)) < 0) {
    rc = cli_fail("stop notify", r);
  }
  cli_close(&gl, c);
  return rc;
}

const cli_command cli_cmd_notify = {
    .name = "notify",
    .summary = "subscribe and print notifications or indications with timestamps",
    .usage = "ADDR CHAR [--count N] [--duration S] [--text]",
    .help = "Each value is a line: seconds since subscribing, then the value in hex.\n"
            "Runs until N values arrived, S seconds passed, or Ctrl-C.\n"
            "options:\n"
            "  --count N      stop after N values\n"
            "  --duration S   stop after S seconds\n"
            "  --text         print values as text instead of hex\n",
    .run = run,
};
