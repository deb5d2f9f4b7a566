/* The true ring (see oracle.h). */
#include "oracle.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
	rn_id id;
	uint32_t node;
} entry;

static int cmp_entry(const void *a, const void *b)
{
	return rn_id_cmp(&((const entry *)a)->id, &((const entry *)b)->id);
}

int sim_oracle_init(sim_oracle *o, const rn_id *ids, uint32_t n,
		    uint32_t *rank_of)
{
	memset(o, 0, sizeof *o);
	entry *e = malloc((size_t)n * sizeof *e);
	o->ids = malloc((size_t)n * sizeof *o->ids);
	o->node_of = malloc((size_t)n * sizeof *o->node_of);
	o->alive = calloc((n + 63) / 64 + 1, sizeof *o->alive);
	if (!e || !o->ids || !o->node_of || !o->alive) {
		free(e);
		sim_oracle_free(o);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		e[i].id = ids[i];
		e[i].node = i;
	}
	qsort(e, n, sizeof *e, cmp_entry);
	for (uint32_t r = 0; r < n; r++) {
		o->ids[r] = e[r].id;
		o->node_of[r] = e[r].node;
		rank_of[e[r].node] = r;
	}
	free(e);
	o->n = n;
	return 0;
}

void sim_oracle_free(sim_oracle *o)
{
	free(o->ids);
	free(o->node_of);
	free(o->alive);
	memset(o, 0, sizeof *o);
}

void sim_oracle_set_alive(sim_oracle *o, uint32_t r, int alive)
{
	uint64_t bit = 1ull << (r % 64);
	int was = (o->alive[r / 64] & bit) != 0;
	if (alive && !was) {
		o->alive[r / 64] |= bit;
		o->n_alive++;
	} else if (!alive && was) {
		o->alive[r / 64] &= ~bit;
		o->n_alive--;
	}
}

int sim_oracle_is_alive(const sim_oracle *o, uint32_t r)
{
	return (o->alive[r / 64] >> (r % 64)) & 1;
}

/* First live rank in [from, n), or UINT32_MAX. */
static uint32_t scan_up(const sim_oracle *o, uint32_t from)
{
	if (from >= o->n)
		return UINT32_MAX;
	uint32_t w = from / 64;
	uint64_t word = o->alive[w] & (~0ull << (from % 64));
	uint32_t words = (o->n + 63) / 64;
	for (;;) {
		if (word) {
			uint32_t r = w * 64 + (uint32_t)__builtin_ctzll(word);
			return r < o->n ? r : UINT32_MAX;
		}
		if (++w >= words)
			return UINT32_MAX;
		word = o->alive[w];
	}
}

/* Last live rank in [0, from], or UINT32_MAX. */
static uint32_t scan_down(const sim_oracle *o, uint32_t from)
{
	if (from >= o->n)
		from = o->n - 1;
	int64_t w = from / 64;
	uint64_t mask = (from % 64 == 63) ? ~0ull : ((1ull << (from % 64 + 1)) - 1);
	uint64_t word = o->alive[w] & mask;
	for (;;) {
		if (word)
			return (uint32_t)w * 64 + 63u - (uint32_t)__builtin_clzll(word);
		if (--w < 0)
			return UINT32_MAX;
		word = o->alive[w];
	}
}

uint32_t sim_oracle_succ(const sim_oracle *o, uint32_t r)
{
	if (!o->n_alive)
		return UINT32_MAX;
	uint32_t s = scan_up(o, r + 1);
	return s != UINT32_MAX ? s : scan_up(o, 0);
}

uint32_t sim_oracle_pred(const sim_oracle *o, uint32_t r)
{
	if (!o->n_alive)
		return UINT32_MAX;
	uint32_t p = r ? scan_down(o, r - 1) : UINT32_MAX;
	return p != UINT32_MAX ? p : scan_down(o, o->n - 1);
}

int sim_oracle_find(const sim_oracle *o, const rn_id *id, uint32_t *rank)
{
	uint32_t lo = 0, hi = o->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = rn_id_cmp(&o->ids[mid], id);
		if (c == 0) {
			*rank = mid;
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}
