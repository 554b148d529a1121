/* SPDX-License-Identifier: MIT */
/*
 * The ATT bearer of one LE link (Core Vol 3 Part F 3.3), client side,
 * sans-I/O: PDUs and time in, PDUs (through ops->send), responses,
 * notifications and the next deadline out.
 *
 * - One request outstanding at a time; the rest wait in order (on the
 *   library's one FIFO, core/queue.h).
 * - A request unanswered for 30 s ends the bearer (3.3.3): every request
 *   fails with BLEAK_ERR_TIMEOUT, nothing more is sent, and ops->timeout
 *   tells the owner to drop the link. (The 30 s can be shortened for
 *   tests: bk_att_set_timeout, the client option att_timeout_ms.)
 * - Indications are confirmed after ops->value returns; notifications need
 *   nothing. Neither allocates.
 * - Requests a peer's client sends to us get the answers of a server with
 *   no attributes (MTU exchange answered; discovery: Attribute Not Found;
 *   anything else: Request Not Supported or Invalid Handle): this is a
 *   client, but BlueZ's peripheral discovers us too.
 */
#ifndef BLEAK_HCI_ATT_BEARER_H
#define BLEAK_HCI_ATT_BEARER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/hci/att_pdu.h"
#include "core/queue.h"

#define BK_ATT_DEFAULT_MTU 23
#define BK_ATT_MAX_MTU 517
#define BK_ATT_TIMEOUT_MS 30000

/* The result of a request: status 0 with the response (its opcode is the
 * one the request expects), BLEAK_ERR_ATT(code) with the Error Response in
 * @p rsp, BLEAK_ERR_PROTOCOL (a malformed or unexpected answer: the bearer
 * goes on), BLEAK_ERR_TIMEOUT, BLEAK_ERR_DISCONNECTED (bearer closed).
 * @p rsp is NULL unless status is 0 or an ATT error; it is valid during
 * the call only. @p now is the time of the entry point that runs the
 * callback (bk_att_recv's, bk_att_tick's; for bk_att_close, the latest the
 * bearer was given): a procedure that goes on queues its next request
 * with it. Called exactly once per request, never from inside
 * bk_att_request(). */
typedef void (*bk_att_rsp_fn)(void *user, int status, const bk_att_pdu *rsp, uint64_t now);

typedef struct bk_att_ops {
  /* Send one PDU on the ATT channel. Return 0 or an error (the bearer
   * then fails what the PDU was for). */
  int (*send)(void *owner, const uint8_t *pdu, size_t len);
  /* A Handle Value Notification or Indication (a Multiple Handle Value
   * Notification arrives as one call per value). */
  void (*value)(void *owner, uint16_t handle, const uint8_t *value, size_t len, bool indication);
  /* The transaction timer expired: the bearer is dead, drop the link. */
  void (*timeout)(void *owner);
} bk_att_ops;

typedef struct bk_att_req bk_att_req;

typedef struct bk_att {
  const bk_att_ops *ops;
  void *owner;
  uint16_t mtu;       /* negotiated, 23 until the exchange */
  uint16_t local_mtu; /* what we ask for and accept */
  bk_queue reqs;      /* of bk_att_req, in order; the head is the one
                       * outstanding once sent */
  bool sent;          /* head is on the air */
  bool dead;          /* timed out or closed */
  uint64_t deadline;  /* of the outstanding request; 0: none */
  uint32_t timeout_ms; /* a request's time to be answered: BK_ATT_TIMEOUT_MS */
  uint64_t now;       /* the latest time an entry point was given: the
                       * clock of requests sent from inside one */
  unsigned next_id;
  unsigned long dropped; /* malformed or unexpected PDUs */
} bk_att;

void bk_att_init(bk_att *a, const bk_att_ops *ops, void *owner, uint16_t local_mtu);
/* The transaction timeout (ms) of requests sent from now on; 0: the
 * spec's BK_ATT_TIMEOUT_MS. */
void bk_att_set_timeout(bk_att *a, uint32_t ms);

/*
 * Queue a request (@p pdu copied; at most the MTU). @p now (the caller's
 * clock, ms) starts its 30 s when the bearer is free to send it at once;
 * time is given with every call that may send, never kept for later by
 * the caller. @p id (may be NULL)
 * receives a non-zero id for bk_att_cancel(). @return 0; BLEAK_ERR_TOO_LONG
 * (longer than the MTU), BLEAK_ERR_NOT_CONNECTED (bearer dead),
 * BLEAK_ERR_NO_MEMORY, BLEAK_ERR_INVALID_ARG. Sending may fail later: the
 * callback then gets the error.
 */
int bk_att_request(bk_att *a, const uint8_t *pdu, size_t len, bk_att_rsp_fn cb, void *user,
                   uint64_t now, unsigned *id);

/* Forget request @p id: its callback never runs. A request already sent
 * still holds the bearer until its answer (or the timeout) comes. */
void bk_att_cancel(bk_att *a, unsigned id);

/* Send a command (Write Command): no answer, not queued behind requests.
 * @return 0, TOO_LONG, NOT_CONNECTED, or the send error. */
int bk_att_command(bk_att *a, const uint8_t *pdu, size_t len);

/* A PDU from the peer. Never fails: malformed PDUs are logged, counted,
 * and fail the outstanding request when they were its answer. */
void bk_att_recv(bk_att *a, const uint8_t *pdu, size_t len, uint64_t now);

/* The time (ms, the caller's clock) bk_att_tick() wants, 0: none. */
uint64_t bk_att_deadline(const bk_att *a);
void bk_att_tick(bk_att *a, uint64_t now);

/* Exchange MTU (asks for local_mtu); @p cb as for requests. The bearer's
 * mtu is updated before @p cb runs. */
int bk_att_exchange_mtu(bk_att *a, bk_att_rsp_fn cb, void *user, uint64_t now);

/* The link is gone: every request fails with @p status (callbacks run),
 * nothing more is sent. Safe to call twice. */
void bk_att_close(bk_att *a, int status);

/* Requests queued or outstanding (tests check none is left). */
size_t bk_att_pending(const bk_att *a);

#endif
