/* SPDX-License-Identifier: MIT */
/* The ATT bearer, client side: see att_bearer.h. */
#include "backend/hci/att_bearer.h"

#include <stdlib.h>
#include <string.h>

#include "bleak/error.h"
#include "core/internal.h"

#define MOD "att"

struct bk_att_req {
  bk_qnode node; /* in bk_att.reqs */
  unsigned id;
  bk_att_rsp_fn cb; /* NULL once canceled */
  void *user;
  bool mtu_exchange;
  size_t len;
  uint8_t pdu[]; /* len bytes */
};

void bk_att_init(bk_att *a, const bk_att_ops *ops, void *owner, uint16_t local_mtu) {
  memset(a, 0, sizeof *a);
  bk_queue_init(&a->reqs);
  a->ops = ops;
  a->owner = owner;
  a->mtu = BK_ATT_DEFAULT_MTU;
  if (local_mtu < BK_ATT_DEFAULT_MTU)
    local_mtu = BK_ATT_DEFAULT_MTU;
  a->local_mtu = local_mtu > BK_ATT_MAX_MTU ? BK_ATT_MAX_MTU : local_mtu;
  a->next_id = 1;
  a->timeout_ms = BK_ATT_TIMEOUT_MS;
}

void bk_att_set_timeout(bk_att *a, uint32_t ms) { a->timeout_ms = ms ? ms : BK_ATT_TIMEOUT_MS; }

static bk_att_req *head(const bk_att *a) {
  return BK_QUEUE_ENTRY(bk_queue_head(&a->reqs), bk_att_req, node);
}

static bk_att_req *pop_head(bk_att *a) {
  bk_att_req *r = BK_QUEUE_ENTRY(bk_queue_pop(&a->reqs), bk_att_req, node);
  a->sent = false;
  a->deadline = 0;
  return r;
}

static void finish(bk_att *a, bk_att_req *r, int status, const bk_att_pdu *rsp) {
  if (r->cb)
    r->cb(r->user, status, rsp, a->now);
  free(r);
}

/* Send the head. It counts as sent (and its deadline runs) before the
 * owner's send is called, so that the owner, which looks at
 * bk_att_deadline() when it arms its timer, sees this request's. */
static int send_head(bk_att *a) {
  bk_att_req *r = head(a);
  a->sent = true;
  a->deadline = a->now + a->timeout_ms;
  int err = a->ops->send(a->owner, r->pdu, r->len);
  if (err) {
    a->sent = false;
    a->deadline = 0;
  }
  return err;
}

/* Send the head when the bearer is free. A send failure fails that request
 * and goes on with the next. */
static void kick(bk_att *a) {
  while (!a->dead && !bk_queue_empty(&a->reqs) && !a->sent) {
    if (!head(a)->cb) { /* canceled before it went out */
      free(pop_head(a));
      continue;
    }
    int err = send_head(a);
    if (err == 0)
      return;
    finish(a, pop_head(a), err, NULL);
  }
}

/* The clock only moves forward (two clocks a few ms apart change
 * nothing). */
static void advance(bk_att *a, uint64_t now) {
  if (now > a->now)
    a->now = now;
}

static int queue(bk_att *a, const uint8_t *pdu, size_t len, bk_att_rsp_fn cb, void *user,
                 uint64_t now, unsigned *id, bool mtu_exchange) {
  if (!a || !pdu || !len || !cb)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "ATT request: NULL or empty");
  if (a->dead)
    return bk_fail(BLEAK_ERR_NOT_CONNECTED, "ATT bearer is closed");
  if (len > a->mtu)
    return bk_fail(BLEAK_ERR_TOO_LONG, "ATT request of %zu bytes, MTU %u", len, a->mtu);
  advance(a, now);
  bk_att_req *r = malloc(sizeof *r + len);
  if (!r)
    return BLEAK_ERR_NO_MEMORY;
  memset(r, 0, sizeof *r);
  r->id = a->next_id++;
  if (a->next_id == 0)
    a->next_id = 1;
  r->cb = cb;
  r->user = user;
  r->mtu_exchange = mtu_exchange;
  r->len = len;
  memcpy(r->pdu, pdu, len);
  bk_queue_push(&a->reqs, &r->node);
  if (id)
    *id = r->id;
  if (r == head(a)) {
    /* The bearer is free: send now, and fail here rather than through
     * the callback, which must not run inside this call. */
    int err = send_head(a);
    if (err) {
      free(pop_head(a));
      return err;
    }
  }
  return 0;
}

int bk_att_request(bk_att *a, const uint8_t *pdu, size_t len, bk_att_rsp_fn cb, void *user,
                   uint64_t now, unsigned *id) {
  return queue(a, pdu, len, cb, user, now, id, false);
}

