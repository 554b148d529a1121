/* SPDX-License-Identifier: MIT */
/*
 * The Security Manager Protocol on the SMP channel (CID 0x0006, Core Vol 3
 * Part H), sans-I/O, central (initiator) side.
 *
 * Two ways to answer a peer:
 * - bk_smp_refuse(): pairing is off. A peer that asks to pair is told no
 *   at once (rather than left waiting 30 s for the SMP timeout).
 * - bk_smp, one per link: the pairing engine. PDUs, time (ms, the
 *   caller's clock), the user's answers and the link's encryption outcome
 *   in; PDUs, questions, a request to encrypt, the result and the next
 *   deadline out, through bk_smp_ops. It reads no clock, does no I/O,
 *   allocates nothing of its own (libcrypto does, inside a crypto step)
 *   and draws its random bytes from ops->random. The crypto is
 *   smp_crypto.h.
 *
 * See bk_smp below for the life of a pairing.
 */
#ifndef BLEAK_HCI_SMP_H
#define BLEAK_HCI_SMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/hci/smp_crypto.h"

/* Command codes (3.3). */
enum bk_smp_code {
  BK_SMP_PAIRING_REQUEST = 0x01,
  BK_SMP_PAIRING_RESPONSE = 0x02,
  BK_SMP_PAIRING_CONFIRM = 0x03,
  BK_SMP_PAIRING_RANDOM = 0x04,
  BK_SMP_PAIRING_FAILED = 0x05,
  BK_SMP_ENCRYPTION_INFORMATION = 0x06,
  BK_SMP_CENTRAL_IDENTIFICATION = 0x07,
  BK_SMP_IDENTITY_INFORMATION = 0x08,
  BK_SMP_IDENTITY_ADDRESS_INFORMATION = 0x09,
  BK_SMP_SIGNING_INFORMATION = 0x0a,
  BK_SMP_SECURITY_REQUEST = 0x0b,
  BK_SMP_PAIRING_PUBLIC_KEY = 0x0c,
  BK_SMP_PAIRING_DHKEY_CHECK = 0x0d,
  BK_SMP_PAIRING_KEYPRESS_NOTIFICATION = 0x0e,
};

/* Pairing Failed reasons (3.5.5). */
enum bk_smp_reason {
  BK_SMP_PASSKEY_ENTRY_FAILED = 0x01,
  BK_SMP_OOB_NOT_AVAILABLE = 0x02,
  BK_SMP_AUTHENTICATION_REQUIREMENTS = 0x03,
  BK_SMP_CONFIRM_VALUE_FAILED = 0x04,
  BK_SMP_PAIRING_NOT_SUPPORTED = 0x05,
  BK_SMP_ENCRYPTION_KEY_SIZE = 0x06,
  BK_SMP_COMMAND_NOT_SUPPORTED = 0x07,
  BK_SMP_UNSPECIFIED_REASON = 0x08,
  BK_SMP_REPEATED_ATTEMPTS = 0x09,
  BK_SMP_INVALID_PARAMETERS = 0x0a,
  BK_SMP_DHKEY_CHECK_FAILED = 0x0b,
  BK_SMP_NUMERIC_COMPARISON_FAILED = 0x0c,
  BK_SMP_BREDR_PAIRING_IN_PROGRESS = 0x0d,
  BK_SMP_CROSS_TRANSPORT_KEY_NOT_ALLOWED = 0x0e,
  BK_SMP_KEY_REJECTED = 0x0f,
};

/* The longest answer bk_smp_refuse() gives: Pairing Failed. */
#define BK_SMP_MAX_ANSWER 2

/*
 * One SMP PDU received: a Pairing Request or a Security Request is answered
 * with Pairing Failed, "pairing not supported" (or "invalid parameters"
 * when its length is wrong, 3.5.5); anything else is ignored (no pairing
 * runs that it could belong to). The answer goes to @p out (@p cap bytes,
 * at least BK_SMP_MAX_ANSWER).
 * @return the answer's length, 0 (no answer), BLEAK_ERR_BUFFER_TOO_SMALL,
 *         BLEAK_ERR_INVALID_ARG.
 */
int bk_smp_refuse(const uint8_t *pdu, size_t len, uint8_t *out, size_t cap);

/* ---- The pairing engine ---- */

