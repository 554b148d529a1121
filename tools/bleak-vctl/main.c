/* SPDX-License-Identifier: MIT */
/* bleak-vctl: the virtual LE controller (src/vctl/controller.h) served as H4
 * over a unix socket (like BlueZ's `btvirt -s`) or TCP, with the virtual
 * peripherals of JSON files in range. The hci backend connects to it with
 * BLEAK_HCI=unix:PATH (or tcp:HOST:PORT). One client at a time: each client
 * gets a fresh controller (a power-on), the peripherals keep their values.
 * Or, with --vhci (vhci.h), the kernel is the one client: the controller
 * becomes hciN, and the tool ends when /dev/vhci does.
 * All I/O and timers run on a bleak_loop; SIGTERM and SIGINT end it
 * cleanly. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, signalfd */
#endif
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bleak/loop.h"
#include "vctl/controller.h"
#include "vctl/link_model.h"
#include "vctl/peripheral.h"
#include "control_srv.h"
#include "listen.h"
#include "vhci.h"

/* Output held for a slow client beyond which the ATT servers are told to
 * wait (set_blocked): commands and events still go, streams pause. */
#define OUT_HIGH (256u * 1024u)

typedef struct tool {
  bleak_loop *loop;
  int listen_fd, client_fd, sig_fd;
  bleak_source *listen_w, *client_w, *sig_w, *timer;
  vctl_peripheral **periphs;
  size_t n_periphs;
  vctl_controller_config cfg;
  vctl_controller *ctl;
  uint8_t *out;
  size_t out_len, out_cap;
  bool blocked, failed, verbose;
  bool packets; /* the client is /dev/vhci: a write() per packet, no queue */
  const char *socket_path;
  const char *control_path; /* --control: the control socket (control_srv.h) */
  vctl_control_hub *hub;
  control_srv *csrv;
} tool;

static void usage(FILE *f) {
  fprintf(f,
          "usage: bleak-vctl (--socket PATH | --tcp PORT | --vhci) [OPTIONS] FILE.json...\n\n"
          "Serve a virtual Bluetooth LE controller as H4 (like BlueZ's btvirt -s),\n"
          "with the virtual peripherals of the JSON files (docs/vctl.md) in range.\n"
          "The hci backend connects with BLEAK_HCI=unix:PATH or tcp:127.0.0.1:PORT.\n\n"
          "options:\n"
          "  --socket PATH  listen on a unix socket (created when listening)\n"
          "  --tcp PORT     listen on 127.0.0.1:PORT instead\n"
          "  --vhci         register it with the Linux kernel through /dev/vhci\n"
          "                 (root, module hci_vhci); prints its name (hciN)\n"
          "  --link SPEC    the air: unlimited (default), 1m or 2m[,interval=MS,\n"
          "                 ppe=N,dle=N,mtu=N]\n"
          "  --control PATH a control socket: JSON requests, one a line, that change\n"
          "                 values, faults and the controller while a host uses it\n"
          "                 (docs/vctl.md, \"The control socket\"); several clients\n"
          "  --verbose      log clients and counters to stderr\n"
          "  -h, --help     this help\n\n"
          "One client at a time; SIGTERM or SIGINT ends it (exit 0).\n"
          "exit status: 0 ok, 1 failure, 2 usage error.\n");
}

static void tool_close_client(tool *t);

