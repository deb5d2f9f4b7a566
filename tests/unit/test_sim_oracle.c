/* Unit tests for sim/oracle.c: the true ring (sorted ids + alive bitmap),
 * against a naive model: ranks computed by counting smaller ids, and
 * successor / predecessor found by a linear cyclic scan of a plain array of
 * alive flags. Inputs come from the tests' own generator (test_util.h). */
#include "test_util.h"

#include "sim/oracle.h"

typedef struct model {
	uint32_t n;
	unsigned char *alive; /* by rank */
	uint32_t n_alive;
} model;

static uint32_t model_succ(const model *m, uint32_t r)
{
	for (uint32_t k = 1; k <= m->n; k++) {
		uint32_t c = (uint32_t)(((uint64_t)r + k) % m->n);
		if (m->alive[c])
			return c;
	}
	return UINT32_MAX;
}

static uint32_t model_pred(const model *m, uint32_t r)
{
	for (uint32_t k = 1; k <= m->n; k++) {
		uint32_t c = (uint32_t)(((uint64_t)r + m->n - k) % m->n);
		if (m->alive[c])
			return c;
	}
	return UINT32_MAX;
}

static void model_set(model *m, uint32_t r, int alive)
{
	if (alive && !m->alive[r])
		m->n_alive++;
	else if (!alive && m->alive[r])
		m->n_alive--;
	m->alive[r] = (unsigned char)(alive != 0);
}

/* Random distinct ids (20 random bytes each; a collision is astronomically
 * unlikely but is checked so that ranks are well defined). */
static rn_id *random_ids(trng *g, uint32_t n)
{
	rn_id *ids = malloc((size_t)(n ? n : 1) * sizeof *ids);
	assert_non_null(ids);
	for (uint32_t i = 0; i < n; i++)
		trng_bytes(g, ids[i].b, RN_ID_LEN);
	return ids;
}

/* Rank of node i by counting strictly smaller ids (memcmp on the
 * big-endian bytes, independent of rn_id_cmp). */
static uint32_t naive_rank(const rn_id *ids, uint32_t n, uint32_t i)
{
	uint32_t r = 0;
	for (uint32_t j = 0; j < n; j++)
		if (memcmp(ids[j].b, ids[i].b, RN_ID_LEN) < 0)
			r++;
	return r;
}

static void check_all(const sim_oracle *o, const model *m, uint64_t seed,
		      uint64_t iter)
{
	PCHECK(o->n_alive == m->n_alive, seed, iter);
	for (uint32_t r = 0; r < m->n; r++) {
		PCHECK((sim_oracle_is_alive(o, r) != 0) == (m->alive[r] != 0),
		       seed, iter);
		uint32_t s = sim_oracle_succ(o, r), es = model_succ(m, r);
		uint32_t p = sim_oracle_pred(o, r), ep = model_pred(m, r);
		if (s != es || p != ep)
			print_error("n=%u rank=%u succ=%u (want %u) pred=%u "
				    "(want %u) n_alive=%u\n",
				    m->n, r, s, es, p, ep, m->n_alive);
		PCHECK(s == es, seed, iter);
		PCHECK(p == ep, seed, iter);
	}
}

