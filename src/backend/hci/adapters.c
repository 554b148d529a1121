/* SPDX-License-Identifier: MIT */
/*
 * bleak/adapter.h on the hci backend: the controller of the transport in
 * its own words (its address once our host has initialised it), and the
 * bonds made with that address as the known devices: a controller keeps
 * no list of the devices it knows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/hci/controller.h"
#include "backend/hci/hci.h"
#include "bleak/bonds.h"
#include "core/adapter_backend.h"
#include "core/internal.h"

typedef struct ha {
  bk_ctrl_user user; /* first: the controller's callbacks get it */
  bk_adapter_req *req;
  bool acquired;
  char spec[64];
} ha;

/* The bonds made with @p local: paired, bonded, not connected (a link of
 * another process is not ours to know). */
static int add_bonds(bk_adapter_req *r, const char *local, const char *spec) {
  bleak_bond_info *bonds = NULL;
  size_t n = 0;
  int e = bleak_bonds_list(bk_adapter_req_options(r)->bond_dir, &bonds, &n, NULL);
  for (size_t i = 0; e == 0 && i < n; i++) {
    if (strcmp(bonds[i].local, local))
      continue;
    bleak_known_device d = {.paired = true, .bonded = true};
    snprintf(d.address, sizeof d.address, "%s", bonds[i].peer);
    snprintf(d.adapter, sizeof d.adapter, "%s", spec);
    e = bk_adapter_req_add_device(r, &d);
  }
  free(bonds);
  return e;
}

static void on_ready(bk_ctrl_user *u, int status) {
  ha *h = (ha *)u;
  bk_adapter_req *r = h->req;
  if (status < 0) {
    bk_adapter_req_done(r, status);
    return;
  }
  uint8_t addr[6], type;
  char local[18];
  bk_ctrl_user_local_address(u, addr, &type);
  bk_hci_format_address(addr, local);
  int e;
  if (bk_adapter_req_devices(r)) {
    e = add_bonds(r, local, h->spec);
  } else {
    bleak_adapter_info a = {.powered = true}; /* our host brought it up */
    snprintf(a.name, sizeof a.name, "%s", h->spec);
    snprintf(a.address, sizeof a.address, "%s", local);
    e = bk_adapter_req_add(r, &a);
  }
  bk_adapter_req_done(r, e);
}

static void on_lost(bk_ctrl_user *u, int err) {
  ha *h = (ha *)u;
  bk_adapter_req_done(h->req, err < 0 ? err : BLEAK_ERR_IO);
}

static const bk_ctrl_user_ops ops = {.ready = on_ready, .lost = on_lost};

static int ha_start(bk_adapter_req *r) {
  const bleak_adapter_options *o = bk_adapter_req_options(r);
  const char *spec = bk_hci_transport_spec(o->hci_transport);
  if (!spec)
    return BLEAK_ERR_NO_ADAPTER; /* neither the option nor $BLEAK_HCI: detail set */
  ha *h = calloc(1, sizeof *h);
  if (!h)
    return BLEAK_ERR_NO_MEMORY;
  h->req = r;
  h->user.ops = &ops;
  snprintf(h->spec, sizeof h->spec, "%s", spec);
  *bk_adapter_req_state(r) = h;
  int e = bk_ctrl_acquire(o->loop, spec, &h->user);
  if (e < 0)
    return e;
  h->acquired = true;
  return 0;
}

static void ha_release(bk_adapter_req *r) {
  ha *h = *bk_adapter_req_state(r);
  if (!h)
    return;
  if (h->acquired)
    bk_ctrl_release(&h->user);
  free(h);
}

const bk_adapter_backend bk_hci_adapter_backend = {.start = ha_start, .release = ha_release};