/* IO capabilities (2.3.2, 3.5.1). */
typedef enum bk_smp_io_cap {
  BK_SMP_IO_DISPLAY_ONLY = 0x00,
  BK_SMP_IO_DISPLAY_YES_NO = 0x01,
  BK_SMP_IO_KEYBOARD_ONLY = 0x02,
  BK_SMP_IO_NO_INPUT_NO_OUTPUT = 0x03,
  BK_SMP_IO_KEYBOARD_DISPLAY = 0x04,
} bk_smp_io_cap;

/* AuthReq bits (3.5.1). */
#define BK_SMP_AUTH_BONDING 0x01 /* Bonding_Flags 01 */
#define BK_SMP_AUTH_MITM 0x04
#define BK_SMP_AUTH_SC 0x08
#define BK_SMP_AUTH_KEYPRESS 0x10
#define BK_SMP_AUTH_CT2 0x20

/* Key distribution bits (3.6.1). */
#define BK_SMP_DIST_ENC 0x01  /* LTK, EDIV, Rand: legacy pairing only */
#define BK_SMP_DIST_ID 0x02   /* IRK and identity address */
#define BK_SMP_DIST_SIGN 0x04 /* CSRK */
#define BK_SMP_DIST_LINK 0x08 /* BR/EDR link key: never asked for */

/* The SMP timeout (3.4). */
#define BK_SMP_TIMEOUT_MS 30000
/* After a peer's Repeated Attempts, the first wait before we may pair
 * again (2.3.6); each further one doubles it, up to BK_SMP_HOLD_MAX_MS. */
#define BK_SMP_HOLD_MS 5000
#define BK_SMP_HOLD_MAX_MS 320000

/* The association model (2.3.5.1), from our side. */
typedef enum bk_smp_method {
  BK_SMP_JUST_WORKS,
  BK_SMP_PASSKEY_DISPLAY, /* we show a passkey; the peer's user types it */
  BK_SMP_PASSKEY_INPUT,   /* our user types the passkey (the peer shows it,
                           * or both users type the same one) */
  BK_SMP_NUMERIC_COMPARISON,
  BK_SMP_OOB,
} bk_smp_method;

/* What the user is asked (ops->ask), and how to answer (bk_smp_user_reply). */
typedef enum bk_smp_question {
  /* Just Works (only with config.authorize_just_works): may the peer pair?
   * Answer accept true or false. */
  BK_SMP_ASK_AUTHORIZE,
  /* Type the passkey (0..999999) the peer shows: accept true and the
   * passkey, or accept false. */
  BK_SMP_ASK_PASSKEY,
  /* Show @p number (six digits, leading zeros kept) for the user to type
   * on the peer. Pairing goes on without an answer; accept false cancels. */
  BK_SMP_ASK_DISPLAY,
  /* Do both devices show @p number (six digits)? accept true or false. */
  BK_SMP_ASK_CONFIRM,
} bk_smp_question;

typedef struct bk_smp_config {
  bk_smp_io_cap io_cap;
  bool bonding;         /* ask to bond: the keys are meant to be stored */
  bool mitm;            /* require MITM protection: Just Works fails with
                         * Authentication Requirements */
  bool request_mitm;    /* ask for MITM protection (the AuthReq bit), but
                         * take Just Works when the IO capabilities allow
                         * no more (as BlueZ does when it has an agent):
                         * without the bit on either side the spec picks
                         * Just Works whatever the IO capabilities */
  bool sc_only;         /* LE Secure Connections only: a peer without it
                         * fails with Authentication Requirements */
  bool legacy_only;     /* offer LE legacy pairing only (tests, and peers
                         * whose Secure Connections are broken) */
  bool authorize_just_works; /* ask BK_SMP_ASK_AUTHORIZE before Just Works */
  bool sc_debug_key;    /* use the spec's debug key pair (air sniffers;
                         * never in use: anyone can read the link) */
  uint8_t min_key_size; /* 7..16: a smaller negotiated key fails with
                         * Encryption Key Size (KNOB); we offer 16 */
  uint8_t local_dist;   /* BK_SMP_DIST_* we offer to distribute */
  uint8_t remote_dist;  /* BK_SMP_DIST_* we ask the peer for */
  /* The addresses of the link as used on the air (ours: the controller's
   * local resolvable address when it makes one), type 0 or 1. */
  bk_smp_addr local, peer;
  /* Our identity, distributed when local_dist has BK_SMP_DIST_ID. */
  uint8_t local_irk[16];
  bk_smp_addr local_identity;
  /* OOB data, when the caller has it. Legacy: the shared TK (16 bytes;
   * implies legacy_only, since an SC peer would find no SC OOB data).
   * Secure Connections: the peer's r and C (little-endian, as in its OOB
   * data); our own side's are made by bk_smp_sc_local_oob(). */
  bool has_oob_tk;
  uint8_t oob_tk[16];
  bool has_peer_oob;
  uint8_t peer_oob_r[16], peer_oob_c[16];
} bk_smp_config;