static void flush_out(tool *t) {
  while (t->out_len) {
    ssize_t n = send(t->client_fd, t->out, t->out_len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      break;
    if (n <= 0) {
      t->failed = true; /* the client went: closed from the loop */
      t->out_len = 0;
      return;
    }
    memmove(t->out, t->out + n, t->out_len - (size_t)n);
    t->out_len -= (size_t)n;
  }
  bleak_source_set_io_events(t->client_w, BLEAK_IO_READ | (t->out_len ? BLEAK_IO_WRITE : 0));
}

static void on_output(void *user, const uint8_t *h4, size_t len) {
  tool *t = user;
  if (t->failed)
    return;
  if (t->packets) {
    if (vhci_write_packet(t->client_fd, h4, len)) {
      fprintf(stderr, "bleak-vctl: /dev/vhci: write: %s\n", strerror(errno));
      t->failed = true;
    }
    return;
  }
  if (t->out_len + len > t->out_cap) {
    size_t cap = t->out_cap ? t->out_cap : 4096;
    while (cap < t->out_len + len)
      cap *= 2;
    uint8_t *p = realloc(t->out, cap);
    if (!p) {
      fprintf(stderr, "bleak-vctl: out of memory: client dropped\n");
      t->failed = true;
      return;
    }
    t->out = p;
    t->out_cap = cap;
  }
  memcpy(t->out + t->out_len, h4, len);
  t->out_len += len;
}

/* After any input or tick: send what is queued, tell the controller about
 * back-pressure, arm the timer for its next deadline. */
static void settle(tool *t) {
  if (!t->ctl)
    return;
  flush_out(t);
  uint64_t now = bleak_loop_now_ms(t->loop);
  bool blocked = t->out_len > OUT_HIGH;
  if (blocked != t->blocked) {
    t->blocked = blocked;
    vctl_controller_set_blocked(t->ctl, blocked, now);
    flush_out(t);
  }
  if (t->failed) {
    tool_close_client(t);
    return;
  }
  uint64_t dl = vctl_controller_deadline(t->ctl);
  if (dl == UINT64_MAX)
    bleak_source_stop_timer(t->timer);
  else
    bleak_source_set_timer(t->timer, dl > now ? dl - now : 0);
}

static void on_timer(bleak_source *src, void *user) {
  (void)src;
  tool *t = user;
  if (!t->ctl)
    return;
  vctl_controller_tick(t->ctl, bleak_loop_now_ms(t->loop));
  settle(t);
}

static void tool_close_client(tool *t) {
  if (t->client_fd < 0)
    return;
  if (t->verbose && t->ctl) {
    vctl_controller_stats st;
    vctl_controller_stats_get(t->ctl, &st);
    fprintf(stderr,
            "bleak-vctl: client gone (%lu commands, %lu unknown, %lu bad, %lu ACL in, "
            "%lu out)\n",
            st.commands, st.unknown_commands, st.bad_commands, st.acl_in, st.acl_out);
  }
  bleak_source_free(t->client_w);
  t->client_w = NULL;
  close(t->client_fd);
  t->client_fd = -1;
  vctl_control_hub_set_controller(t->hub, NULL);
  vctl_controller_free(t->ctl);
  t->ctl = NULL;
  bleak_source_stop_timer(t->timer);
  t->out_len = 0;
  t->blocked = t->failed = false;
  /* The kernel's controller is gone with the fd: done, unless the control
   * socket unplugged it ("disappear") and still serves. */
  if (t->packets && !t->csrv)
    bleak_loop_stop(t->loop);
}

static void on_client(bleak_source *src, int fd, uint32_t revents, void *user) {
  (void)src;
  tool *t = user;
  if (revents & BLEAK_IO_READ) {
    uint8_t buf[4096]; /* more than a packet: a read of /dev/vhci is one */
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
      return;
    if (n <= 0) {
      tool_close_client(t);
      return;
    }
    vctl_controller_input(t->ctl, buf, (size_t)n, bleak_loop_now_ms(t->loop));
  } else if (revents & BLEAK_IO_ERROR) {
    tool_close_client(t);
    return;
  }
  settle(t);
}

/* A fresh controller for the client on @p fd (closed on failure). */
static int attach_client(tool *t, int fd) {
  t->ctl = vctl_controller_new(&t->cfg, t->periphs, t->n_periphs, on_output, t);
  if (!t->ctl || bleak_loop_add_io(t->loop, fd, BLEAK_IO_READ, on_client, t, &t->client_w)) {
    fprintf(stderr, "bleak-vctl: no controller for a client (out of memory)\n");
    vctl_controller_free(t->ctl);
    t->ctl = NULL;
    close(fd);
    return -1;
  }
  t->client_fd = fd;
  vctl_control_hub_set_controller(t->hub, t->ctl);
  return 0;
}

static void after_control(void *user) { settle(user); }

/* What the control socket asks of the tool (control.h). */
static int on_control_action(void *user, vctl_control_action *a) {
  tool *t = user;
  switch (a->kind) {
  case VCTL_CONTROL_SERVICE_CHANGED:
    return vctl_peripherals_load(a->file, &a->list, &a->count, a->err, sizeof a->err);
  case VCTL_CONTROL_DISAPPEAR:
    if (t->client_fd < 0) {
      snprintf(a->err, sizeof a->err, "no host connected");
      return -1;
    }
    if (t->verbose)
      fprintf(stderr, "bleak-vctl: the controller unplugged (control socket)\n");
    tool_close_client(t);
    return 0;
  }
  snprintf(a->err, sizeof a->err, "unknown action");
  return -1;
}

static void on_listen(bleak_source *src, int fd, uint32_t revents, void *user) {
  (void)src;
  (void)revents;
  tool *t = user;
  int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (c < 0)
    return;
  if (t->client_fd >= 0) { /* one at a time: the second is refused */
    if (t->verbose)
      fprintf(stderr, "bleak-vctl: a second client refused\n");
    close(c);
    return;
  }
  if (attach_client(t, c))
    return;
  if (t->verbose)
    fprintf(stderr, "bleak-vctl: client connected\n");
}

static void on_signal(bleak_source *src, int fd, uint32_t revents, void *user) {
  (void)src;
  (void)revents;
  struct signalfd_siginfo si;
  if (read(fd, &si, sizeof si) > 0)
    bleak_loop_stop(((tool *)user)->loop);
}

static int listen_tcp(const char *port_s) {
  char *end;
  long port = strtol(port_s, &end, 10);
  if (*end || port < 1 || port > 65535) {
    fprintf(stderr, "bleak-vctl: --tcp %s: not a port\n", port_s);
    return -1;
  }
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0)
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 4)) {
    fprintf(stderr, "bleak-vctl: listen on 127.0.0.1:%ld: %s\n", port, strerror(errno));
    if (fd >= 0)
      close(fd);
    return -1;
  }
  return fd;
}

