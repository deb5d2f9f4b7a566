/* Fuzz target: the end-to-end session messages of tunnel/e2e.c, which a
 * member reads from routed bodies any node of the ring may have sent:
 * rn_e2e_hs_decode, rn_e2e_init_check / rn_e2e_resp_write,
 * rn_e2e_resp_check, rn_e2e_data_idx, rn_e2e_open and rn_e2e_seal.
 *
 * Fixed keys: a group (seed bytes 0x47, as the other targets), member A
 * (10.1.0.1) and member B (10.1.0.2) with certificates valid at
 * T = 1700000000 s, A's INIT to B (index 0x00010001, fixed ephemeral,
 * timestamp T ms) whose transcript hash a RESP is checked against, and a
 * fixed data key.
 *
 *  - rn_e2e_hs_decode answers 0 or RN_ERR_PROTO / TRUNC / VERSION / DEPTH /
 *    NOMEM; a decoded INIT or RESP has non-zero indices, a 32-byte
 *    ephemeral, a 64-byte signature and a certificate inside the input.
 *    An INIT is checked by B (from the ring id its certificate claims) and
 *    a RESP by A, answering only documented codes; an INIT B accepts gets
 *    a RESP that decodes, for that INIT's index.
 *  - rn_e2e_data_idx is non-zero exactly for a long enough body with the
 *    DATA header and a non-zero index, which it returns.
 *  - rn_e2e_open with the fixed key: TRUNC below RN_E2E_OVERHEAD, else 0,
 *    AUTH or REPLAY; what opens has the right length and the same body
 *    opened again is a replay.
 *  - the input as an IP packet sealed with the fixed key (at a counter
 *    taken from the input) opens again to the same bytes, and its body
 *    carries the peer index.
 *
 * Built with -DFUZZ_E2E_GEN and linked with rn_tunnel, this file is
 * instead the program that writes the seed corpus (corpus/e2e): the INIT
 * and RESP above, bodies sealed with the data key, and broken variants.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cert.h"
#include "core/err.h"
#include "core/id.h"
#include "overlay/msg.h"
#include "tunnel/e2e.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

#define T_S   1700000000ull
#define IDX_I 0x00010001u
#define IDX_R 0x00020002u

typedef struct fixture {
	uint8_t group_pk[RN_SIGN_PK_LEN], group_sk[RN_SIGN_SK_LEN];
	uint8_t group_id[RN_GROUP_ID_LEN];
	rn_ident ia, ib;
	rn_id id_a, id_b;
	rn_e2e_ctx ca, cb;
	uint8_t ea_sk[32], ea_pk[32], eb_sk[32];
	uint8_t init[RN_BODY_MAX], h_i[32];
	size_t init_len;
	uint8_t data_key[32];
} fixture;

static int make_ident(fixture *f, rn_ident *id, uint8_t seed_byte, uint8_t last)
{
	uint8_t seed[RN_KEY_SEED_LEN], pk[RN_SIGN_PK_LEN], sk[RN_SIGN_SK_LEN];
	uint8_t vip[4] = {10, 1, 0, last}, enc[RN_CERT_ENCODED_MAX];
	rn_cert c;
	size_t len;
	memset(seed, seed_byte, sizeof seed);
	if (rn_nodekey_keypair(pk, sk, seed) ||
	    rn_cert_issue(&c, f->group_sk, pk, vip, 4, "fuzz", T_S - 3600,
	                  T_S + 86400) ||
	    rn_cert_encode(&c, enc, sizeof enc, &len))
		return -1;
	return rn_ident_init(id, sk, enc, len);
}

static const fixture *fx(void)
{
	static fixture f;
	static int done;
	if (done)
		return &f;
	uint8_t seed[RN_KEY_SEED_LEN];
	CHECK(sodium_init() >= 0);
	memset(seed, 0x47, sizeof seed);
	CHECK(rn_group_keypair(f.group_pk, f.group_sk, seed) == 0);
	rn_group_id(f.group_id, f.group_pk);
	CHECK(make_ident(&f, &f.ia, 0x11, 1) == 0);
	CHECK(make_ident(&f, &f.ib, 0x22, 2) == 0);
	CHECK(rn_cert_ring_id(&f.ia.parsed, &f.id_a) == 0);
	CHECK(rn_cert_ring_id(&f.ib.parsed, &f.id_b) == 0);
	f.ca = (rn_e2e_ctx){f.group_id, f.group_pk, &f.ia, f.id_a};
	f.cb = (rn_e2e_ctx){f.group_id, f.group_pk, &f.ib, f.id_b};
	memset(f.ea_sk, 0x33, 32);
	memset(f.eb_sk, 0x44, 32);
	crypto_scalarmult_base(f.ea_pk, f.ea_sk);
	CHECK(rn_e2e_init_write(&f.ca, &f.id_b, IDX_I, f.ea_pk, T_S * 1000,
	                        f.init, sizeof f.init, &f.init_len,
	                        f.h_i) == 0);
	memset(f.data_key, 0x55, 32);
	done = 1;
	return &f;
}

static int inside(const uint8_t *p, size_t n, const uint8_t *b, size_t len)
{
	return p && p >= b && n <= len && (size_t)(p - b) <= len - n;
}

static int cert_err(int rc)
{
	return rc == RN_ERR_PROTO || rc == RN_ERR_CERT_GROUP ||
	       rc == RN_ERR_CERT_EARLY || rc == RN_ERR_CERT_EXPIRED ||
	       rc == RN_ERR_BADSIG || rc == RN_ERR_PERM || rc == RN_ERR_BADKEY;
}

static void handshake(const fixture *f, const uint8_t *data, size_t size)
{
	rn_e2e_hs m;
	int rc = rn_e2e_hs_decode(data, size, &m);
	CHECK(rc == 0 || rc == RN_ERR_PROTO || rc == RN_ERR_TRUNC ||
	      rc == RN_ERR_VERSION || rc == RN_ERR_DEPTH || rc == RN_ERR_NOMEM);
	if (rc)
		return;
	CHECK(m.type == RN_E2E_INIT || m.type == RN_E2E_RESP);
	CHECK(m.idx_i != 0 && (m.type == RN_E2E_INIT || m.idx_r != 0));
	CHECK(inside(m.eph, 32, data, size) && inside(m.sig, 64, data, size));
	CHECK(m.cert_len <= RN_CERT_ENCODED_MAX);
	CHECK(m.cert_len == 0 || inside(m.cert, m.cert_len, data, size));
	/* from the ring id the certificate claims, so checks go deep */
	rn_id from = m.type == RN_E2E_INIT ? f->id_a : f->id_b;
	rn_cert c, peer;
	if (rn_cert_decode(m.cert, m.cert_len, &c) == 0)
		rn_cert_ring_id(&c, &from);
	uint8_t h_i[32];
	rn_e2e_keys k;
	if (m.type == RN_E2E_INIT) {
		CHECK(rn_e2e_resp_check(&f->ca, &from, &m, T_S, f->h_i,
		                        f->ea_sk, &peer, &k) == RN_ERR_PROTO);
		rc = rn_e2e_init_check(&f->cb, &from, &m, T_S, &peer, h_i);
		CHECK(rc == 0 || cert_err(rc));
		if (rc)
			return;
		uint8_t out[RN_BODY_MAX];
		size_t len;
		rc = rn_e2e_resp_write(&f->cb, &m, h_i, IDX_R, f->eb_sk, out,
		                       sizeof out, &len, &k);
		CHECK(rc == 0 || rc == RN_ERR_BADKEY);
		if (rc)
			return;
		rn_e2e_hs r;
		CHECK(rn_e2e_hs_decode(out, len, &r) == 0);
		CHECK(r.type == RN_E2E_RESP && r.idx_i == m.idx_i &&
		      r.idx_r == IDX_R);
		CHECK(k.idx_local == IDX_R && k.idx_peer == m.idx_i);
	} else {
		CHECK(rn_e2e_init_check(&f->cb, &from, &m, T_S, &peer, h_i) ==
		      RN_ERR_PROTO);
		rc = rn_e2e_resp_check(&f->ca, &from, &m, T_S, f->h_i, f->ea_sk,
		                       &peer, &k);
		CHECK(rc == 0 || cert_err(rc));
		if (rc == 0)
			CHECK(k.idx_local == m.idx_i && k.idx_peer == m.idx_r);
	}
}

