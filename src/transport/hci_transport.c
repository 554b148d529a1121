/* SPDX-License-Identifier: MIT */
/* Opening the hci backend's controller transport: see hci_transport.h. */
#include "transport/hci_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "bleak/error.h"
#include "core/internal.h"

/* The kernel's HCI socket ABI (include/net/bluetooth/hci_sock.h); defined
 * here so that building needs no BlueZ headers. */
#ifndef AF_BLUETOOTH
#define AF_BLUETOOTH 31
#endif
#define BK_BTPROTO_HCI 1
#define BK_HCI_CHANNEL_USER 1
struct bk_sockaddr_hci {
  sa_family_t hci_family;
  unsigned short hci_dev;
  unsigned short hci_channel;
};

static int errno_error(int e, const char *what, const char *spec) {
  int code = BLEAK_ERR_IO;
  if (e == ENOENT || e == ENODEV || e == ECONNREFUSED)
    code = BLEAK_ERR_NOT_FOUND;
  else if (e == EBUSY || e == EALREADY)
    code = BLEAK_ERR_BUSY;
  return bk_fail(code, "%s %s: %s", what, spec, strerror(e));
}

static int open_unix(const char *path) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sa.sun_path || !*path)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "unix:%s: bad socket path", path);
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return errno_error(errno, "socket for", path);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int e = errno;
    close(fd);
    return errno_error(e, "connect to", path);
  }
  return fd;
}

static int open_tcp(const char *hostport) {
  char host[256];
  const char *colon = strrchr(hostport, ':');
  if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof host || !colon[1])
    return bk_fail(BLEAK_ERR_INVALID_ARG, "tcp:%s: expected tcp:HOST:PORT", hostport);
  memcpy(host, hostport, (size_t)(colon - hostport));
  host[colon - hostport] = '\0';
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  int r = getaddrinfo(host, colon + 1, &hints, &res);
  if (r != 0)
    return bk_fail(BLEAK_ERR_NOT_FOUND, "tcp:%s: %s", hostport, gai_strerror(r));
  int fd = -1, e = ECONNREFUSED;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      e = errno;
      continue;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
      break;
    e = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0)
    return errno_error(e, "connect to", hostport);
  return fd;
}

static speed_t baud_of(long b) {
  switch (b) {
  case 9600: return B9600;
  case 19200: return B19200;
  case 38400: return B38400;
  case 57600: return B57600;
  case 115200: return B115200;
  case 230400: return B230400;
  case 460800: return B460800;
  case 500000: return B500000;
  case 921600: return B921600;
  case 1000000: return B1000000;
  case 1500000: return B1500000;
  case 2000000: return B2000000;
  case 3000000: return B3000000;
  default: return 0;
  }
}

static int open_tty(const char *arg) {
  char dev[256];
  long baud = 115200;
  bool rtscts = true;
  const char *c1 = strchr(arg, ':');
  size_t dl = c1 ? (size_t)(c1 - arg) : strlen(arg);
  if (dl == 0 || dl >= sizeof dev)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "tty:%s: expected tty:DEVICE[:BAUD[:FLOW]]", arg);
  memcpy(dev, arg, dl);
  dev[dl] = '\0';
  if (c1) {
    char *end;
    baud = strtol(c1 + 1, &end, 10);
    if (*end == ':') {
      if (!strcmp(end + 1, "none"))
        rtscts = false;
      else if (strcmp(end + 1, "rtscts") != 0)
        return bk_fail(BLEAK_ERR_INVALID_ARG, "tty:%s: flow control is rtscts or none", arg);
    } else if (*end) {
      return bk_fail(BLEAK_ERR_INVALID_ARG, "tty:%s: bad baud rate", arg);
    }
  }
  speed_t sp = baud_of(baud);
  if (!sp)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "tty:%s: unsupported baud rate %ld", arg, baud);
  int fd = open(dev, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return errno_error(errno, "open", dev);
  struct termios t;
  if (tcgetattr(fd, &t) < 0) {
    int e = errno;
    close(fd);
    return errno_error(e, "not a tty:", dev);
  }
  cfmakeraw(&t);
  cfsetispeed(&t, sp);
  cfsetospeed(&t, sp);
  t.c_cflag |= CLOCAL | CREAD;
  if (rtscts)
    t.c_cflag |= CRTSCTS;
  else
    t.c_cflag &= ~(tcflag_t)CRTSCTS;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  if (tcsetattr(fd, TCSANOW, &t) < 0) {
    int e = errno;
    close(fd);
    return errno_error(e, "configure", dev);
  }
  tcflush(fd, TCIOFLUSH);
  return fd;
}

