/* SPDX-License-Identifier: MIT */
/*
 * The interface between bleak/adapter.h's calls (src/core/adapter.c) and a
 * backend. The core owns the request: its options, its timeout, the list
 * it collects and the one delivery from the loop. A backend starts the
 * work, adds entries, and reports the end (from anywhere, start() too:
 * delivery waits for the loop).
 */
#ifndef BLEAK_CORE_ADAPTER_BACKEND_H
#define BLEAK_CORE_ADAPTER_BACKEND_H

#include "bleak/adapter.h"

typedef struct bk_adapter_req bk_adapter_req;

typedef struct bk_adapter_backend {
  /* Begin: list adapters, or (bk_adapter_req_devices()) known devices.
   * Return 0, or an error with which the request completes. */
  int (*start)(bk_adapter_req *r);
  /* Release what start() took: called once, from the loop, when the
   * request is delivered (also after its timeout; what the backend
   * reports after the end is ignored). */
  void (*release)(bk_adapter_req *r);
} bk_adapter_backend;

/* Is @p r a known-devices request (else: adapters)? */
bool bk_adapter_req_devices(const bk_adapter_req *r);
/* The request's options (strings owned by the request) and loop. */
const bleak_adapter_options *bk_adapter_req_options(const bk_adapter_req *r);
/* Room for the backend's own pointer (NULL at start). */
void **bk_adapter_req_state(bk_adapter_req *r);
/* Add an entry. Errors: NO_MEMORY (the backend then ends the request). */
int bk_adapter_req_add(bk_adapter_req *r, const bleak_adapter_info *a);
int bk_adapter_req_add_device(bk_adapter_req *r, const bleak_known_device *d);
/* The end (once; not after abort). Delivered from the loop. */
void bk_adapter_req_done(bk_adapter_req *r, int status);

const bk_adapter_backend *bk_adapter_backend_for(bleak_backend_kind kind);

#endif /* BLEAK_CORE_ADAPTER_BACKEND_H */
