/* SPDX-License-Identifier: MIT */
/* LE signalling answers: parameter updates accepted or rejected, channel
 * requests refused, and the shapes a hostile peer sends (truncated header,
 * length field larger or smaller than the data, unknown code, identifier
 * 0, values out of range, a frame past MTUsig). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "backend/hci/l2cap_signal.h"
#include "bleak/error.h"
#include "bleak/log.h"
#include "hex.h"

static bk_l2cap_sig_event ev;

/* Feed @p in (hex); @return what bk_l2cap_sig_recv returns, the answer
 * compared with @p want (hex; "" for none). */
#define RECV(in, want) recv_line(in, want, __LINE__)
static int recv_line(const char *in, const char *want, int line) {
  uint8_t frame[64], out[BK_L2CAP_SIG_MAX_ANSWER], w[64];
  size_t n = test_unhex(in, frame, sizeof frame), wn = test_unhex(want, w, sizeof w);
  memset(out, 0xee, sizeof out);
  int r = bk_l2cap_sig_recv(frame, n, out, sizeof out, &ev);
  size_t got = r > 0 ? (size_t)r : 0;
  if (got != wn || memcmp(out, w, wn) != 0) {
    char g[2 * sizeof out + 1] = "";
    for (size_t i = 0; i < got; i++)
      sprintf(g + 2 * i, "%02x", out[i]);
    fail_msg("line %d: answered %s (%d), expected %s", line, g, r, want);
  }
  return r;
}

static void test_conn_param_update_accepted(void **state) {
  (void)state;
  /* min 7.5 ms, max 30 ms, latency 4, timeout 5 s */
  assert_int_equal(RECV("12 07 0800 0600 1800 0400 f401", "13 07 0200 0000"), 6);
  assert_int_equal(ev.kind, BK_L2CAP_SIG_EV_CONN_PARAMS);
  assert_int_equal(ev.conn_params.interval_min, 6);
  assert_int_equal(ev.conn_params.interval_max, 24);
  assert_int_equal(ev.conn_params.latency, 4);
  assert_int_equal(ev.conn_params.timeout, 500);
  /* the edges of every range */
  RECV("12 01 0800 0600 800c 0000 800c", "13 01 0200 0000");
  assert_int_equal(ev.kind, BK_L2CAP_SIG_EV_CONN_PARAMS);
}

static void test_conn_param_update_out_of_range(void **state) {
  (void)state;
  static const char *const bad[] = {
      "12 02 0800 0500 1800 0000 f401", /* min below 7.5 ms */
      "12 02 0800 0600 810c 0000 f401", /* max above 4 s */
      "12 02 0800 1900 1800 0000 f401", /* min above max */
      "12 02 0800 0600 1800 f401 800c", /* latency 500 */
      "12 02 0800 0600 1800 0000 0900", /* timeout below 100 ms */
      "12 02 0800 0600 1800 0000 810c", /* timeout above 32 s */
      "12 02 0800 0600 1800 ffff ffff", /* everything at its extreme */
      /* in range one by one, but the link would time out while the
       * peripheral may sleep: 5 s < (1 + 40) * 100 ms * 2 */
      "12 02 0800 5000 5000 2800 f401",
      "12 02 0800 5000 5000 2800 3403", /* exactly 8.2 s: not longer */
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_int_equal(RECV(bad[i], "13 02 0200 0100"), 6);
    assert_int_equal(ev.kind, BK_L2CAP_SIG_EV_NONE);
  }
  /* Just consistent: 8.21 s > (1 + 40) * 100 ms * 2. */
  RECV("12 03 0800 5000 5000 2800 3503", "13 03 0200 0000");
  assert_int_equal(ev.kind, BK_L2CAP_SIG_EV_CONN_PARAMS);
}

/* A known command with the wrong length for it: not understood. */
static void test_wrong_length_for_command(void **state) {
  (void)state;
  RECV("12 04 0600 0600 1800 0000", "01 04 0200 0000");
  assert_int_equal(ev.kind, BK_L2CAP_SIG_EV_NONE);
  RECV("12 04 0a00 0600 1800 0000 f401 0000", "01 04 0200 0000");
  RECV("14 05 0800 8000 4000 1700 1700", "01 05 0200 0000");
  RECV("17 05 0800 2700 1700 1700 0100", "01 05 0200 0000");        /* no SCID */
  RECV("17 05 0b00 2700 1700 1700 0100 4000 41", "01 05 0200 0000"); /* odd */
  RECV("06 06 0200 4000", "01 06 0200 0000");
  RECV("16 06 0200 4000", "01 06 0200 0000");
  RECV("19 06 0400 1700 1700", "01 06 0200 0000");
}

