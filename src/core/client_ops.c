/* SPDX-License-Identifier: MIT */
/*
 * The attribute operations (read, write, notify, descriptors) and pairing:
 * the checks Bleak makes before a call (which write mode, which sizes, is
 * it this client's characteristic), then an op started on the backend.
 * Their blocking twins are in blocking.c.
 */
#include <stdlib.h>
#include <string.h>

#include "core/client_priv.h"
#include "core/internal.h"

static int start_read(bleak_client *c, bk_op_kind kind,
                      const bleak_gatt_characteristic *ch,
                      const bleak_gatt_descriptor *d,
                      const bleak_read_options *opts, bleak_read_fn cb,
                      void *user) {
  if (!cb)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "read: callback is NULL");
  bk_op *op = bk_op_new_for(c, kind, ch, d, NULL, cb, user);
  if (!op)
    return BLEAK_ERR_NO_MEMORY;
  op->use_cached = opts && opts->use_cached;
  if (op->use_cached && !c->be->caches_values)
    return bk_op_start_cached(c, op);
  return bk_op_start(c, op, 0);
}

int bleak_client_read_gatt_char_opts_async(bleak_client *c,
                                           const bleak_gatt_characteristic *ch,
                                           const bleak_read_options *opts,
                                           bleak_read_fn cb, void *user) {
  int r = bk_client_check_char(c, &ch);
  return r < 0 ? r : start_read(c, BK_OP_READ_CHAR, ch, NULL, opts, cb, user);
}

int bleak_client_read_gatt_char_async(bleak_client *c,
                                      const bleak_gatt_characteristic *ch,
                                      bleak_read_fn cb, void *user) {
  return bleak_client_read_gatt_char_opts_async(c, ch, NULL, cb, user);
}

static int start_write(bleak_client *c, bk_op_kind kind,
                       const bleak_gatt_characteristic *ch,
                       const bleak_gatt_descriptor *d, const uint8_t *data,
                       size_t len, bool with_response, bleak_done_fn cb,
                       void *user) {
  if (!cb || (!data && len))
    return bk_fail(BLEAK_ERR_INVALID_ARG, "write: NULL argument");
  if (len > BLEAK_MAX_ATTR_VALUE)
    return bk_fail(BLEAK_ERR_TOO_LONG, "value of %zu bytes: at most %d", len,
                   BLEAK_MAX_ATTR_VALUE);
  bk_op *op = bk_op_new_for(c, kind, ch, d, cb, NULL, user);
  if (op && len && !(op->data = malloc(len))) {
    bk_op_free(op);
    op = NULL;
  }
  if (!op)
    return BLEAK_ERR_NO_MEMORY;
  if (len)
    memcpy(op->data, data, len);
  op->len = len;
  op->with_response = with_response;
  return bk_op_start(c, op, 0);
}

int bleak_client_write_gatt_char_async(bleak_client *c,
                                       const bleak_gatt_characteristic *ch,
                                       const uint8_t *data, size_t len,
                                       bleak_write_mode mode, bleak_done_fn cb,
                                       void *user) {
  int r = bk_client_check_char(c, &ch);
  if (r < 0)
    return r;
  uint32_t props = bleak_gatt_characteristic_properties(ch);
  bool with_response;
  switch (mode) {
  case BLEAK_WRITE_AUTO:
    /* Bleak: response = "write" in properties. */
    with_response = (props & BLEAK_GATT_PROP_WRITE) ||
                    !(props & BLEAK_GATT_PROP_WRITE_WITHOUT_RESPONSE);
    break;
  case BLEAK_WRITE_WITH_RESPONSE:
    with_response = true;
    break;
  case BLEAK_WRITE_WITHOUT_RESPONSE:
    with_response = false;
    break;
  default:
    return bk_fail(BLEAK_ERR_INVALID_ARG, "unknown write mode %d", (int)mode);
  }
  /* A Write Command to a characteristic that does not take one would be
   * dropped by the peer without a word: refuse it here. (A Write Request
   * the peer does not allow comes back as an ATT error, which says why.) */
  if (!with_response && !(props & BLEAK_GATT_PROP_WRITE_WITHOUT_RESPONSE))
    return bk_fail(BLEAK_ERR_NOT_SUPPORTED,
                   "characteristic 0x%04x does not take writes without response",
                   bleak_gatt_characteristic_handle(ch));
  if (!with_response) {
    size_t max = bleak_gatt_characteristic_max_write_without_response_size(ch);
    if (len > max)
      return bk_fail(BLEAK_ERR_TOO_LONG,
                     "write without response of %zu bytes: at most %zu "
                     "(max_write_without_response_size)",
                     len, max);
  }
  return start_write(c, BK_OP_WRITE_CHAR, ch, NULL, data, len, with_response,
                     cb, user);
}

int bleak_client_start_notify_async(bleak_client *c,
                                    const bleak_gatt_characteristic *ch,
                                    bleak_notify_fn cb, void *notify_user,
                                    bleak_done_fn done, void *done_user) {
  return bleak_client_start_notify_opts_async(c, ch, NULL, cb, notify_user, done, done_user);
}

