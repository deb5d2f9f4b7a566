/* The DHT store: merge rules over a sorted array (store.h, docs/dht.md). */
#include "store.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../core/err.h"

void rn_store_init(rn_store *s, uint32_t records_max, uint32_t per_writer_max)
{
	memset(s, 0, sizeof *s);
	s->records_max = records_max;
	s->per_writer_max = per_writer_max;
}

void rn_store_deinit(rn_store *s)
{
	for (uint32_t i = 0; i < s->n; i++)
		free(s->v[i].rec);
	free(s->v);
	memset(s, 0, sizeof *s);
}

static uint32_t lower_bound(const rn_store *s, const rn_id *k)
{
	uint32_t lo = 0, hi = s->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (rn_id_cmp(&s->v[mid].key_id, k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint32_t rn_store_find(const rn_store *s, const rn_id *key_id,
		       uint32_t *first)
{
	uint32_t i = lower_bound(s, key_id), j = i;
	while (j < s->n && rn_id_cmp(&s->v[j].key_id, key_id) == 0)
		j++;
	*first = i;
	return j - i;
}

static void remove_at(rn_store *s, uint32_t i)
{
	free(s->v[i].rec);
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof *s->v);
	s->n--;
}

static int same_writer(const rn_store_entry *e, const rn_rec *r)
{
	return memcmp(e->writer, r->writer, RN_SIGN_PK_LEN) == 0;
}

static uint64_t value_hash(const rn_rec *r)
{
	uint8_t h[8];
	uint64_t v = 0;
	crypto_generichash(h, sizeof h, r->value, r->value_len, NULL, 0);
	for (int i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return v;
}

/* 1 if r was written under a certificate that names one fixed address:
 * its exclusive claim of that address beats any range member's
 * (docs/dht.md, "Address leases"). */
static int fixed_writer(const rn_rec *r)
{
	return r->has_cert && !rn_cert_is_range(&r->cert);
}

/* Whether exclusive claim a wins over b: smaller (created, writer). */
static int excl_wins(uint64_t a_created, const uint8_t *a_writer,
		     uint64_t b_created, const uint8_t *b_writer)
{
	if (a_created != b_created)
		return a_created < b_created;
	return memcmp(a_writer, b_writer, RN_SIGN_PK_LEN) < 0;
}

/* Whether storing r removes entry e (which passed the checks of offer):
 * the writer's version r replaces, tombstones of the same cover, and an
 * exclusive holder that lost to r. */
static int supersedes(const rn_store_entry *e, const rn_rec *r, uint64_t vh)
{
	int tomb = (r->flags & RN_REC_TOMB) != 0;
	int covers = r->value_len == 0 || e->vhash == vh;
	if (!same_writer(e, r))
		return (r->flags & RN_REC_EXCL) && !(e->flags & RN_REC_TOMB) &&
		       (e->flags & RN_REC_EXCL);
	if (e->flags & RN_REC_TOMB)
		return tomb && covers;
	if (tomb)
		return covers;
	return (r->flags & RN_REC_REPLACE) || e->vhash == vh;
}

static uint32_t writer_count(const rn_store *s, const uint8_t *writer)
{
	uint32_t c = 0;
	for (uint32_t i = 0; i < s->n; i++)
		c += memcmp(s->v[i].writer, writer, RN_SIGN_PK_LEN) == 0;
	return c;
}

int rn_store_offer(rn_store *s, const rn_id *key_id, const rn_rec *r,
		   const uint8_t *enc, size_t enc_len, uint64_t now_ms,
		   int mode, uint64_t skew_ms, uint32_t *holder)
{
	uint32_t first, cnt = rn_store_find(s, key_id, &first);
	uint64_t vh = value_hash(r);
	int tomb = (r->flags & RN_REC_TOMB) != 0;
	int replace = (r->flags & RN_REC_REPLACE) != 0;
	int excl = (r->flags & RN_REC_EXCL) != 0;
	int fixed = fixed_writer(r);
	int own = 0;
	if (enc_len > UINT16_MAX)
		return RN_ERR_TOOBIG;

	/* 1. A tombstone of this writer, as new or newer, covering r. */
	for (uint32_t i = first; i < first + cnt; i++) {
		const rn_store_entry *e = &s->v[i];
		if (!(e->flags & RN_REC_TOMB) || !same_writer(e, r) ||
		    e->ts < r->ts)
			continue;
		if (e->empty_value || e->vhash == vh) {
			s->stats.stale++;
			return RN_ERR_STALE;
		}
	}
	/* 2. The writer's own entry that r would replace. */
	for (uint32_t i = first; i < first + cnt; i++) {
		const rn_store_entry *e = &s->v[i];
		if ((e->flags & RN_REC_TOMB) || !same_writer(e, r))
			continue;
		int match = tomb ? (r->value_len == 0 || e->vhash == vh)
				 : (replace || e->vhash == vh);
		if (!match)
			continue;
		if (e->ts >= r->ts) {
			s->stats.stale++;
			return RN_ERR_STALE;
		}
		own = 1;
	}
	/* 3. An exclusive key: one value. */
	if (!tomb) {
		for (uint32_t i = first; i < first + cnt; i++) {
			const rn_store_entry *e = &s->v[i];
			if ((e->flags & RN_REC_TOMB) || e->expires <= now_ms)
				continue;
			if (same_writer(e, r) && e->vhash == vh)
				continue; /* a renewal */
			if (!excl && !(e->flags & RN_REC_EXCL))
				continue; /* an ordinary set */
			if (same_writer(e, r) && replace)
				continue; /* superseded below */
			if (mode == RN_STORE_MERGE && excl &&
			    (e->flags & RN_REC_EXCL) && e->fixed == fixed &&
			    excl_wins(r->created, r->writer, e->created,
				      e->writer))
				continue; /* the holder goes below */
			if (excl && (e->flags & RN_REC_EXCL) && fixed &&
			    !e->fixed)
				continue; /* a range member's, below */
			if (holder)
				*holder = i;
			s->stats.conflict++;
			return RN_ERR_CONFLICT;
		}
		if (excl && mode == RN_STORE_CREATE && !own &&
		    (r->created + skew_ms < now_ms || r->created > now_ms + skew_ms))
			return RN_ERR_EXPIRED; /* a back-dated first claim */
	}
	/* 4. Room. What r replaces is freed first, so count it. */
	uint32_t freed = 0;
	for (uint32_t i = first; i < first + cnt; i++) {
		freed += (uint32_t)supersedes(&s->v[i], r, vh);
	}
	if (s->n - freed >= s->records_max ||
	    (!own && writer_count(s, r->writer) >= s->per_writer_max)) {
		s->stats.full++;
		return RN_ERR_FULL;
	}
	uint8_t *copy = malloc(enc_len);
	if (!copy)
		return RN_ERR_NOMEM;
	memcpy(copy, enc, enc_len);
	/* 5. Remove what r supersedes (the same test as in 4). */
	for (uint32_t i = first; i < first + cnt;) {
		const rn_store_entry *e = &s->v[i];
		if (supersedes(e, r, vh)) {
			if (tomb && !(e->flags & RN_REC_TOMB))
				s->stats.removed++;
			remove_at(s, i);
			cnt--;
		} else {
			i++;
		}
	}
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? 2 * s->cap : 8;
		if (cap > s->records_max)
			cap = s->records_max;
		rn_store_entry *v = realloc(s->v, cap * sizeof *v);
		if (!v) {
			free(copy);
			return RN_ERR_NOMEM;
		}
		s->v = v;
		s->cap = cap;
	}
	uint32_t at = first + cnt;
	memmove(&s->v[at + 1], &s->v[at], (s->n - at) * sizeof *s->v);
	s->n++;
	rn_store_entry *e = &s->v[at];
	e->key_id = *key_id;
	memcpy(e->writer, r->writer, RN_SIGN_PK_LEN);
	e->created = r->created;
	e->ts = r->ts;
	e->expires = r->expires;
	e->vhash = vh;
	e->flags = r->flags;
	e->fixed = (uint8_t)fixed;
	e->empty_value = r->value_len == 0;
	e->len = (uint16_t)enc_len;
	e->rec = copy;
	if (own)
		s->stats.renewed++;
	else
		s->stats.stored++;
	return 0;
}

uint32_t rn_store_expire(rn_store *s, uint64_t now_ms)
{
	uint32_t j = 0, gone = 0;
	for (uint32_t i = 0; i < s->n; i++) {
		if (s->v[i].expires <= now_ms) {
			free(s->v[i].rec);
			gone++;
			continue;
		}
		s->v[j++] = s->v[i];
	}
	s->n = j;
	s->stats.expired += gone;
	return gone;
}

uint64_t rn_store_next_expiry(const rn_store *s)
{
	uint64_t t = UINT64_MAX;
	for (uint32_t i = 0; i < s->n; i++)
		if (s->v[i].expires < t)
			t = s->v[i].expires;
	return t;
}