static void test_ranks(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng g;
	trng_init(&g, seed);
	static const uint32_t sizes[] = {1, 2, 3, 63, 64, 65, 127, 128, 129, 500};
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		uint32_t n = sizes[k];
		rn_id *ids = random_ids(&g, n);
		for (uint32_t i = 0; i < n; i++)
			for (uint32_t j = 0; j < i; j++)
				assert_true(memcmp(ids[i].b, ids[j].b,
						   RN_ID_LEN) != 0);
		uint32_t *rank_of = malloc(n * sizeof *rank_of);
		unsigned char *seen = calloc(n, 1);
		assert_non_null(rank_of);
		assert_non_null(seen);
		memset(rank_of, 0xff, n * sizeof *rank_of);
		sim_oracle o;
		assert_int_equal(sim_oracle_init(&o, ids, n, rank_of), 0);
		PCHECK(o.n == n, seed, k);
		PCHECK(o.n_alive == 0, seed, k);
		for (uint32_t i = 0; i < n; i++) {
			uint32_t r = rank_of[i];
			PCHECK(r == naive_rank(ids, n, i), seed, i);
			PCHECK(!seen[r], seed, i);
			seen[r] = 1;
			PCHECK(o.node_of[r] == i, seed, i);
			PCHECK(memcmp(o.ids[r].b, ids[i].b, RN_ID_LEN) == 0,
			       seed, i);
		}
		for (uint32_t r = 1; r < n; r++)
			PCHECK(memcmp(o.ids[r - 1].b, o.ids[r].b, RN_ID_LEN) < 0,
			       seed, r);
		/* nobody alive yet */
		for (uint32_t r = 0; r < n; r++) {
			PCHECK(!sim_oracle_is_alive(&o, r), seed, r);
			PCHECK(sim_oracle_succ(&o, r) == UINT32_MAX, seed, r);
			PCHECK(sim_oracle_pred(&o, r) == UINT32_MAX, seed, r);
		}
		sim_oracle_free(&o);
		free(seen);
		free(rank_of);
		free(ids);
	}
}

/* Ids given in a known order: ranks are known by construction. */
static void test_known_order(void **state)
{
	(void)state;
	rn_id ids[5];
	memset(ids, 0, sizeof ids);
	/* node i gets the value in vals[i] in the top byte (and the low
	 * byte, to check that the whole id is compared). */
	static const uint8_t top[5] = {0x80, 0x10, 0xff, 0x10, 0x00};
	static const uint8_t low[5] = {0x00, 0x02, 0x00, 0x01, 0x07};
	for (int i = 0; i < 5; i++) {
		ids[i].b[0] = top[i];
		ids[i].b[RN_ID_LEN - 1] = low[i];
	}
	/* sorted: node4 (00..07), node3 (10..01), node1 (10..02), node0, node2 */
	static const uint32_t want_rank[5] = {3, 2, 4, 1, 0};
	uint32_t rank_of[5];
	sim_oracle o;
	assert_int_equal(sim_oracle_init(&o, ids, 5, rank_of), 0);
	for (uint32_t i = 0; i < 5; i++) {
		assert_int_equal(rank_of[i], want_rank[i]);
		assert_int_equal(o.node_of[want_rank[i]], i);
	}
	sim_oracle_free(&o);
}

static void test_single_and_idempotent(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng g;
	trng_init(&g, seed ^ 0x1111);
	static const uint32_t sizes[] = {1, 2, 64, 65, 130};
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		uint32_t n = sizes[k];
		rn_id *ids = random_ids(&g, n);
		uint32_t *rank_of = malloc(n * sizeof *rank_of);
		assert_non_null(rank_of);
		sim_oracle o;
		assert_int_equal(sim_oracle_init(&o, ids, n, rank_of), 0);
		/* each rank, alone: it is its own successor and predecessor,
		 * and everyone else's too */
		for (uint32_t r = 0; r < n; r++) {
			sim_oracle_set_alive(&o, r, 1);
			sim_oracle_set_alive(&o, r, 1); /* idempotent */
			PCHECK(o.n_alive == 1, seed, r);
			PCHECK(sim_oracle_is_alive(&o, r), seed, r);
			for (uint32_t q = 0; q < n; q++) {
				PCHECK(sim_oracle_succ(&o, q) == r, seed, q);
				PCHECK(sim_oracle_pred(&o, q) == r, seed, q);
			}
			sim_oracle_set_alive(&o, r, 0);
			sim_oracle_set_alive(&o, r, 0); /* idempotent */
			PCHECK(o.n_alive == 0, seed, r);
			PCHECK(!sim_oracle_is_alive(&o, r), seed, r);
			PCHECK(sim_oracle_succ(&o, r) == UINT32_MAX, seed, r);
			PCHECK(sim_oracle_pred(&o, r) == UINT32_MAX, seed, r);
		}
		/* all alive: neighbours are r +- 1 mod n */
		for (uint32_t r = 0; r < n; r++)
			sim_oracle_set_alive(&o, r, 1);
		PCHECK(o.n_alive == n, seed, k);
		for (uint32_t r = 0; r < n; r++) {
			PCHECK(sim_oracle_succ(&o, r) == (r + 1) % n, seed, r);
			PCHECK(sim_oracle_pred(&o, r) == (r + n - 1) % n, seed,
			       r);
		}
		/* setting alive again changes nothing */
		for (uint32_t r = 0; r < n; r++)
			sim_oracle_set_alive(&o, r, 1);
		PCHECK(o.n_alive == n, seed, k);
		sim_oracle_free(&o);
		free(rank_of);
		free(ids);
	}
}