static int load_all(tool *t, char **files, int n) {
  for (int i = 0; i < n; i++) {
    vctl_peripheral **list;
    size_t count;
    char err[512];
    if (vctl_peripherals_load(files[i], &list, &count, err, sizeof err)) {
      fprintf(stderr, "bleak-vctl: %s\n", err);
      return -1;
    }
    vctl_peripheral **all = realloc(t->periphs, (t->n_periphs + count) * sizeof *all);
    if (!all) {
      vctl_peripherals_free(list, count);
      fprintf(stderr, "bleak-vctl: out of memory\n");
      return -1;
    }
    t->periphs = all;
    /* Each peripheral freed on its own later: the lists' arrays go now. */
    memcpy(t->periphs + t->n_periphs, list, count * sizeof *list);
    t->n_periphs += count;
    free(list);
  }
  return 0;
}

int main(int argc, char **argv) {
  tool t = {.listen_fd = -1, .client_fd = -1, .sig_fd = -1};
  vctl_controller_config_init(&t.cfg);
  const char *tcp = NULL;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--verbose")) {
      t.verbose = true;
    } else if (!strcmp(a, "--vhci")) {
      t.packets = true;
    } else if (i + 1 < argc && !strcmp(a, "--socket")) {
      t.socket_path = argv[++i];
    } else if (i + 1 < argc && !strcmp(a, "--control")) {
      t.control_path = argv[++i];
    } else if (i + 1 < argc && !strcmp(a, "--tcp")) {
      tcp = argv[++i];
    } else if (i + 1 < argc && !strcmp(a, "--link")) {
      char err[256];
      if (vctl_link_parse(argv[++i], &t.cfg.link, err, sizeof err)) {
        fprintf(stderr, "bleak-vctl: --link: %s\n", err);
        return 2;
      }
    } else if (!strcmp(a, "--")) {
      i++;
      break;
    } else {
      fprintf(stderr, "bleak-vctl: unknown option %s\n", a);
      usage(stderr);
      return 2;
    }
  }
  if (i >= argc || (t.socket_path != NULL) + (tcp != NULL) + t.packets != 1) {
    usage(stderr);
    return 2;
  }
  if (load_all(&t, argv + i, argc - i))
    goto fail;
  if (t.packets) {
    /* The kernel scans with legacy commands when told so, and misses the
     * reports that come right after its scan enable. */
    t.cfg.extended = false;
    t.cfg.scan_first_ms = 100;
  }

  /* A shell starts a background job with SIGINT ignored, and an ignored
   * signal is discarded, never queued for the signalfd: the default
   * disposition first (the block below keeps it from acting). */
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  t.sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (!t.packets)
    t.listen_fd = t.socket_path ? listen_unix(t.socket_path) : listen_tcp(tcp);
  if (t.sig_fd < 0 || (!t.packets && t.listen_fd < 0) || bleak_loop_new(&t.loop) ||
      bleak_loop_add_io(t.loop, t.sig_fd, BLEAK_IO_READ, on_signal, &t, &t.sig_w) ||
      (!t.packets &&
       bleak_loop_add_io(t.loop, t.listen_fd, BLEAK_IO_READ, on_listen, &t, &t.listen_w)) ||
      bleak_loop_add_timer(t.loop, 0, on_timer, &t, &t.timer)) {
    fprintf(stderr, "bleak-vctl: cannot start the loop\n");
    goto fail;
  }
  bleak_source_stop_timer(t.timer);
  if (t.control_path &&
      (!(t.hub = vctl_control_hub_new(t.periphs, t.n_periphs)) ||
       !(t.csrv = control_srv_new(t.loop, t.control_path, t.hub, on_control_action,
                                  after_control, &t)))) {
    if (!t.hub)
      fprintf(stderr, "bleak-vctl: out of memory\n");
    goto fail;
  }
  if (t.packets) {
    char err[256];
    int index, fd = vhci_open(5000, &index, err, sizeof err);
    if (fd < 0) {
      fprintf(stderr, "bleak-vctl: %s\n", err);
      goto fail;
    }
    if (attach_client(&t, fd))
      goto fail;
    printf("hci%d\n", index); /* scripts wait for this line */
    fflush(stdout);
  }
  if (t.verbose)
    fprintf(stderr, "bleak-vctl: %zu peripheral(s), %s\n", t.n_periphs,
            t.packets ? "on /dev/vhci" : "listening");
  /* A modeled link's physical limit, for a benchmark's efficiency. */
  if (!t.cfg.link.unlimited) {
    char line[256];
    vctl_link_describe(&t.cfg.link, line, sizeof line);
    fprintf(stderr, "bleak-vctl: %s\n", line);
  }
  int rc = bleak_loop_run(t.loop) ? 1 : 0;
  control_srv_free(t.csrv);
  t.csrv = NULL;
  tool_close_client(&t);
  vctl_control_hub_free(t.hub);
  bleak_source_free(t.timer);
  bleak_source_free(t.listen_w);
  bleak_source_free(t.sig_w);
  bleak_loop_free(t.loop);
  if (t.listen_fd >= 0)
    close(t.listen_fd);
  close(t.sig_fd);
  if (t.socket_path)
    unlink(t.socket_path);
  vctl_peripherals_free(t.periphs, t.n_periphs);
  free(t.out);
  return rc;
fail:
  control_srv_free(t.csrv);
  if (t.client_fd >= 0) {
    t.csrv = NULL;
    tool_close_client(&t);
  }
  vctl_control_hub_free(t.hub);
  if (t.loop)
    bleak_loop_free(t.loop);
  if (t.listen_fd >= 0) {
    close(t.listen_fd);
    if (t.socket_path)
      unlink(t.socket_path);
  }
  if (t.sig_fd >= 0)
    close(t.sig_fd);
  vctl_peripherals_free(t.periphs, t.n_periphs);
  free(t.out);
  return 1;
}