int bk_att_exchange_mtu(bk_att *a, bk_att_rsp_fn cb, void *user, uint64_t now) {
  uint8_t pdu[3] = {BK_ATT_MTU_REQ};
  bk_put_le16(pdu + 1, a->local_mtu);
  return queue(a, pdu, sizeof pdu, cb, user, now, NULL, true);
}

void bk_att_cancel(bk_att *a, unsigned id) {
  for (bk_qnode *n = bk_queue_head(&a->reqs); n; n = bk_qnode_next(n)) {
    bk_att_req *r = BK_QUEUE_ENTRY(n, bk_att_req, node);
    if (r->id != id)
      continue;
    if (r == head(a) && a->sent) {
      r->cb = NULL; /* its answer still frees the bearer */
      return;
    }
    bk_queue_remove(&a->reqs, n);
    free(r);
    return;
  }
}

int bk_att_command(bk_att *a, const uint8_t *pdu, size_t len) {
  if (a->dead)
    return bk_fail(BLEAK_ERR_NOT_CONNECTED, "ATT bearer is closed");
  if (len > a->mtu)
    return bk_fail(BLEAK_ERR_TOO_LONG, "ATT command of %zu bytes, MTU %u", len, a->mtu);
  return a->ops->send(a->owner, pdu, len);
}

/* Answers of a server without attributes (see the header). */
static void serve(bk_att *a, const uint8_t *pdu, size_t len) {
  uint8_t op = pdu[0];
  if (op & 0x40) /* a command: no answer */
    return;
  uint8_t rsp[5] = {BK_ATT_ERROR_RSP, op, 0, 0, 0x06 /* Request Not Supported */};
  switch (op) {
  case BK_ATT_MTU_REQ:
    if (len != 3)
      break;
    {
      uint16_t theirs = bk_get_le16(pdu + 1);
      uint16_t m = theirs < a->local_mtu ? theirs : a->local_mtu;
      if (m > a->mtu)
        a->mtu = m;
      uint8_t ok[3] = {BK_ATT_MTU_RSP};
      bk_put_le16(ok + 1, a->local_mtu);
      (void)a->ops->send(a->owner, ok, sizeof ok);
      return;
    }
  case BK_ATT_FIND_INFO_REQ:
  case BK_ATT_FIND_BY_TYPE_REQ:
  case BK_ATT_READ_BY_TYPE_REQ:
  case BK_ATT_READ_BY_GROUP_REQ:
    if (len >= 3)
      memcpy(rsp + 2, pdu + 1, 2);
    rsp[4] = 0x0a; /* Attribute Not Found */
    break;
  case BK_ATT_READ_REQ:
  case BK_ATT_READ_BLOB_REQ:
  case BK_ATT_WRITE_REQ:
  case BK_ATT_PREP_WRITE_REQ:
  case BK_ATT_READ_MULT_REQ:
  case BK_ATT_READ_MULT_VAR_REQ:
    if (len >= 3)
      memcpy(rsp + 2, pdu + 1, 2);
    rsp[4] = 0x01; /* Invalid Handle */
    break;
  case BK_ATT_EXEC_WRITE_REQ: {
    uint8_t ok = BK_ATT_EXEC_WRITE_RSP; /* nothing was prepared */
    (void)a->ops->send(a->owner, &ok, 1);
    return;
  }
  default:
    break;
  }
  (void)a->ops->send(a->owner, rsp, sizeof rsp);
}

static bool is_request(uint8_t op) {
  switch (op) {
  case BK_ATT_MTU_REQ: case BK_ATT_FIND_INFO_REQ: case BK_ATT_FIND_BY_TYPE_REQ:
  case BK_ATT_READ_BY_TYPE_REQ: case BK_ATT_READ_REQ: case BK_ATT_READ_BLOB_REQ:
  case BK_ATT_READ_MULT_REQ: case BK_ATT_READ_BY_GROUP_REQ: case BK_ATT_WRITE_REQ:
  case BK_ATT_PREP_WRITE_REQ: case BK_ATT_EXEC_WRITE_REQ: case BK_ATT_READ_MULT_VAR_REQ:
    return true;
  default:
    return (op & 0x40) != 0; /* a command (Write Command, Signed Write) */
  }
}

static bool is_response(uint8_t op) {
  switch (op) {
  case BK_ATT_ERROR_RSP: case BK_ATT_MTU_RSP: case BK_ATT_FIND_INFO_RSP:
  case BK_ATT_FIND_BY_TYPE_RSP: case BK_ATT_READ_BY_TYPE_RSP: case BK_ATT_READ_RSP:
  case BK_ATT_READ_BLOB_RSP: case BK_ATT_READ_MULT_RSP: case BK_ATT_READ_BY_GROUP_RSP:
  case BK_ATT_WRITE_RSP: case BK_ATT_PREP_WRITE_RSP: case BK_ATT_EXEC_WRITE_RSP:
  case BK_ATT_READ_MULT_VAR_RSP:
    return true;
  default:
    return false;
  }
}

