/* SPDX-License-Identifier: MIT */
/*
 * A fake SMP peer for the tests and the fuzz target: an honest peripheral
 * (responder) that answers the central's PDUs by the spec's text, with the
 * functions of smp_crypto.h (checked against the spec's sample data on
 * their own). It is written apart from the engine: it is told its
 * association model rather than working it out, so a wrong table in the
 * engine shows as a disagreement.
 *
 * Answers queue in out[]; the caller takes them (and may tamper with them)
 * before they reach the engine. A check the peer finds wrong makes it send
 * Pairing Failed and note the reason in failed.
 */
#ifndef BLEAK_TEST_SMP_PEER_H
#define BLEAK_TEST_SMP_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/hci/smp_crypto.h"

typedef enum smp_peer_method {
  PEER_JUST_WORKS,
  PEER_PASSKEY, /* either side shows, the other types: the same passkey */
  PEER_NUMERIC,
  PEER_OOB,
} smp_peer_method;

#define SMP_PEER_MAX_OUT 16

typedef struct smp_peer {
  /* Set by the test (smp_peer_init gives defaults). */
  uint8_t io_cap, oob_flag, auth_req, max_key_size;
  uint8_t init_dist_mask, resp_dist_mask; /* of what the request asks */
  bk_smp_addr central, self;              /* A (initiator) and B */
  smp_peer_method method;
  uint32_t passkey;
  uint8_t oob_tk[16];                 /* legacy OOB */
  bool has_central_oob;               /* SC OOB: the central's r, C */
  uint8_t central_r[16], central_c[16];
  uint8_t own_r[16];                  /* SC OOB: the r it handed out */
  bk_smp_p256 key;
  /* Its keys to distribute. */
  uint8_t ltk[16], rand[8], irk[16], csrk[16];
  uint16_t ediv;
  bk_smp_addr identity;

  /* What happened. */
  uint8_t preq[7], pres[7];
  bool sc;
  uint8_t key_size;
  uint8_t pka[64], dhkey[32];
  uint8_t na[16], nb[16], ca[16], cb[16];
  int round;            /* SC passkey rounds done */
  uint32_t shown;       /* numeric comparison: the six digits it shows */
  uint8_t stk[16];      /* legacy */
  uint8_t sc_ltk[16];   /* SC, masked to the key size */
  uint8_t failed;       /* the reason of a Pairing Failed it sent */
  uint8_t got_failed;   /* the reason of one it received */
  /* The central's keys it received. */
  bool got_ltk, got_irk, got_csrk;
  uint8_t central_ltk[16], central_rand[8], central_irk[16], central_csrk[16];
  uint16_t central_ediv;
  bk_smp_addr central_identity;
  int keys_received;

  uint8_t out[SMP_PEER_MAX_OUT][65];
  size_t out_len[SMP_PEER_MAX_OUT];
  int n_out;
  uint32_t rng;
} smp_peer;

/* Defaults: NoInputNoOutput, no OOB, bonding + SC, key 16, every key
 * distribution it is asked for, the sample data's private key B, its own
 * keys from a fixed pattern. */
void smp_peer_init(smp_peer *p);

/* One PDU from the central. @return 0, or -1 for a PDU it did not expect
 * (it then ignores it). */
int smp_peer_recv(smp_peer *p, const uint8_t *pdu, size_t len);

/* The link is encrypted: its key distribution, in the spec's order. */
void smp_peer_send_keys(smp_peer *p);

/* Take the oldest queued answer: @return its length, 0 when none. */
size_t smp_peer_take(smp_peer *p, uint8_t *buf);

#endif