/* The outcome of a pairing, given to ops->done with status 0. Key
 * material: the owner copies what it keeps and stores it with care (a
 * bond); the engine wipes its own copy when done() returns. */
typedef struct bk_smp_keys {
  bk_smp_method method;
  bool sc;            /* LE Secure Connections (else legacy) */
  bool authenticated; /* MITM protected: not Just Works */
  bool bonded;        /* both sides asked to bond */
  bool debug_key;     /* the peer used the debug public key: the link can
                       * be read by anyone; do not keep the bond */
  uint8_t key_size;   /* 7..16: the LTK/STK's bytes past it are zero */
  uint8_t peer_dist, local_dist; /* BK_SMP_DIST_* distributed each way */
  /* The key to encrypt with when we reconnect as central: Secure
   * Connections' LTK (EDIV 0, Rand 0), or legacy's LTK the peer
   * distributed (EncKey). has_ltk false: legacy without one (the link
   * was encrypted with the STK, for this connection only). */
  bool has_ltk;
  uint8_t ltk[16];
  uint16_t ediv;
  uint8_t rand[8];
  /* The peer's identity (Identity Information, Identity Address
   * Information): its IRK resolves its private addresses (ah). */
  bool has_irk;
  uint8_t irk[16];
  bk_smp_addr identity;
  bool has_csrk; /* the peer's signing key */
  uint8_t csrk[16];
  /* Ours, as distributed (legacy LTK for when the peer is central; our
   * CSRK). Our IRK and identity are config's. */
  bool has_local_ltk;
  uint8_t local_ltk[16];
  uint16_t local_ediv;
  uint8_t local_rand[8];
  bool has_local_csrk;
  uint8_t local_csrk[16];
} bk_smp_keys;

/*
 * What the engine needs from its owner. Every op is called from inside a
 * bk_smp_* entry point, on the caller's thread. ask(), done() and
 * security_request() may call back into the engine (bk_smp_user_reply
 * from ask; anything from done, even bk_smp_start or bk_smp_close; start
 * or close from security_request): the engine calls them last, its state
 * already final. send(), random() and encrypt() must not: report the
 * encryption's outcome later, when the HCI event comes.
 */
typedef struct bk_smp_ops {
  /* Send one SMP PDU on CID 0x0006 of the link. Return 0 or an error:
   * the pairing then fails with it (done), nothing more is sent. */
  int (*send)(void *owner, const uint8_t *pdu, size_t len);
  /* @p len cryptographically secure random bytes (getrandom(2) in use,
   * a deterministic stream in tests). An error fails the pairing. */
  int (*random)(void *owner, uint8_t *buf, size_t len);
  /* Ask the user @p q (see bk_smp_question); @p number is the passkey or
   * the value to compare (else 0). The answer: bk_smp_user_reply(), now
   * or later (the SMP timeout runs meanwhile). */
  void (*ask)(void *owner, bk_smp_question q, uint32_t number);
  /* Encrypt the link with @p key (16 bytes, little-endian: the STK or the
   * LTK), @p ediv and @p rand (8 bytes; 0 for the STK and for Secure
   * Connections): HCI LE Enable Encryption. Its outcome, the Encryption
   * Change event, goes to bk_smp_encrypted(). Return 0 or an error (the
   * pairing fails with it). */
  int (*encrypt)(void *owner, const uint8_t key[16], uint16_t ediv, const uint8_t rand[8]);
  /* The pairing ended, once per bk_smp_start() or accepted Security
   * Request: status 0 and @p keys (valid during the call only), or an
   * error and NULL:
   *  - BLEAK_ERR_SMP(reason): Pairing Failed, sent by the peer or by us
   *    (the detail says which, and why): a wrong confirm value
   *    (CONFIRM_VALUE_FAILED), a wrong DHKey check or an invalid public
   *    key (DHKEY_CHECK_FAILED), a reflected public key or a PDU of the
   *    wrong length or out of range (INVALID_PARAMETERS), a key below
   *    min_key_size (ENCRYPTION_KEY_SIZE), a peer that cannot meet mitm
   *    or sc_only (AUTHENTICATION_REQUIREMENTS), a PDU out of order
   *    (UNSPECIFIED_REASON), the peer's REPEATED_ATTEMPTS (then
   *    bk_smp_start() waits, see BK_SMP_HOLD_MS);
   *  - BLEAK_ERR_AUTH: the user said no (we sent Pairing Failed: Passkey
   *    Entry Failed, Numeric Comparison Failed, or Unspecified Reason for
   *    Just Works), or the link's encryption with the new key failed (we
   *    sent Unspecified Reason; the detail has the HCI status);
   *  - BLEAK_ERR_TIMEOUT: the SMP timeout; no more SMP on this link;
   *  - BLEAK_ERR_CANCELED (bk_smp_cancel), BLEAK_ERR_DISCONNECTED
   *    (bk_smp_close), or what send, random, encrypt or libcrypto
   *    returned. */
  void (*done)(void *owner, int status, const bk_smp_keys *keys);
  /* Optional: a peripheral's Security Request (@p auth_req its AuthReq)
   * while no pairing runs. Return true to pair, false to ignore it (the
   * owner has a bond's LTK and encrypts with it instead). NULL: pair. */
  bool (*security_request)(void *owner, uint8_t auth_req);
} bk_smp_ops;