/* The user channel's failures that mean "Bluetooth is not available",
 * each with its reason (bleak/error.h); others as errno_error(). */
static int user_channel_error(int e, const char *what, const char *spec) {
  if (e == EAFNOSUPPORT || e == ENODEV)
    return bk_fail(BLEAK_ERR_NO_ADAPTER, "%s %s: %s (no such controller%s)", what, spec,
                   strerror(e), e == EAFNOSUPPORT ? ": no Bluetooth in this kernel" : "");
  if (e == EPERM || e == EACCES)
    return bk_fail(BLEAK_ERR_PERMISSION,
                   "%s %s: %s (the HCI user channel needs CAP_NET_ADMIN: run as root, "
                   "or setcap cap_net_admin+ep on the program)", what, spec, strerror(e));
  if (e == ERFKILL)
    return bk_fail(BLEAK_ERR_RFKILL, "%s %s: blocked by rfkill (rfkill unblock bluetooth)",
                   what, spec);
  return errno_error(e, what, spec);
}

static int open_user_channel(const char *spec) {
  char *end;
  long idx = strtol(spec + 3, &end, 10);
  if (end == spec + 3 || *end || idx < 0 || idx > 0xfffe)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "%s: expected hciN", spec);
  int fd = socket(AF_BLUETOOTH, SOCK_RAW | SOCK_CLOEXEC, BK_BTPROTO_HCI);
  if (fd < 0)
    return user_channel_error(errno, "HCI socket for", spec);
  struct bk_sockaddr_hci sa;
  memset(&sa, 0, sizeof sa);
  sa.hci_family = AF_BLUETOOTH;
  sa.hci_dev = (unsigned short)idx;
  sa.hci_channel = BK_HCI_CHANNEL_USER;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int e = errno;
    close(fd);
    if (e == EBUSY || e == EALREADY)
      return bk_fail(BLEAK_ERR_BUSY,
                     "%s is up or held by bluetoothd: power it off first (btmgmt --index %ld "
                     "power off)", spec, idx);
    return user_channel_error(e, "user channel of", spec);
  }
  return fd;
}

int bk_hci_transport_open(const char *spec, bk_hci_transport_kind *kind) {
  if (!spec || !*spec)
    return bk_fail(BLEAK_ERR_INVALID_ARG,
                   "no HCI transport: set hci_transport or BLEAK_HCI (unix:PATH, tcp:HOST:PORT, "
                   "tty:DEV[:BAUD], hciN)");
  int fd;
  bk_hci_transport_kind k;
  if (!strncmp(spec, "unix:", 5)) {
    k = BK_HCI_TRANSPORT_UNIX;
    fd = open_unix(spec + 5);
  } else if (!strncmp(spec, "tcp:", 4)) {
    k = BK_HCI_TRANSPORT_TCP;
    fd = open_tcp(spec + 4);
  } else if (!strncmp(spec, "tty:", 4)) {
    k = BK_HCI_TRANSPORT_TTY;
    fd = open_tty(spec + 4);
  } else if (!strncmp(spec, "hci", 3)) {
    k = BK_HCI_TRANSPORT_USER_CHANNEL;
    fd = open_user_channel(spec);
  } else {
    return bk_fail(BLEAK_ERR_INVALID_ARG,
                   "%.64s: not an HCI transport (unix:PATH, tcp:HOST:PORT, tty:DEV[:BAUD], hciN)",
                   spec);
  }
  if (fd < 0)
    return fd;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    int e = errno;
    close(fd);
    return errno_error(e, "non-blocking", spec);
  }
  if (kind)
    *kind = k;
  return fd;
}