int bleak_client_start_notify_opts_async(bleak_client *c,
                                         const bleak_gatt_characteristic *ch,
                                         const bleak_notify_options *opts,
                                         bleak_notify_fn cb, void *notify_user,
                                         bleak_done_fn done, void *done_user) {
  int r = bk_client_check_char(c, &ch);
  if (r < 0)
    return r;
  if (!cb || !done)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "start_notify: NULL callback");
  uint32_t props = bleak_gatt_characteristic_properties(ch);
  if (!(props & (BLEAK_GATT_PROP_NOTIFY | BLEAK_GATT_PROP_INDICATE)))
    return bk_fail(BLEAK_ERR_NOT_SUPPORTED,
                   "characteristic 0x%04x has neither notify nor indicate",
                   bleak_gatt_characteristic_handle(ch));
  if (bk_sub_find(c, ch))
    return bk_fail(BLEAK_ERR_ALREADY,
                   "characteristic 0x%04x is subscribed already",
                   bleak_gatt_characteristic_handle(ch));
  subscription *s = calloc(1, sizeof *s);
  bk_op *op = bk_op_new_for(c, BK_OP_START_NOTIFY, ch, NULL, done, NULL, done_user);
  if (!s || !op) {
    free(s);
    if (op)
      bk_op_free(op);
    return BLEAK_ERR_NO_MEMORY;
  }
  s->ch = ch;
  s->cb = cb;
  s->user_data = notify_user;
  bk_queue_push(&c->subs, &s->node);
  op->indicate = !(props & BLEAK_GATT_PROP_NOTIFY);
  op->use_start_notify = opts && opts->use_start_notify;
  return bk_op_start(c, op, 0);
}

int bleak_client_stop_notify_async(bleak_client *c,
                                   const bleak_gatt_characteristic *ch,
                                   bleak_done_fn cb, void *user) {
  int r = bk_client_check_char(c, &ch);
  if (r < 0)
    return r;
  if (!cb)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "stop_notify: NULL callback");
  subscription *s = bk_sub_find(c, ch);
  if (!s || s->stopping)
    return bk_fail(BLEAK_ERR_NOT_FOUND, "characteristic 0x%04x is not subscribed",
                   bleak_gatt_characteristic_handle(ch));
  bk_op *op = bk_op_new_for(c, BK_OP_STOP_NOTIFY, ch, NULL, cb, NULL, user);
  if (!op)
    return BLEAK_ERR_NO_MEMORY;
  s->stopping = true; /* no value callback from now on */
  return bk_op_start(c, op, 0);
}

int bleak_client_read_gatt_descriptor_opts_async(bleak_client *c,
                                                 const bleak_gatt_descriptor *d,
                                                 const bleak_read_options *opts,
                                                 bleak_read_fn cb, void *user) {
  int r = bk_client_check_desc(c, &d);
  return r < 0 ? r : start_read(c, BK_OP_READ_DESC, NULL, d, opts, cb, user);
}

int bleak_client_read_gatt_descriptor_async(bleak_client *c,
                                            const bleak_gatt_descriptor *d,
                                            bleak_read_fn cb, void *user) {
  return bleak_client_read_gatt_descriptor_opts_async(c, d, NULL, cb, user);
}

int bleak_client_write_gatt_descriptor_async(bleak_client *c,
                                             const bleak_gatt_descriptor *d,
                                             const uint8_t *data, size_t len,
                                             bleak_done_fn cb, void *user) {
  int r = bk_client_check_desc(c, &d);
  if (r < 0)
    return r;
  /* Bleak 3.0: the CCCD belongs to start_notify/stop_notify. A write of it
   * behind their back would leave the backend (BlueZ's notify session, our
   * subscription table) believing the opposite of the peer. */
  uint16_t u16;
  if (bleak_uuid_is_16bit(bleak_gatt_descriptor_uuid(d), &u16) && u16 == 0x2902)
    return bk_fail(BLEAK_ERR_INVALID_ARG,
                   "descriptor 0x%04x is the Client Characteristic Configuration "
                   "(0x2902): use start_notify/stop_notify instead of writing it",
                   bleak_gatt_descriptor_handle(d));
  return start_write(c, BK_OP_WRITE_DESC, NULL, d, data, len, true, cb, user);
}

/* ---- pairing ---- */

static int start_simple(bleak_client *c, bk_op_kind kind, bleak_done_fn cb,
                        void *user) {
  int r = bk_client_usable(c);
  if (r < 0)
    return r;
  if (!cb)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "NULL argument");
  if (c->state != BK_CONN_CONNECTED && kind == BK_OP_PAIR)
    return bk_fail(BLEAK_ERR_NOT_CONNECTED, "%s: not connected", c->address);
  bk_op *op = bk_op_new_for(c, kind, NULL, NULL, cb, NULL, user);
  return op ? bk_op_start(c, op, 0) : BLEAK_ERR_NO_MEMORY;
}

int bleak_client_pair_async(bleak_client *c, bleak_done_fn cb, void *user) {
  return start_simple(c, BK_OP_PAIR, cb, user);
}

int bleak_client_unpair_async(bleak_client *c, bleak_done_fn cb, void *user) {
  return start_simple(c, BK_OP_UNPAIR, cb, user);
}

