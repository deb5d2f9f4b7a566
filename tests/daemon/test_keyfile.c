/* Unit tests for daemon/keyfile.c: key and certificate files.
 *
 * Keys come from fixed seeds. Round trips for each of the five kinds (the
 * bytes read back equal the bytes written, and the derived key pairs equal
 * rn_group_keypair / rn_nodekey_keypair of the seed); the file's exact text
 * and mode; then every refusal: an existing file, a missing file, a
 * directory, a wrong header, bad base64, a wrong length, a certificate
 * that does not decode, a file of another kind, a secret readable by
 * others, an oversized file. All files live in one mkdtemp directory and
 * are removed by each case.
 */
#include "test_util.h"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cert.h"
#include "core/err.h"
#include "daemon/keyfile.h"

#define T0 1700000000ull

static char dir[64];

static int group_setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	snprintf(dir, sizeof dir, "/tmp/rn_test_keyfile_XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

static const char *path_of(const char *name)
{
	static char path[4][128];
	static int next;
	char *p = path[next++ % 4];
	snprintf(p, sizeof path[0], "%s/%s", dir, name);
	return p;
}

static void put_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void seed_fill(uint8_t seed[RN_KEY_SEED_LEN], uint8_t v)
{
	memset(seed, v, RN_KEY_SEED_LEN);
}

static void expect_err(int r, int code, const char *err, const char *want)
{
	assert_int_equal(r, code);
	if (!strstr(err, want))
		fail_msg("got '%s', want '%s'", err, want);
}

static void test_group_round_trip(void **state)
{
	(void)state;
	uint8_t seed[RN_KEY_SEED_LEN], pk[RN_SIGN_PK_LEN], sk[RN_SIGN_SK_LEN];
	uint8_t pk2[RN_SIGN_PK_LEN], sk2[RN_SIGN_SK_LEN], pk3[RN_SIGN_PK_LEN];
	char err[512];
	const char *sec = path_of("group.secret"), *pub = path_of("group.pub");
	seed_fill(seed, 0x11);
	assert_int_equal(rn_group_keypair(pk, sk, seed), 0);
	assert_int_equal(rn_keyfile_write_seed(sec, RN_KEYFILE_GROUP_SECRET,
	                                       seed, err, sizeof err),
	                 0);
	assert_int_equal(
	    rn_keyfile_write_pk(pub, RN_KEYFILE_GROUP_PUB, pk, err, sizeof err),
	    0);
	assert_int_equal(
	    rn_keyfile_read_group_secret(sec, pk2, sk2, err, sizeof err), 0);
	assert_memory_equal(pk2, pk, sizeof pk);
	assert_memory_equal(sk2, sk, sizeof sk);
	memset(pk3, 0, sizeof pk3);
	assert_int_equal(rn_keyfile_read_group_pk(pub, pk3, err, sizeof err),
	                 0);
	assert_memory_equal(pk3, pk, sizeof pk);
	memset(pk3, 0, sizeof pk3);
	assert_int_equal(rn_keyfile_read_group_pk(sec, pk3, err, sizeof err),
	                 0);
	assert_memory_equal(pk3, pk, sizeof pk);
	unlink(sec);
	unlink(pub);
}

static void test_node_round_trip(void **state)
{
	(void)state;
	uint8_t seed[RN_KEY_SEED_LEN], pk[RN_SIGN_PK_LEN], sk[RN_SIGN_SK_LEN];
	uint8_t pk2[RN_SIGN_PK_LEN], sk2[RN_SIGN_SK_LEN];
	char err[512];
	const char *sec = path_of("node.key"), *pub = path_of("node.key.pub");
	seed_fill(seed, 0x33);
	assert_int_equal(rn_nodekey_keypair(pk, sk, seed), 0);
	assert_int_equal(rn_keyfile_write_seed(sec, RN_KEYFILE_NODE_SECRET,
	                                       seed, err, sizeof err),
	                 0);
	assert_int_equal(
	    rn_keyfile_write_pk(pub, RN_KEYFILE_NODE_PUB, pk, err, sizeof err),
	    0);
	assert_int_equal(
	    rn_keyfile_read_node_secret(sec, pk2, sk2, err, sizeof err), 0);
	assert_memory_equal(pk2, pk, sizeof pk);
	assert_memory_equal(sk2, sk, sizeof sk);
	memset(pk2, 0, sizeof pk2);
	assert_int_equal(rn_keyfile_read_node_pk(pub, pk2, err, sizeof err), 0);
	assert_memory_equal(pk2, pk, sizeof pk);
	memset(pk2, 0, sizeof pk2);
	assert_int_equal(rn_keyfile_read_node_pk(sec, pk2, err, sizeof err), 0);
	assert_memory_equal(pk2, pk, sizeof pk);
	unlink(sec);
	unlink(pub);
}

static void make_cert(rn_cert *c)
{
	uint8_t seed[RN_KEY_SEED_LEN], gpk[RN_SIGN_PK_LEN], gsk[RN_SIGN_SK_LEN];
	uint8_t npk[RN_SIGN_PK_LEN], nsk[RN_SIGN_SK_LEN];
	static const uint8_t vip[4] = {10, 77, 0, 5};
	seed_fill(seed, 0x11);
	assert_int_equal(rn_group_keypair(gpk, gsk, seed), 0);
	seed_fill(seed, 0x33);
	assert_int_equal(rn_nodekey_keypair(npk, nsk, seed), 0);
	assert_int_equal(
	    rn_cert_issue(c, gsk, npk, vip, 4, "alpha", T0, T0 + 86400), 0);
}

static void test_cert_round_trip(void **state)
{
	(void)state;
	rn_cert c, d;
	uint8_t a[RN_CERT_ENCODED_MAX], b[RN_CERT_ENCODED_MAX];
	size_t alen, blen;
	char err[512];
	const char *path = path_of("alpha.cert");
	make_cert(&c);
	assert_int_equal(rn_keyfile_write_cert(path, &c, err, sizeof err), 0);
	assert_int_equal(rn_keyfile_read_cert(path, &d, err, sizeof err), 0);
	assert_int_equal(rn_cert_encode(&c, a, sizeof a, &alen), 0);
	assert_int_equal(rn_cert_encode(&d, b, sizeof b, &blen), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	assert_int_equal(rn_cert_verify(&d, c.group_pk, T0 + 1), 0);
	unlink(path);
}

static void test_file_text_and_mode(void **state)
{
	(void)state;
	uint8_t pk[RN_SIGN_PK_LEN];
	char err[512], text[256];
	struct stat st;
	const char *path = path_of("zero.pub");
	memset(pk, 0, sizeof pk);
	assert_int_equal(rn_keyfile_write_pk(path, RN_KEYFILE_GROUP_PUB, pk,
	                                     err, sizeof err),
	                 0);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	assert_string_equal(text,
	                    "ringnet-group-v1\n"
	                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	unlink(path);
}

static void test_lenient_line_ends(void **state)
{
	(void)state;
	uint8_t pk[RN_SIGN_PK_LEN], zero[RN_SIGN_PK_LEN] = {0};
	char err[512];
	const char *path = path_of("crlf.pub");
	put_file(path,
	         "ringnet-group-v1\r\n"
	         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n",
	         0644);
	assert_int_equal(rn_keyfile_read_group_pk(path, pk, err, sizeof err),
	                 0);
	assert_memory_equal(pk, zero, sizeof pk);
	unlink(path);
	put_file(
	    path,
	    "ringnet-group-v1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	    0644);
	assert_int_equal(rn_keyfile_read_group_pk(path, pk, err, sizeof err),
	                 0);
	unlink(path);
}

static void test_never_overwrites(void **state)
{
	(void)state;
	uint8_t seed[RN_KEY_SEED_LEN];
	char err[512], want[256];
	struct stat st;
	const char *path = path_of("taken");
	put_file(path, "precious\n", 0600);
	seed_fill(seed, 0x44);
	assert_int_equal(rn_keyfile_write_seed(path, RN_KEYFILE_NODE_SECRET,
	                                       seed, err, sizeof err),
	                 RN_ERR_IO);
	snprintf(want, sizeof want,
	         "%s exists; remove it or choose another path", path);
	assert_string_equal(err, want);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 9);
	unlink(path);
}

static void test_write_errors(void **state)
{
	(void)state;
	uint8_t bytes[RN_KEYFILE_BIN_MAX + 1] = {0};
	char err[512];
	const char *path = path_of("never");
	expect_err(rn_keyfile_write(path, RN_KEYFILE_GROUP_PUB, bytes, 31, err,
	                            sizeof err),
	           RN_ERR_INVAL, err,
	           "31 bytes is not a valid group public key");
	expect_err(rn_keyfile_write(path, RN_KEYFILE_CERT, bytes, sizeof bytes,
	                            err, sizeof err),
	           RN_ERR_INVAL, err, "is not a valid member certificate");
	assert_int_equal(access(path, F_OK), -1);
	expect_err(rn_keyfile_write(path_of("no/such/dir"),
	                            RN_KEYFILE_GROUP_PUB, bytes, 32, err,
	                            sizeof err),
	           RN_ERR_IO, err, "cannot create: No such file or directory");
}

static void test_read_missing_and_dir(void **state)
{
	(void)state;
	uint8_t pk[RN_SIGN_PK_LEN];
	char err[512];
	expect_err(
	    rn_keyfile_read_group_pk(path_of("absent"), pk, err, sizeof err),
	    RN_ERR_IO, err, "cannot open: No such file or directory");
	expect_err(rn_keyfile_read_group_pk(dir, pk, err, sizeof err),
	           RN_ERR_IO, err, "not a regular file");
}

/* Writes text into a file of the given mode and expects reading it as a
 * group public key to fail with code and a message containing want. */
static void expect_bad_group_pk(const char *text, mode_t mode, int code,
                                const char *want)
{
	uint8_t pk[RN_SIGN_PK_LEN];
	char err[512];
	const char *path = path_of("bad");
	put_file(path, text, mode);
	expect_err(rn_keyfile_read_group_pk(path, pk, err, sizeof err), code,
	           err, want);
	assert_non_null(strstr(err, path));
	unlink(path);
}

static void test_read_bad_contents(void **state)
{
	(void)state;
	expect_bad_group_pk("", 0644, RN_ERR_PROTO, "not a ringnet key file");
	expect_bad_group_pk("ringnet-group-v2\nAAAA\n", 0644, RN_ERR_PROTO,
	                    "the first line is 'ringnet-group-v2'");
	expect_bad_group_pk("ringnet-group-v1\n", 0644, RN_ERR_PROTO,
	                    "line 2 is not one line of base64");
	expect_bad_group_pk("ringnet-group-v1\nAAAA*AAA\n", 0644, RN_ERR_PROTO,
	                    "line 2 is not one line of base64");
	expect_bad_group_pk("ringnet-group-v1\nAAAA\nAAAA\n", 0644,
	                    RN_ERR_PROTO, "line 2 is not one line of base64");
	/* 31 bytes of valid base64 */
	expect_bad_group_pk("ringnet-group-v1\n"
	                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n",
	                    0644, RN_ERR_PROTO,
	                    "holds 31 bytes, but a group public key is 32");
	expect_bad_group_pk("ringnet-node-pub-v1\n"
	                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	                    0644, RN_ERR_PROTO,
	                    "is a node public key, not a group public or "
	                    "secret key");
}

static void test_read_too_large(void **state)
{
	(void)state;
	char text[2048];
	memset(text, 'A', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	memcpy(text, "ringnet-group-v1\n", 17);
	expect_bad_group_pk(text, 0644, RN_ERR_PROTO, "too large");
}

static void test_secret_permissions(void **state)
{
	(void)state;
	uint8_t seed[RN_KEY_SEED_LEN], pk[RN_SIGN_PK_LEN], sk[RN_SIGN_SK_LEN];
	char err[512], want[256];
	const char *path = path_of("open.secret");
	seed_fill(seed, 0x11);
	assert_int_equal(rn_keyfile_write_seed(path, RN_KEYFILE_GROUP_SECRET,
	                                       seed, err, sizeof err),
	                 0);
	assert_int_equal(chmod(path, 0644), 0);
	snprintf(want, sizeof want,
	         "%s: permissions 0644 are too open for a group secret key; "
	         "chmod 600 %s",
	         path, path);
	assert_int_equal(
	    rn_keyfile_read_group_secret(path, pk, sk, err, sizeof err),
	    RN_ERR_IO);
	assert_string_equal(err, want);
	/* also when only its public half is asked for */
	assert_int_equal(rn_keyfile_read_group_pk(path, pk, err, sizeof err),
	                 RN_ERR_IO);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(
	    rn_keyfile_read_group_secret(path, pk, sk, err, sizeof err),
	    RN_ERR_IO);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(
	    rn_keyfile_read_group_secret(path, pk, sk, err, sizeof err), 0);
	unlink(path);
}

static void test_wrong_kinds(void **state)
{
	(void)state;
	uint8_t seed[RN_KEY_SEED_LEN], pk[RN_SIGN_PK_LEN], sk[RN_SIGN_SK_LEN];
	rn_cert c;
	char err[512];
	const char *gpub = path_of("g.pub"), *nsec = path_of("n.key");
	seed_fill(seed, 0x55);
	memset(pk, 7, sizeof pk);
	assert_int_equal(rn_keyfile_write_pk(gpub, RN_KEYFILE_GROUP_PUB, pk,
	                                     err, sizeof err),
	                 0);
	assert_int_equal(rn_keyfile_write_seed(nsec, RN_KEYFILE_NODE_SECRET,
	                                       seed, err, sizeof err),
	                 0);
	expect_err(rn_keyfile_read_group_secret(gpub, pk, sk, err, sizeof err),
	           RN_ERR_PROTO, err,
	           "is a group public key, not a group secret key");
	expect_err(rn_keyfile_read_group_secret(nsec, pk, sk, err, sizeof err),
	           RN_ERR_PROTO, err,
	           "is a node secret key, not a group secret key");
	expect_err(rn_keyfile_read_node_secret(gpub, pk, sk, err, sizeof err),
	           RN_ERR_PROTO, err, "not a node secret key");
	expect_err(rn_keyfile_read_node_pk(gpub, pk, err, sizeof err),
	           RN_ERR_PROTO, err, "not a node public or secret key");
	expect_err(rn_keyfile_read_cert(nsec, &c, err, sizeof err),
	           RN_ERR_PROTO, err,
	           "is a node secret key, not a member certificate");
	unlink(gpub);
	unlink(nsec);
}

static void test_cert_does_not_decode(void **state)
{
	(void)state;
	uint8_t junk[40];
	rn_cert c;
	char err[512];
	const char *path = path_of("junk.cert");
	memset(junk, 0x90, sizeof junk);
	assert_int_equal(rn_keyfile_write(path, RN_KEYFILE_CERT, junk,
	                                  sizeof junk, err, sizeof err),
	                 0);
	int r = rn_keyfile_read_cert(path, &c, err, sizeof err);
	assert_true(r < 0);
	if (!strstr(err, "the certificate does not decode"))
		fail_msg("got '%s'", err);
	unlink(path);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(rn_keyfile_header(RN_KEYFILE_CERT),
	                    "ringnet-cert-v1");
	assert_string_equal(rn_keyfile_header(RN_KEYFILE_NODE_SECRET),
	                    "ringnet-node-key-v1");
	assert_string_equal(rn_keyfile_describe(RN_KEYFILE_GROUP_SECRET),
	                    "group secret key");
	assert_string_equal(rn_keyfile_header(RN_KEYFILE_KINDS), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_group_round_trip),
	    cmocka_unit_test(test_node_round_trip),
	    cmocka_unit_test(test_cert_round_trip),
	    cmocka_unit_test(test_file_text_and_mode),
	    cmocka_unit_test(test_lenient_line_ends),
	    cmocka_unit_test(test_never_overwrites),
	    cmocka_unit_test(test_write_errors),
	    cmocka_unit_test(test_read_missing_and_dir),
	    cmocka_unit_test(test_read_bad_contents),
	    cmocka_unit_test(test_read_too_large),
	    cmocka_unit_test(test_secret_permissions),
	    cmocka_unit_test(test_wrong_kinds),
	    cmocka_unit_test(test_cert_does_not_decode),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
