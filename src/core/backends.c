/* SPDX-License-Identifier: MIT */
/* Which backends are built in, and BLEAK_BACKEND. */
#include <stdlib.h>
#include <string.h>

#include "core/adapter_backend.h"
#include "core/backend.h"
#include "core/internal.h"
#include "core/scanner_backend.h"
#ifdef BLEAK_WITH_BLUEZ
#include "backend/bluez/bluez.h"
#endif
#include "backend/hci/hci.h"


const bk_client_backend *bk_client_backend_for(bleak_backend_kind kind) {
  if (kind == BLEAK_BACKEND_AUTO) {
    const char *env = getenv("BLEAK_BACKEND");
    if (env && !strcmp(env, "hci"))
      kind = BLEAK_BACKEND_HCI;
    else if (env && *env && strcmp(env, "bluez") != 0) {
      bk_fail(BLEAK_ERR_NO_BACKEND, "BLEAK_BACKEND=%.20s: not a backend (bluez, hci)", env);
      return NULL;
    } else
      kind = BLEAK_BACKEND_BLUEZ;
  }
  switch (kind) {
  case BLEAK_BACKEND_BLUEZ:
#ifdef BLEAK_WITH_BLUEZ
    return &bk_bluez_client_backend;
#else
    bk_fail(BLEAK_ERR_NO_BACKEND, "built without the bluez backend");
    return NULL;
#endif
  case BLEAK_BACKEND_HCI:
    return &bk_hci_client_backend;
  default:
    bk_fail(BLEAK_ERR_NO_BACKEND, "unknown backend %d", (int)kind);
    return NULL;
  }
}

const bk_scanner_backend *bk_scanner_backend_for(bleak_backend_kind kind) {
  /* Same choice as for clients. */
  const bk_client_backend *c = bk_client_backend_for(kind);
  if (!c)
    return NULL;
#ifdef BLEAK_WITH_BLUEZ
  if (c == &bk_bluez_client_backend)
    return &bk_bluez_scanner_backend;
#endif
  if (c == &bk_hci_client_backend)
    return &bk_hci_scanner_backend;
  bk_fail(BLEAK_ERR_NO_BACKEND, "no scanner for backend %s", c->name);
  return NULL;
}

const bk_adapter_backend *bk_adapter_backend_for(bleak_backend_kind kind) {
  const bk_client_backend *c = bk_client_backend_for(kind);
  if (!c)
    return NULL;
  if (c == &bk_hci_client_backend)
    return &bk_hci_adapter_backend;
#ifdef BLEAK_WITH_BLUEZ
  if (c == &bk_bluez_client_backend)
    return &bk_bluez_adapter_backend;
#endif
  bk_fail(BLEAK_ERR_NO_BACKEND, "the %s backend cannot list adapters yet", c->name);
  return NULL;
}
