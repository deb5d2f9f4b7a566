/* Key and certificate files (see keyfile.h).
 *
 * One table describes the five kinds: header line, length of the payload
 * (0 for a certificate, whose length varies) and whether it is secret. A
 * file is read whole (it is small: FILE_MAX bounds it), its kind found from
 * the header, its mode checked if secret, its base64 decoded with an exact
 * length check. Every buffer that held a seed or its base64 is wiped with
 * sodium_memzero before return, on every path.
 *
 * Writing goes to a new file only: O_CREAT|O_EXCL with mode 0600, a loop
 * for short writes, fsync, close; on any failure the partial file is
 * unlinked, so a path either holds a whole key or nothing we wrote.
 */
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"

#define FILE_MAX 1024 /* bytes; the largest real file is about 350 */
#define B64_MAX                                                                \
	sodium_base64_ENCODED_LEN(RN_KEYFILE_BIN_MAX,                          \
	                          sodium_base64_VARIANT_ORIGINAL)

typedef struct kind_info {
	const char *header;
	const char *what;
	size_t len; /* payload bytes; 0: 1..RN_KEYFILE_BIN_MAX */
	int secret;
} kind_info;

static const kind_info kinds[RN_KEYFILE_KINDS] = {
    [RN_KEYFILE_GROUP_SECRET] = {"ringnet-group-secret-v1", "group secret key",
                                 RN_KEY_SEED_LEN, 1},
    [RN_KEYFILE_GROUP_PUB] = {"ringnet-group-v1", "group public key",
                              RN_SIGN_PK_LEN, 0},
    [RN_KEYFILE_NODE_SECRET] = {"ringnet-node-key-v1", "node secret key",
                                RN_KEY_SEED_LEN, 1},
    [RN_KEYFILE_NODE_PUB] = {"ringnet-node-pub-v1", "node public key",
                             RN_SIGN_PK_LEN, 0},
    [RN_KEYFILE_CERT] = {"ringnet-cert-v1", "member certificate", 0, 0},
};

_Static_assert(FILE_MAX > sizeof "ringnet-group-secret-v1\n" + B64_MAX,
               "a file of the largest kind fits");

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

const char *rn_keyfile_header(rn_keyfile_kind kind)
{
	return (unsigned)kind < RN_KEYFILE_KINDS ? kinds[kind].header : "?";
}

const char *rn_keyfile_describe(rn_keyfile_kind kind)
{
	return (unsigned)kind < RN_KEYFILE_KINDS ? kinds[kind].what : "?";
}

