/* SPDX-License-Identifier: MIT */
/* The control socket's clients: see control_srv.h. Replies are queued per
 * client and sent as the socket takes them; a client that reads none of
 * them while more than OUT_MAX wait is dropped, not waited for. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4 */
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control_srv.h"
#include "listen.h"

#define OUT_MAX (16u << 20)

typedef struct client {
  struct client *next;
  control_srv *srv;
  int fd;
  bleak_source *w;
  vctl_control *session;
  char *out;
  size_t out_len, out_cap;
  bool failed;
} client;

struct control_srv {
  bleak_loop *loop;
  const char *path;
  int fd;
  bleak_source *w;
  vctl_control_hub *hub;
  vctl_control_act_fn act;
  void (*after)(void *user);
  void *user;
  client *clients;
};

static void client_free(client *c) {
  control_srv *srv = c->srv;
  for (client **pp = &srv->clients; *pp; pp = &(*pp)->next)
    if (*pp == c) {
      *pp = c->next;
      break;
    }
  bleak_source_free(c->w);
  close(c->fd);
  vctl_control_free(c->session);
  free(c->out);
  free(c);
}

static void on_reply(void *user, const char *line, size_t len) {
  client *c = user;
  if (c->failed)
    return;
  if (c->out_len + len > OUT_MAX) {
    fprintf(stderr, "bleak-vctl: a control client reads no replies: dropped\n");
    c->failed = true;
    return;
  }
  if (c->out_len + len > c->out_cap) {
    size_t cap = c->out_cap ? c->out_cap : 4096;
    while (cap < c->out_len + len)
      cap *= 2;
    char *p = realloc(c->out, cap);
    if (!p) {
      c->failed = true;
      return;
    }
    c->out = p;
    c->out_cap = cap;
  }
  memcpy(c->out + c->out_len, line, len);
  c->out_len += len;
}

/* The session's one user is its client: the tool's action through it. */
static int on_act(void *user, vctl_control_action *a) {
  client *c = user;
  return c->srv->act(c->srv->user, a);
}

static void flush(client *c) {
  while (c->out_len && !c->failed) {
    ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      break;
    if (n <= 0) {
      c->failed = true;
      break;
    }
    memmove(c->out, c->out + n, c->out_len - (size_t)n);
    c->out_len -= (size_t)n;
  }
  if (!c->failed)
    bleak_source_set_io_events(c->w, BLEAK_IO_READ | (c->out_len ? BLEAK_IO_WRITE : 0));
}

static void on_client(bleak_source *src, int fd, uint32_t revents, void *user) {
  (void)src;
  client *c = user;
  control_srv *srv = c->srv;
  if (revents & BLEAK_IO_READ) {
    uint8_t buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
      return;
    if (n <= 0) {
      client_free(c);
      return;
    }
    vctl_control_input(c->session, buf, (size_t)n, bleak_loop_now_ms(srv->loop));
    srv->after(srv->user);
  } else if (revents & BLEAK_IO_ERROR) {
    client_free(c);
    return;
  }
  flush(c);
  if (c->failed)
    client_free(c);
}

static void on_listen(bleak_source *src, int fd, uint32_t revents, void *user) {
  (void)src;
  (void)revents;
  control_srv *srv = user;
  int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (cfd < 0)
    return;
  client *c = calloc(1, sizeof *c);
  if (c) {
    c->srv = srv;
    c->fd = cfd;
    c->session = vctl_control_new(srv->hub, on_reply, on_act, c);
  }
  if (!c || !c->session ||
      bleak_loop_add_io(srv->loop, cfd, BLEAK_IO_READ, on_client, c, &c->w)) {
    fprintf(stderr, "bleak-vctl: a control client refused (out of memory)\n");
    if (c)
      vctl_control_free(c->session);
    free(c);
    close(cfd);
    return;
  }
  c->next = srv->clients;
  srv->clients = c;
}

control_srv *control_srv_new(bleak_loop *loop, const char *path, vctl_control_hub *hub,
                             vctl_control_act_fn act, void (*after)(void *user), void *user) {
  control_srv *srv = calloc(1, sizeof *srv);
  if (!srv) {
    fprintf(stderr, "bleak-vctl: out of memory\n");
    return NULL;
  }
  *srv = (control_srv){.loop = loop, .path = path, .fd = -1, .hub = hub, .act = act,
                       .after = after, .user = user};
  srv->fd = listen_unix(path);
  if (srv->fd < 0) {
    free(srv);
    return NULL;
  }
  if (bleak_loop_add_io(loop, srv->fd, BLEAK_IO_READ, on_listen, srv, &srv->w)) {
    fprintf(stderr, "bleak-vctl: cannot watch the control socket\n");
    control_srv_free(srv);
    return NULL;
  }
  return srv;
}

void control_srv_free(control_srv *srv) {
  if (!srv)
    return;
  while (srv->clients)
    client_free(srv->clients);
  bleak_source_free(srv->w);
  if (srv->fd >= 0) {
    close(srv->fd);
    unlink(srv->path);
  }
  free(srv);
}