/* Frames that are not one whole command: dropped, nothing answered. */
static void test_broken_frames_dropped(void **state) {
  (void)state;
  uint8_t out[BK_L2CAP_SIG_MAX_ANSWER];
  assert_int_equal(bk_l2cap_sig_recv(NULL, 0, out, sizeof out, &ev), BLEAK_ERR_PROTOCOL);
  assert_int_equal(RECV("12", ""), BLEAK_ERR_PROTOCOL);
  assert_int_equal(RECV("12 07 08", ""), BLEAK_ERR_PROTOCOL); /* truncated header */
  /* length field larger than the data, and smaller */
  assert_int_equal(RECV("12 07 0900 0600 1800 0400 f401", ""), BLEAK_ERR_PROTOCOL);
  assert_int_equal(RECV("12 07 0700 0600 1800 0400 f401", ""), BLEAK_ERR_PROTOCOL);
  assert_int_equal(RECV("12 07 ffff 0600 1800 0400 f401", ""), BLEAK_ERR_PROTOCOL);
  /* identifier 0 is never valid */
  assert_int_equal(RECV("12 00 0800 0600 1800 0400 f401", ""), BLEAK_ERR_PROTOCOL);
  assert_int_equal(RECV("08 00 0000", ""), BLEAK_ERR_PROTOCOL);
  assert_int_equal(ev.kind, BK_L2CAP_SIG_EV_NONE);
}

/* Past MTUsig (23): rejected, our MTUsig in the reject. */
static void test_mtu_exceeded(void **state) {
  (void)state;
  assert_int_equal(RECV("17 09 1400 2700 1700 1700 0100 4000 4100 4200 4300 4400 4500",
                        "01 09 0400 0100 1700"),
                   8);
  /* a response past MTUsig is still not answered */
  assert_int_equal(RECV("13 09 1400 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000", ""), 0);
}

static void test_unknown_and_bredr_codes(void **state) {
  (void)state;
  RECV("00 0a 0000", "01 0a 0200 0000");           /* reserved code */
  RECV("1b 0b 0200 0102", "01 0b 0200 0000");      /* past the table */
  RECV("ff 0c 0000", "01 0c 0200 0000");
  RECV("08 0d 0300 616263", "01 0d 0200 0000");    /* Echo: BR/EDR only */
  RECV("0a 0e 0200 0200", "01 0e 0200 0000");      /* Information */
  RECV("02 0f 0400 0100 4000", "01 0f 0200 0000"); /* Connection */
}

/* Responses and rejects: we asked for nothing, so nothing is answered
 * (and a reject never is: no reject loops). */
static void test_responses_ignored(void **state) {
  (void)state;
  static const char *const rsps[] = {
      "01 10 0200 0000", "13 10 0200 0000", "15 10 0a00 4000 1700 1700 0100 0000",
      "18 10 0a00 1700 1700 0100 0000 4000", "1a 10 0200 0000", "07 10 0400 4000 4000",
      "03 10 0000", "05 10 0000", "09 10 0000", "0b 10 0000", "0d 10 0000", "0f 10 0000",
      "11 10 0000",
  };
  for (size_t i = 0; i < sizeof rsps / sizeof *rsps; i++)
    assert_int_equal(RECV(rsps[i], ""), 0);
  /* a credit indication: no channel of ours to credit */
  assert_int_equal(RECV("16 11 0400 4000 0500", ""), 0);
}

static void test_channels_refused(void **state) {
  (void)state;
  /* LE credit based to PSM 0x0080: refused, the LE_PSM not supported */
  RECV("14 21 0a00 8000 4000 1700 1700 0100", "15 21 0a00 0000 0000 0000 0000 0200");
  /* EATT's credit based connection of two channels: both refused */
  RECV("17 22 0c00 2700 1700 1700 0100 4000 4100",
       "18 22 0c00 0000 0000 0000 0200 0000 0000");
  /* five channels, the most a request may carry */
  assert_int_equal(RECV("17 23 1200 2700 1700 1700 0100 4000 4100 4200 4300 4400",
                        "18 23 1200 0000 0000 0000 0200 0000 0000 0000 0000 0000"),
                   22);
  RECV("17 24 1400 2700 1700 1700 0100 4000 4100 4200 4300 4400 4500",
       "01 24 0400 0100 1700"); /* six: past MTUsig too */
  /* reconfiguring channels we never opened */
  RECV("19 25 0600 1700 1700 4000", "1a 25 0200 0300");
  /* disconnecting one: Invalid CID, with its endpoints (ours, theirs) */
  RECV("06 26 0400 4000 4100", "01 26 0600 0200 4000 4100");
}

static void test_arguments(void **state) {
  (void)state;
  uint8_t f[] = {0x12, 1, 8, 0, 6, 0, 0x18, 0, 0, 0, 0xf4, 1};
  uint8_t out[BK_L2CAP_SIG_MAX_ANSWER];
  assert_int_equal(bk_l2cap_sig_recv(f, sizeof f, out, BK_L2CAP_SIG_MAX_ANSWER - 1, &ev),
                   BLEAK_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(ev.kind, BK_L2CAP_SIG_EV_NONE);
  assert_int_equal(bk_l2cap_sig_recv(f, sizeof f, NULL, sizeof out, &ev), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_l2cap_sig_recv(f, sizeof f, out, sizeof out, NULL), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_l2cap_sig_recv(NULL, 4, out, sizeof out, &ev), BLEAK_ERR_INVALID_ARG);
}

int main(void) {
  bleak_log_set_level(BLEAK_LOG_NONE);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_conn_param_update_accepted),
      cmocka_unit_test(test_conn_param_update_out_of_range),
      cmocka_unit_test(test_wrong_length_for_command),
      cmocka_unit_test(test_broken_frames_dropped),
      cmocka_unit_test(test_mtu_exceeded),
      cmocka_unit_test(test_unknown_and_bredr_codes),
      cmocka_unit_test(test_responses_ignored),
      cmocka_unit_test(test_channels_refused),
      cmocka_unit_test(test_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