/* The engine's secrets, wiped when a pairing ends (private). */
typedef struct bk_smp_secrets {
  bk_smp_p256 key;       /* our key pair */
  uint8_t peer_pub[64];  /* PKb */
  uint8_t dhkey[32];
  uint8_t tk[16];        /* legacy: TK; SC passkey: ra = rb */
  uint8_t mackey[16];
  uint8_t ltk[16];       /* SC f5 output; legacy STK */
  uint8_t na[16], nb[16];          /* Mrand/Srand, Na/Nb (this round's) */
  uint8_t ca[16], cb[16];          /* our confirm, the peer's */
  uint8_t local_r[16];             /* SC OOB: our r (bk_smp_sc_local_oob) */
} bk_smp_secrets;

/*
 * The pairing engine of one link (central). The owner embeds it and keeps
 * it as long as the link; every field is private.
 *
 * The life of a pairing:
 *   bk_smp_start() (or the peer's Security Request): Pairing Request sent.
 *   Pairing Response: the association model is chosen (2.3.5.1, the IO
 *     capabilities, OOB flags and MITM bits of both), then, as it needs,
 *     ask(AUTHORIZE) or ask(PASSKEY) (before anything more is sent), or a
 *     passkey is drawn and ask(DISPLAY) shown.
 *   Legacy: Pairing Confirm and Random each way (c1), STK = s1.
 *   Secure Connections: public keys each way (the peer's validated:
 *     on the curve, not ours), confirm/random (f4; 20 rounds for a
 *     passkey; ask(CONFIRM) for numeric comparison), DHKey checks (f5, f6).
 *   encrypt(STK or LTK), then bk_smp_encrypted() with the outcome.
 *   The peer's keys (in the spec's order; only after the Encryption
 *     Change: key PDUs before it could be injected in the clear), then
 *     ours; done(0, keys).
 * Any PDU of the wrong length, out of order or out of range fails the
 * pairing with Pairing Failed (see ops->done); so does the peer's Pairing
 * Failed (not answered) and the 30 s timeout (nothing sent: 3.4). Unknown
 * codes (3.3), Keypress Notifications (we never ask for them) and a
 * Security Request while a pairing runs are ignored. While none runs,
 * PDUs are ignored but a Security Request (it pairs; one of the wrong
 * length gets Invalid Parameters) and a Pairing Request (a peripheral may
 * not send one: Command Not Supported).
 *
 * Time: every entry point takes the caller's clock (ms); after each call
 * the owner arms its timer for bk_smp_deadline() (it moves whenever a PDU
 * is sent, 3.4) and calls bk_smp_tick() then. Memory: the owner owns the
 * struct; @p cfg is copied at init, @p ops must outlive the engine. No
 * key outlives a pairing in it: its copies are wiped before done() runs
 * (the keys done() gets live for the call), but for the key pair that
 * bk_smp_sc_local_oob() made, kept for the next pairing.
 */
