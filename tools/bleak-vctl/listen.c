/* SPDX-License-Identifier: MIT */
/* A listening unix socket: see listen.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"

int listen_unix(const char *path) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  char tmp[sizeof sa.sun_path];
  if (!*path || snprintf(tmp, sizeof tmp, "%s.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
    fprintf(stderr, "bleak-vctl: %s: socket path too long\n", path);
    return -1;
  }
  strcpy(sa.sun_path, tmp);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  unlink(tmp);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 4) ||
      rename(tmp, path)) {
    fprintf(stderr, "bleak-vctl: listen on %s: %s\n", path, strerror(errno));
    if (fd >= 0)
      close(fd);
    unlink(tmp);
    return -1;
  }
  return fd;
}