static void data_body(const fixture *f, const uint8_t *data, size_t size)
{
	uint32_t idx = rn_e2e_data_idx(data, size);
	int hdr = size >= RN_E2E_OVERHEAD && data[0] == 0 &&
	          data[1] == RN_E2E_DATA && data[2] == RN_E2E_VERSION;
	uint32_t want = hdr ? (uint32_t)data[3] << 24 |
	                          (uint32_t)data[4] << 16 |
	                          (uint32_t)data[5] << 8 | data[6]
	                    : 0;
	CHECK(idx == want);

	rn_seal_rx rx;
	rn_seal_rx_init(&rx, f->data_key);
	uint8_t *out = malloc(size ? size : 1);
	if (!out)
		return;
	size_t n = 0;
	int rc = rn_e2e_open(&rx, data, size, out, size, &n);
	if (size < RN_E2E_OVERHEAD) {
		CHECK(rc == RN_ERR_TRUNC);
	} else {
		CHECK(rc == 0 || rc == RN_ERR_AUTH || rc == RN_ERR_REPLAY);
		if (rc == 0) {
			CHECK(n == size - RN_E2E_OVERHEAD);
			CHECK(rn_e2e_open(&rx, data, size, out, size, &n) ==
			      RN_ERR_REPLAY);
		}
	}
	free(out);
	rn_seal_rx_deinit(&rx);
}