typedef struct bk_smp {
  const bk_smp_ops *ops;
  void *owner;
  bk_smp_config cfg;
  uint8_t state;     /* enum in smp.c */
  uint8_t question;  /* bk_smp_question asked, while state waits for it */
  bk_smp_method method;
  bool sc;
  bool displaying;   /* a passkey is shown: a refusal cancels */
  bool typing;       /* SC passkey input: asked while the public keys are
                      * exchanged (the peer shows its passkey once it has
                      * ours), not answered yet */
  bool has_local_oob; /* bk_smp_sc_local_oob() made secret.key, local_r */
  uint8_t key_size;
  uint8_t round;     /* SC passkey: 0..19 */
  uint8_t keys_next; /* key distribution: index into the expected codes */
  uint8_t preq[7], pres[7];
  uint32_t passkey;
  uint64_t deadline;   /* the SMP timeout; 0 while no pairing runs */
  uint64_t hold_until; /* no new pairing before (Repeated Attempts) */
  uint32_t hold_ms;
  bk_smp_secrets secret;
  bk_smp_keys keys;    /* built during key distribution */
} bk_smp;

/* Ready @p smp for a new link with @p cfg (copied) and @p ops (kept).
 * @return 0, BLEAK_ERR_INVALID_ARG (an op missing but security_request,
 * min_key_size outside 7..16, an IO capability or address type out of
 * range, sc_only with legacy_only or a legacy OOB TK). */
int bk_smp_init(bk_smp *smp, const bk_smp_config *cfg, const bk_smp_ops *ops, void *owner);

/* Pair: send the Pairing Request. @return 0 (done() follows, once),
 * BLEAK_ERR_ALREADY (a pairing runs), BLEAK_ERR_STATE (the SMP timeout
 * ended SMP on this link, or it was closed), BLEAK_ERR_BUSY (the peer's
 * Repeated Attempts: not before the hold-off ends), or send's error (no
 * done() then). */
int bk_smp_start(bk_smp *smp, uint64_t now);

/* One SMP PDU received on the link (the L2CAP payload). */
void bk_smp_recv(bk_smp *smp, const uint8_t *pdu, size_t len, uint64_t now);

/* The user's answer to ops->ask (see bk_smp_question). @return 0,
 * BLEAK_ERR_STATE (no question waits), BLEAK_ERR_INVALID_ARG (a passkey
 * above 999999: the question still waits). */
int bk_smp_user_reply(bk_smp *smp, bool accept, uint32_t passkey, uint64_t now);

/* The outcome of ops->encrypt: the Encryption Change (or Key Refresh)
 * event's @p status (an HCI status, 0: encrypted) and the key size in use
 * when the owner knows it (else 0). Ignored unless the engine waits for
 * it. A failure, or a key size below min_key_size, fails the pairing. */
void bk_smp_encrypted(bk_smp *smp, uint8_t status, uint8_t key_size, uint64_t now);

/* When bk_smp_tick() wants to run (ms, the caller's clock); 0: never. */
uint64_t bk_smp_deadline(const bk_smp *smp);

/* Time passes: at the deadline the pairing fails with BLEAK_ERR_TIMEOUT
 * and SMP on this link is over (3.4): nothing more is sent or accepted. */
void bk_smp_tick(bk_smp *smp, uint64_t now);

/* The user gave up: Pairing Failed (Unspecified Reason) is sent, done()
 * gets BLEAK_ERR_CANCELED. @return 0 or BLEAK_ERR_STATE (none runs). */
int bk_smp_cancel(bk_smp *smp, uint64_t now);

/* The link is gone: a running pairing ends with BLEAK_ERR_DISCONNECTED
 * (nothing sent), every secret is wiped, nothing more is done. Safe to
 * call twice; bk_smp_init() readies the engine for a new link. */
void bk_smp_close(bk_smp *smp);

/* True while a pairing runs (done() is still to come). */
bool bk_smp_running(const bk_smp *smp);

/* Secure Connections OOB data of our side for the next pairing (2.3.5.6.4):
 * our key pair is made now (kept until that pairing ends), @p r drawn and
 * @p c = f4(PKax, PKax, r, 0); the owner hands both (and config.local) to
 * the peer out of band. @return 0, BLEAK_ERR_ALREADY (a pairing runs),
 * BLEAK_ERR_STATE, or a random or libcrypto error. */
int bk_smp_sc_local_oob(bk_smp *smp, uint8_t r[16], uint8_t c[16]);

#endif