static void dropped(bk_att *a, const uint8_t *pdu, size_t len, const char *why) {
  a->dropped++;
  BK_WARN(MOD, "dropped ATT PDU 0x%02x (%zu bytes): %s", len ? pdu[0] : 0, len, why);
}

void bk_att_recv(bk_att *a, const uint8_t *pdu, size_t len, uint64_t now) {
  advance(a, now);
  if (a->dead)
    return;
  if (len == 0) {
    dropped(a, pdu, len, "empty");
    return;
  }
  if (len > a->local_mtu) {
    /* Longer than either MTU allows: not something a server may send. */
    dropped(a, pdu, len, "longer than the MTU");
    return;
  }
  uint8_t op = pdu[0];
  if (is_request(op)) {
    serve(a, pdu, len);
    return;
  }
  bk_att_pdu p;
  int err = bk_att_parse(pdu, len, &p);
  if (op == BK_ATT_NOTIFICATION || op == BK_ATT_INDICATION) {
    if (err) {
      dropped(a, pdu, len, bleak_error_detail());
      return;
    }
    a->ops->value(a->owner, p.u.value.handle, p.u.value.value, p.u.value.len,
                  op == BK_ATT_INDICATION);
    if (op == BK_ATT_INDICATION && !a->dead) {
      uint8_t conf = BK_ATT_CONFIRMATION;
      (void)a->ops->send(a->owner, &conf, 1);
    }
    return;
  }
  if (op == BK_ATT_MULT_NOTIFICATION) {
    if (err) {
      dropped(a, pdu, len, bleak_error_detail());
      return;
    }
    size_t pos = 0;
    uint16_t h;
    const uint8_t *v;
    size_t vl;
    int r;
    while ((r = bk_att_tuple_next(&p, &pos, &h, &v, &vl)) == 1 && !a->dead)
      a->ops->value(a->owner, h, v, vl, false);
    if (r < 0)
      dropped(a, pdu, len, "a tuple runs past the end");
    return;
  }
  if (!is_response(op)) {
    dropped(a, pdu, len, "not a PDU a server sends");
    return;
  }
  /* A response: it must answer the outstanding request. */
  if (bk_queue_empty(&a->reqs) || !a->sent) {
    dropped(a, pdu, len, "a response with no request outstanding");
    return;
  }
  bk_att_req *r = head(a);
  uint8_t req_op = r->pdu[0];
  bool answers = (op == BK_ATT_ERROR_RSP && len >= 2 && pdu[1] == req_op) ||
                 op == (uint8_t)(req_op + 1);
  if (!answers) {
    /* Not ours: a confused or hostile server. The request fails; the
     * bearer goes on (its next answer may be right). */
    dropped(a, pdu, len, "does not answer the outstanding request");
    finish(a, pop_head(a),
           bk_fail(BLEAK_ERR_PROTOCOL, "ATT 0x%02x answers no request 0x%02x", op, req_op),
           NULL);
    kick(a);
    return;
  }
  pop_head(a);
  if (err) {
    dropped(a, pdu, len, bleak_error_detail());
    finish(a, r, BLEAK_ERR_PROTOCOL, NULL);
  } else if (op == BK_ATT_ERROR_RSP) {
    finish(a, r, BLEAK_ERR_ATT(p.u.error.code), &p);
  } else {
    if (r->mtu_exchange) {
      uint16_t m = p.u.mtu.mtu < a->local_mtu ? p.u.mtu.mtu : a->local_mtu;
      if (m > a->mtu)
        a->mtu = m;
    }
    finish(a, r, 0, &p);
  }
  kick(a);
}

uint64_t bk_att_deadline(const bk_att *a) { return a->dead || !a->sent ? 0 : a->deadline; }

static void fail_all(bk_att *a, int status) {
  bk_att_req *r;
  while ((r = pop_head(a)) != NULL)
    finish(a, r, status, NULL);
}

void bk_att_tick(bk_att *a, uint64_t now) {
  advance(a, now);
  if (a->dead || !a->sent || now < a->deadline)
    return;
  BK_WARN(MOD, "ATT request 0x%02x unanswered for %u ms: bearer closed", head(a)->pdu[0],
          (unsigned)a->timeout_ms);
  a->dead = true;
  fail_all(a, BLEAK_ERR_TIMEOUT);
  a->ops->timeout(a->owner);
}

void bk_att_close(bk_att *a, int status) {
  a->dead = true;
  fail_all(a, status);
}

size_t bk_att_pending(const bk_att *a) { return bk_queue_len(&a->reqs); }