/* The input as a packet, sealed and opened again. */
static void round_trip(const fixture *f, const uint8_t *data, size_t size)
{
	if (size > 1500)
		return;
	uint8_t *buf = malloc(RN_E2E_DATA_HDR + size + RN_SEAL_TAG_LEN);
	uint8_t *back = malloc(size ? size : 1);
	if (!buf || !back) {
		free(buf);
		free(back);
		return;
	}
	rn_e2e_keys k;
	memset(&k, 0, sizeof k);
	k.idx_peer = 0x12345678u;
	memcpy(k.tx.key, f->data_key, 32);
	k.tx.next = 0;
	for (size_t i = 0; i < 8 && i < size; i++)
		k.tx.next = k.tx.next << 8 | data[i];
	uint8_t *pkt = buf + RN_E2E_DATA_HDR, *body;
	size_t blen, n;
	memcpy(pkt, data, size);
	uint64_t ctr = k.tx.next, got = 0;
	int rc = rn_e2e_seal(&k, pkt, size, &body, &blen);
	if (ctr >= RN_SEAL_COUNTER_MAX) { /* the key is used up */
		CHECK(rc == RN_ERR_REKEY && k.tx.next == ctr);
	} else {
		CHECK(rc == 0 && body == buf && blen == size + RN_E2E_OVERHEAD);
		CHECK(k.tx.next == ctr + 1);
		CHECK(rn_e2e_data_idx(body, blen) == 0x12345678u);
		for (int i = 0; i < 8; i++)
			got = got << 8 | body[7 + i];
		CHECK(got == ctr);
		rn_seal_rx rx;
		rn_seal_rx_init(&rx, f->data_key);
		CHECK(rn_e2e_open(&rx, body, blen, back, size, &n) == 0);
		CHECK(n == size && (size == 0 || !memcmp(back, data, size)));
		rn_seal_rx_deinit(&rx);
	}
	free(buf);
	free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const fixture *f = fx();
	handshake(f, data, size);
	data_body(f, data, size);
	round_trip(f, data, size);
	return 0;
}

#ifdef FUZZ_E2E_GEN
/* The seed writer: fuzz_e2e_gen <dir>. */
#include <stdio.h>

static void put(const char *dir, const char *name, const uint8_t *b, size_t n)
{
	char path[512];
	snprintf(path, sizeof path, "%s/seed-%s", dir, name);
	FILE *fp = fopen(path, "wb");
	CHECK(fp && fwrite(b, 1, n, fp) == n);
	fclose(fp);
	LLVMFuzzerTestOneInput(b, n); /* and it must pass the target */
}

int main(int argc, char **argv)
{
	const fixture *f = fx();
	if (argc != 2)
		return 2;
	const char *dir = argv[1];
	uint8_t resp[RN_BODY_MAX], b[2048];
	size_t rlen, n;
	rn_e2e_hs m;
	rn_cert peer;
	rn_e2e_keys k;
	uint8_t h_i[32];
	put(dir, "init", f->init, f->init_len);
	CHECK(rn_e2e_hs_decode(f->init, f->init_len, &m) == 0);
	CHECK(rn_e2e_init_check(&f->cb, &f->id_a, &m, T_S, &peer, h_i) == 0);
	CHECK(rn_e2e_resp_write(&f->cb, &m, h_i, IDX_R, f->eb_sk, resp,
	                        sizeof resp, &rlen, &k) == 0);
	put(dir, "resp", resp, rlen);
	CHECK(rn_e2e_hs_decode(resp, rlen, &m) == 0);
	CHECK(rn_e2e_resp_check(&f->ca, &f->id_b, &m, T_S, f->h_i, f->ea_sk,
	                        &peer, &k) == 0);
	/* the INIT cut short, with its signature broken, another version */
	put(dir, "init-trunc", f->init, f->init_len - 1);
	memcpy(b, f->init, f->init_len);
	b[f->init_len - 1] ^= 1;
	put(dir, "init-badsig", b, f->init_len);
	memcpy(b, f->init, f->init_len);
	b[2] = 2;
	put(dir, "init-version", b, f->init_len);
	/* data bodies sealed with the data key: a small IPv4 packet, an
	 * empty one, the largest relayed one */
	size_t sizes[3] = {28, 0, 1320};
	const char *names[3] = {"data-28", "data-0", "data-1320"};
	for (int i = 0; i < 3; i++) {
		rn_e2e_keys dk;
		uint8_t *body;
		memset(&dk, 0, sizeof dk);
		memcpy(dk.tx.key, f->data_key, 32);
		dk.tx.next = (uint64_t)i * 1000u;
		dk.idx_peer = IDX_I;
		uint8_t *pkt = b + RN_E2E_DATA_HDR;
		memset(pkt, 0, sizes[i]);
		if (sizes[i]) {
			pkt[0] = 0x45;
			pkt[2] = (uint8_t)(sizes[i] >> 8);
			pkt[3] = (uint8_t)sizes[i];
		}
		CHECK(rn_e2e_seal(&dk, pkt, sizes[i], &body, &n) == 0);
		put(dir, names[i], body, n);
		if (i == 0) {
			body[n - 1] ^= 0x80;
			put(dir, "data-badtag", body, n);
		}
	}
	return 0;
}
#endif