/* Random toggles at several densities, compared after every step. */
static void test_random_vs_model(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng g;
	trng_init(&g, seed ^ 0x2222);
	static const uint32_t sizes[] = {2, 3, 63, 64, 65, 128, 129, 300};
	/* probability (per 1000) that a toggle makes a node alive */
	static const uint32_t dens[] = {20, 500, 980};
	uint64_t iter = 0;
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
		for (size_t d = 0; d < sizeof dens / sizeof dens[0]; d++) {
			uint32_t n = sizes[k];
			rn_id *ids = random_ids(&g, n);
			uint32_t *rank_of = malloc(n * sizeof *rank_of);
			assert_non_null(rank_of);
			sim_oracle o;
			assert_int_equal(sim_oracle_init(&o, ids, n, rank_of), 0);
			model m = {n, calloc(n, 1), 0};
			assert_non_null(m.alive);
			for (uint32_t step = 0; step < 4 * n; step++, iter++) {
				uint32_t r = (uint32_t)trng_below(&g, n);
				int a = trng_below(&g, 1000) < dens[d];
				sim_oracle_set_alive(&o, r, a);
				model_set(&m, r, a);
				if (step % 7 == 0 || step + 1 == 4 * n)
					check_all(&o, &m, seed, iter);
			}
			/* kill everything: back to none */
			for (uint32_t r = 0; r < n; r++) {
				sim_oracle_set_alive(&o, r, 0);
				model_set(&m, r, 0);
			}
			check_all(&o, &m, seed, iter);
			PCHECK(o.n_alive == 0, seed, iter);
			free(m.alive);
			sim_oracle_free(&o);
			free(rank_of);
			free(ids);
		}
}

/* Live ranks only at the edges of 64-bit words, so that scans cross word
 * boundaries in both directions. */
static void test_word_edges(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng g;
	trng_init(&g, seed ^ 0x3333);
	const uint32_t n = 257;
	rn_id *ids = random_ids(&g, n);
	uint32_t rank_of[257];
	sim_oracle o;
	assert_int_equal(sim_oracle_init(&o, ids, n, rank_of), 0);
	model m = {n, calloc(n, 1), 0};
	assert_non_null(m.alive);
	static const uint32_t pats[][3] = {
		{0, 63, 64}, {63, 64, 256}, {127, 128, 255}, {0, 256, 191},
		{65, 129, 200}, {256, 256, 256}, {0, 0, 0}, {192, 63, 1}};
	for (size_t k = 0; k < sizeof pats / sizeof pats[0]; k++) {
		for (uint32_t r = 0; r < n; r++) {
			sim_oracle_set_alive(&o, r, 0);
			model_set(&m, r, 0);
		}
		for (int j = 0; j < 3; j++) {
			sim_oracle_set_alive(&o, pats[k][j], 1);
			model_set(&m, pats[k][j], 1);
		}
		check_all(&o, &m, seed, k);
	}
	free(m.alive);
	sim_oracle_free(&o);
	free(ids);
}

int main(void)
{
	printf("RN_TEST_SEED=%llu\n", (unsigned long long)rn_test_seed());
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranks),
		cmocka_unit_test(test_known_order),
		cmocka_unit_test(test_single_and_idempotent),
		cmocka_unit_test(test_random_vs_model),
		cmocka_unit_test(test_word_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