static int len_ok(rn_keyfile_kind kind, size_t len)
{
	size_t want = kinds[kind].len;
	return want ? len == want : len >= 1 && len <= RN_KEYFILE_BIN_MAX;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Creates path (never replacing it) and writes text[0..n) to disk. */
static int create_file(const char *path, const char *text, size_t n, char *err,
                       size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return fail(err, errlen, RN_ERR_IO,
		            "%s exists; remove it or choose another path",
		            path);
	if (fd < 0)
		return fail(err, errlen, RN_ERR_IO, "%s: cannot create: %s",
		            path, strerror(errno));
	if (write_all(fd, text, n) || fsync(fd)) {
		int e = errno;
		close(fd);
		unlink(path);
		return fail(err, errlen, RN_ERR_IO, "%s: cannot write: %s",
		            path, strerror(e));
	}
	if (close(fd)) {
		int e = errno;
		unlink(path);
		return fail(err, errlen, RN_ERR_IO, "%s: cannot write: %s",
		            path, strerror(e));
	}
	return 0;
}

int rn_keyfile_write(const char *path, rn_keyfile_kind kind,
                     const uint8_t *bytes, size_t len, char *err, size_t errlen)
{
	if ((unsigned)kind >= RN_KEYFILE_KINDS || !len_ok(kind, len))
		return fail(err, errlen, RN_ERR_INVAL,
		            "%s: %zu bytes is not a valid %s", path, len,
		            rn_keyfile_describe(kind));
	char text[FILE_MAX];
	int n = snprintf(text, sizeof text, "%s\n", kinds[kind].header);
	sodium_bin2base64(text + n, sizeof text - (size_t)n, bytes, len,
	                  sodium_base64_VARIANT_ORIGINAL);
	size_t total = strlen(text);
	text[total++] = '\n';
	int r = create_file(path, text, total, err, errlen);
	sodium_memzero(text, sizeof text);
	return r;
}

int rn_keyfile_write_seed(const char *path, rn_keyfile_kind kind,
                          const uint8_t seed[RN_KEY_SEED_LEN], char *err,
                          size_t errlen)
{
	return rn_keyfile_write(path, kind, seed, RN_KEY_SEED_LEN, err, errlen);
}

int rn_keyfile_write_pk(const char *path, rn_keyfile_kind kind,
                        const uint8_t pk[RN_SIGN_PK_LEN], char *err,
                        size_t errlen)
{
	return rn_keyfile_write(path, kind, pk, RN_SIGN_PK_LEN, err, errlen);
}

int rn_keyfile_write_cert(const char *path, const rn_cert *cert, char *err,
                          size_t errlen)
{
	uint8_t buf[RN_CERT_ENCODED_MAX];
	size_t len;
	int r = rn_cert_encode(cert, buf, sizeof buf, &len);
	if (r)
		return fail(err, errlen, r, "%s: cannot encode certificate: %s",
		            path, rn_strerror(r));
	return rn_keyfile_write(path, RN_KEYFILE_CERT, buf, len, err, errlen);
}

/* The whole file into text (NUL-terminated); *n its length. */
static int slurp(const char *path, char *text, size_t cap, size_t *n,
                 struct stat *st, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, RN_ERR_IO, "%s: cannot open: %s", path,
		            strerror(errno));
	int r = 0;
	*n = 0;
	if (fstat(fd, st)) {
		r = fail(err, errlen, RN_ERR_IO, "%s: cannot stat: %s", path,
		         strerror(errno));
	} else if (!S_ISREG(st->st_mode)) {
		r = fail(err, errlen, RN_ERR_IO, "%s: not a regular file",
		         path);
	}
	while (!r) {
		ssize_t got = read(fd, text + *n, cap - 1 - *n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			r = fail(err, errlen, RN_ERR_IO, "%s: cannot read: %s",
			         path, strerror(errno));
		else if (got == 0)
			break;
		else if ((*n += (size_t)got) == cap - 1)
			r = fail(err, errlen, RN_ERR_PROTO,
			         "%s: too large for a ringnet key file (over "
			         "%zu bytes)",
			         path, cap - 2);
	}
	close(fd);
	text[*n] = '\0';
	return r;
}

static int find_kind(const char *line, size_t len)
{
	for (int k = 0; k < RN_KEYFILE_KINDS; k++)
		if (strlen(kinds[k].header) == len &&
		    !memcmp(line, kinds[k].header, len))
			return k;
	return -1;
}

/* At most cap - 1 bytes of s[0..len) for a message, '?' for bytes that
 * are not printable ASCII (the file may be anything). */
static void printable(char *out, size_t cap, const char *s, size_t len)
{
	size_t i;
	for (i = 0; i < len && i + 1 < cap; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = '\0';
}

/* Header line, mode check, base64 line; text is NUL-terminated. */
static int parse(const char *path, char *text, const struct stat *st,
                 rn_keyfile_kind *kind, uint8_t *bin, size_t *len, char *err,
                 size_t errlen)
{
	size_t hlen = strcspn(text, "\r\n");
	int k = find_kind(text, hlen);
	if (k < 0) {
		char shown[41];
		printable(shown, sizeof shown, text, hlen);
		return fail(err, errlen, RN_ERR_PROTO,
		            "%s: not a ringnet key file: the first line is "
		            "'%s', expected e.g. 'ringnet-group-v1'",
		            path, shown);
	}
	mode_t perm = st->st_mode & 0777;
	if (kinds[k].secret && (perm & 077))
		return fail(err, errlen, RN_ERR_IO,
		            "%s: permissions %04o are too open for a %s; chmod "
		            "600 %s",
		            path, (unsigned)perm, kinds[k].what, path);
	char *b64 = text + hlen;
	b64 += strspn(b64, "\r\n");
	size_t blen = strlen(b64);
	while (blen && strchr(" \t\r\n", b64[blen - 1]))
		blen--;
	const char *end = NULL;
	if (sodium_base642bin(bin, RN_KEYFILE_BIN_MAX, b64, blen, NULL, len,
	                      &end, sodium_base64_VARIANT_ORIGINAL) ||
	    end != b64 + blen || blen == 0)
		return fail(err, errlen, RN_ERR_PROTO,
		            "%s: line 2 is not one line of base64 of a %s; the "
		            "file is damaged",
		            path, kinds[k].what);
	if (!len_ok((rn_keyfile_kind)k, *len))
		return fail(err, errlen, RN_ERR_PROTO,
		            "%s: holds %zu bytes, but a %s is %zu; the file is "
		            "damaged",
		            path, *len, kinds[k].what, kinds[k].len);
	*kind = (rn_keyfile_kind)k;
	return 0;
}

int rn_keyfile_read(const char *path, rn_keyfile_kind *kind, uint8_t *bin,
                    size_t *len, char *err, size_t errlen)
{
	char text[FILE_MAX + 1];
	struct stat st;
	size_t n;
	*len = 0;
	int r = slurp(path, text, sizeof text, &n, &st, err, errlen);
	if (!r)
		r = parse(path, text, &st, kind, bin, len, err, errlen);
	sodium_memzero(text, sizeof text);
	if (r)
		sodium_memzero(bin, RN_KEYFILE_BIN_MAX);
	return r;
}

static int wrong_kind(const char *path, rn_keyfile_kind got, const char *want,
                      char *err, size_t errlen)
{
	return fail(err, errlen, RN_ERR_PROTO, "%s is a %s, not a %s", path,
	            rn_keyfile_describe(got), want);
}

/* A key pair from a file of kind secret (or its public half from a file
 * of kind pub when sk is NULL). */
static int read_key(const char *path, rn_keyfile_kind secret,
                    rn_keyfile_kind pub, uint8_t pk[RN_SIGN_PK_LEN],
                    uint8_t sk[RN_SIGN_SK_LEN], const char *want, char *err,
                    size_t errlen)
{
	uint8_t bin[RN_KEYFILE_BIN_MAX], sk_tmp[RN_SIGN_SK_LEN];
	rn_keyfile_kind kind;
	size_t len;
	int r = rn_keyfile_read(path, &kind, bin, &len, err, errlen);
	if (r)
		return r;
	if (kind == pub && !sk) {
		memcpy(pk, bin, RN_SIGN_PK_LEN);
	} else if (kind == secret) {
		/* rn_group_keypair and rn_nodekey_keypair are both the
		 * Ed25519 seed key pair; call the one the kind names. */
		r = secret == RN_KEYFILE_GROUP_SECRET
		        ? rn_group_keypair(pk, sk ? sk : sk_tmp, bin)
		        : rn_nodekey_keypair(pk, sk ? sk : sk_tmp, bin);
		if (r)
			fail(err, errlen, r, "%s: not a usable %s", path,
			     kinds[secret].what);
	} else {
		r = wrong_kind(path, kind, want, err, errlen);
	}
	sodium_memzero(bin, sizeof bin);
	sodium_memzero(sk_tmp, sizeof sk_tmp);
	return r;
}

int rn_keyfile_read_group_secret(const char *path, uint8_t pk[RN_SIGN_PK_LEN],
                                 uint8_t sk[RN_SIGN_SK_LEN], char *err,
                                 size_t errlen)
{
	return read_key(path, RN_KEYFILE_GROUP_SECRET, RN_KEYFILE_GROUP_PUB, pk,
	                sk, "group secret key", err, errlen);
}

int rn_keyfile_read_node_secret(const char *path, uint8_t pk[RN_SIGN_PK_LEN],
                                uint8_t sk[RN_SIGN_SK_LEN], char *err,
                                size_t errlen)
{
	return read_key(path, RN_KEYFILE_NODE_SECRET, RN_KEYFILE_NODE_PUB, pk,
	                sk, "node secret key", err, errlen);
}

int rn_keyfile_read_group_pk(const char *path, uint8_t pk[RN_SIGN_PK_LEN],
                             char *err, size_t errlen)
{
	return read_key(path, RN_KEYFILE_GROUP_SECRET, RN_KEYFILE_GROUP_PUB, pk,
	                NULL, "group public or secret key", err, errlen);
}

int rn_keyfile_read_node_pk(const char *path, uint8_t pk[RN_SIGN_PK_LEN],
                            char *err, size_t errlen)
{
	return read_key(path, RN_KEYFILE_NODE_SECRET, RN_KEYFILE_NODE_PUB, pk,
	                NULL, "node public or secret key", err, errlen);
}

int rn_keyfile_read_cert(const char *path, rn_cert *cert, char *err,
                         size_t errlen)
{
	uint8_t bin[RN_KEYFILE_BIN_MAX];
	rn_keyfile_kind kind;
	size_t len;
	int r = rn_keyfile_read(path, &kind, bin, &len, err, errlen);
	if (!r && kind != RN_KEYFILE_CERT)
		r = wrong_kind(path, kind, "member certificate", err, errlen);
	else if (!r && (r = rn_cert_decode(bin, len, cert)))
		fail(err, errlen, r,
		     "%s: the certificate does not decode (%s); the file is "
		     "damaged",
		     path, rn_strerror(r));
	sodium_memzero(bin, sizeof bin); /* it may have been a secret */
	return r;
}
