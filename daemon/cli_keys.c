/* `ringnet group|key|member`: the offline key commands (see cli_keys.h).
 *
 * Each action is one function: parse options with getopt_long, check every
 * argument before touching a file, then read, sign and write through
 * keyfile.c. Fresh seeds come from libsodium's randombytes_buf (this is the
 * driver side; the sans-I/O core only ever sees the seed bytes), and every
 * buffer that held a seed or a secret key is wiped before return.
 *
 * Pairs of files (group.secret and group.pub, FILE and FILE.pub) are
 * written secret first; if the public one cannot be written the secret one
 * is removed again, so a failed command leaves no half-made key behind.
 *
 * getopt keeps its state in globals: every parse starts with optind = 0,
 * which makes glibc start over, so these functions may run many times in
 * one process (the tests do).
 */
#include "cli_keys.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cert.h"
#include "core/err.h"
#include "core/id.h"
#include "daemon/keyfile.h"

#define ERR_MAX       512
#define PATH_LEN_MAX  4096
#define DAYS_DEFAULT  365
#define DAYS_MAX      36500
#define BACKDATE_S    60 /* default not_before = now - this, for clock skew */
#define SECONDS_A_DAY 86400u
#define B64_PK_LEN                                                             \
	sodium_base64_ENCODED_LEN(RN_SIGN_PK_LEN,                              \
	                          sodium_base64_VARIANT_ORIGINAL)

static const char group_help[] =
    "usage: ringnet group new [--out DIR]\n"
    "       ringnet group id FILE\n"
    "\n"
    "  new   make a new group: writes DIR/group.secret (keep it offline;\n"
    "        whoever holds it admits members) and DIR/group.pub (the\n"
    "        trust anchor every member needs). DIR defaults to '.'.\n"
    "  id    print the group id of a group.pub or group.secret file\n";

static const char key_help[] =
    "usage: ringnet key new [--out FILE]\n"
    "       ringnet key pub FILE\n"
    "\n"
    "  new   make a node key: writes FILE (secret, mode 0600) and\n"
    "        FILE.pub, prints the public key. FILE defaults to node.key.\n"
    "  pub   print the public key (base64) of a node key or .pub file\n";

static const char member_help[] =
    "usage: ringnet member add --group-secret FILE --node-pub FILE\n"
    "                          (--vip ADDR | --range ADDR/LEN) --name NAME\n"
    "                          [--days N] [--not-before UNIX] --out FILE\n"
    "       ringnet member show FILE [--group FILE]\n"
    "\n"
    "  add   sign a member certificate with the group secret key\n"
    "        --vip         the member's virtual IPv4 or IPv6 address\n"
    "        --range       instead of --vip: a range (e.g. 10.77.128.0/17)\n"
    "                      in which the member claims a free address\n"
    "                      through the DHT each time it starts\n"
    "        --name        1 to 63 characters from A-Z a-z 0-9 . _ -\n"
    "        --days        validity in days, 1 to 36500 (default 365)\n"
    "        --not-before  start of validity, unix seconds (default: now\n"
    "                      minus 60 s)\n"
    "  show  print a certificate; with --group (group.pub), check that it\n"
    "        verifies now (exit 1 if it does not)\n";

static int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "ringnet: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'ringnet %s --help'.\n", cmd);
	return RN_CLI_USAGE;
}

static int failure(const char *fmt, ...)
{
	va_list ap;
	fputs("ringnet: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return RN_CLI_FAIL;
}

static int help(const char *text)
{
	fputs(text, stdout);
	return RN_CLI_OK;
}

/* getopt_long from the start of argv (argv[0] is the action word). */
static int next_opt(int argc, char **argv, const char *shortopts,
                    const struct option *longopts)
{
	return getopt_long(argc, argv, shortopts, longopts, NULL);
}

static void opts_reset(void)
{
	optind = 0; /* glibc: start over, with fresh internal state */
	opterr = 0; /* we print our own messages */
}

static int bad_option(const char *cmd, int c, char **argv)
{
	if (c == ':')
		return usage_error(cmd, "option '%s' needs a value",
		                   argv[optind - 1]);
	if (optopt)
		return usage_error(cmd, "unknown option '-%c'", optopt);
	return usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
}

static int crypto_ready(void)
{
	return sodium_init() >= 0 ? 0 : failure("cannot initialise libsodium");
}

static void print_group_id(const char *label, const uint8_t pk[RN_SIGN_PK_LEN])
{
	uint8_t gid[RN_GROUP_ID_LEN];
	char hex[2 * RN_GROUP_ID_LEN + 1];
	rn_group_id(gid, pk);
	sodium_bin2hex(hex, sizeof hex, gid, sizeof gid);
	printf("%s%s\n", label, hex);
}

static void pk_to_b64(char out[B64_PK_LEN], const uint8_t pk[RN_SIGN_PK_LEN])
{
	sodium_bin2base64(out, B64_PK_LEN, pk, RN_SIGN_PK_LEN,
	                  sodium_base64_VARIANT_ORIGINAL);
}

/* Writes a new secret seed file and its public twin, or neither. */
static int write_pair(const char *secret_path, rn_keyfile_kind secret_kind,
                      const uint8_t seed[RN_KEY_SEED_LEN], const char *pub_path,
                      rn_keyfile_kind pub_kind,
                      const uint8_t pk[RN_SIGN_PK_LEN])
{
	char err[ERR_MAX];
	/* Checked first for a clear message; O_EXCL still decides. */
	for (int i = 0; i < 2; i++) {
		const char *p = i ? pub_path : secret_path;
		if (!access(p, F_OK))
			return failure("%s exists; remove it or choose another "
			               "path",
			               p);
	}
	if (rn_keyfile_write_seed(secret_path, secret_kind, seed, err,
	                          sizeof err))
		return failure("%s", err);
	if (rn_keyfile_write_pk(pub_path, pub_kind, pk, err, sizeof err)) {
		unlink(secret_path);
		return failure("%s", err);
	}
	return RN_CLI_OK;
}

/* ---- group ---------------------------------------------------------- */

static int group_new(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"out", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "group new", *dir = ".";
	int c;
	opts_reset();
	while ((c = next_opt(argc, argv, ":o:h", longopts)) != -1) {
		if (c == 'h')
			return help(group_help);
		if (c != 'o')
			return bad_option(cmd, c, argv);
		dir = optarg;
	}
	if (optind < argc)
		return usage_error(cmd, "unexpected argument '%s'",
		                   argv[optind]);
	char secret_path[PATH_LEN_MAX], pub_path[PATH_LEN_MAX];
	const char *sep = "/";
	if (!strcmp(dir, "."))
		dir = sep = ""; /* "group.pub", not "./group.pub" */
	int n1 = snprintf(secret_path, sizeof secret_path, "%s%sgroup.secret",
	                  dir, sep);
	int n2 = snprintf(pub_path, sizeof pub_path, "%s%sgroup.pub", dir, sep);
	if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof secret_path ||
	    (size_t)n2 >= sizeof pub_path)
		return usage_error(cmd, "--out path is too long");
	if (crypto_ready())
		return RN_CLI_FAIL;

	uint8_t seed[RN_KEY_SEED_LEN], pk[RN_SIGN_PK_LEN], sk[RN_SIGN_SK_LEN];
	randombytes_buf(seed, sizeof seed);
	int r = rn_group_keypair(pk, sk, seed)
	            ? failure("cannot derive the group key")
	            : write_pair(secret_path, RN_KEYFILE_GROUP_SECRET, seed,
	                         pub_path, RN_KEYFILE_GROUP_PUB, pk);
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(sk, sizeof sk);
	if (r)
		return r;
	print_group_id("group id: ", pk);
	printf("wrote %s (group secret key: keep it offline; it admits "
	       "members)\n",
	       secret_path);
	printf("wrote %s (group public key: give it to every member)\n",
	       pub_path);
	return RN_CLI_OK;
}

/* Accepts --help and exactly one FILE; NULL after printing what is due
 * (*code is the exit code then). */
static const char *one_file_arg(int argc, char **argv, const char *cmd,
                                const char *help_text, int *code)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	opts_reset();
	while ((c = next_opt(argc, argv, ":h", longopts)) != -1) {
		*code = c == 'h' ? help(help_text) : bad_option(cmd, c, argv);
		return NULL;
	}
	if (argc - optind != 1) {
		*code = usage_error(cmd, "expected one FILE argument");
		return NULL;
	}
	return argv[optind];
}

static int group_id(int argc, char **argv)
{
	int code = RN_CLI_FAIL;
	const char *path =
	    one_file_arg(argc, argv, "group id", group_help, &code);
	if (!path)
		return code;
	if (crypto_ready())
		return RN_CLI_FAIL;
	uint8_t pk[RN_SIGN_PK_LEN];
	char err[ERR_MAX];
	if (rn_keyfile_read_group_pk(path, pk, err, sizeof err))
		return failure("%s", err);
	print_group_id("", pk);
	return RN_CLI_OK;
}

/* Dispatches argv[1] among the actions; argv[0] is the command word. */
typedef struct action {
	const char *name;
	int (*run)(int argc, char **argv);
} action;

static int dispatch(int argc, char **argv, const char *cmd,
                    const char *help_text, const action *actions, size_t n)
{
	if (argc < 2)
		return usage_error(cmd, "missing action");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help"))
		return help(help_text);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(argv[1], actions[i].name))
			return actions[i].run(argc - 1, argv + 1);
	return usage_error(cmd, "unknown action '%s'", argv[1]);
}

int rn_cli_group(int argc, char **argv)
{
	static const action actions[] = {{"new", group_new}, {"id", group_id}};
	return dispatch(argc, argv, "group", group_help, actions, 2);
}

/* ---- key ------------------------------------------------------------ */

static int key_new(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"out", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "key new", *path = "node.key";
	int c;
	opts_reset();
	while ((c = next_opt(argc, argv, ":o:h", longopts)) != -1) {
		if (c == 'h')
			return help(key_help);
		if (c != 'o')
			return bad_option(cmd, c, argv);
		path = optarg;
	}
	if (optind < argc)
		return usage_error(cmd, "unexpected argument '%s'",
		                   argv[optind]);
	char pub_path[PATH_LEN_MAX];
	int n = snprintf(pub_path, sizeof pub_path, "%s.pub", path);
	if (n < 0 || (size_t)n >= sizeof pub_path)
		return usage_error(cmd, "--out path is too long");
	if (crypto_ready())
		return RN_CLI_FAIL;

	uint8_t seed[RN_KEY_SEED_LEN], pk[RN_SIGN_PK_LEN], sk[RN_SIGN_SK_LEN];
	randombytes_buf(seed, sizeof seed);
	int r = rn_nodekey_keypair(pk, sk, seed)
	            ? failure("cannot derive the node key")
	            : write_pair(path, RN_KEYFILE_NODE_SECRET, seed, pub_path,
	                         RN_KEYFILE_NODE_PUB, pk);
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(sk, sizeof sk);
	if (r)
		return r;
	char b64[B64_PK_LEN];
	pk_to_b64(b64, pk);
	printf("node public key: %s\n", b64);
	printf("wrote %s (node secret key, mode 0600)\n", path);
	printf("wrote %s (node public key: give it to the group's admin)\n",
	       pub_path);
	return RN_CLI_OK;
}

static int key_pub(int argc, char **argv)
{
	int code = RN_CLI_FAIL;
	const char *path = one_file_arg(argc, argv, "key pub", key_help, &code);
	if (!path)
		return code;
	if (crypto_ready())
		return RN_CLI_FAIL;
	uint8_t pk[RN_SIGN_PK_LEN];
	char err[ERR_MAX], b64[B64_PK_LEN];
	if (rn_keyfile_read_node_pk(path, pk, err, sizeof err))
		return failure("%s", err);
	pk_to_b64(b64, pk);
	printf("%s\n", b64);
	return RN_CLI_OK;
}

int rn_cli_key(int argc, char **argv)
{
	static const action actions[] = {{"new", key_new}, {"pub", key_pub}};
	return dispatch(argc, argv, "key", key_help, actions, 2);
}

/* ---- member --------------------------------------------------------- */

/* Decimal digits only, at most max. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static void iso_time(uint64_t t, char *out, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (t > (uint64_t)INT64_MAX || (uint64_t)tt != t ||
	    !gmtime_r(&tt, &tm) ||
	    !strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, cap, "%" PRIu64 " (unix seconds)", t);
}

static void print_cert(const rn_cert *cert)
{
	char vip[64] = "?", b64[B64_PK_LEN], hex[RN_ID_HEX_LEN + 1] = "?";
	char t0[64], t1[64];
	rn_id ring;
	int af = cert->vip_len == 4 ? AF_INET : AF_INET6;
	inet_ntop(af, rn_cert_is_range(cert) ? cert->range : cert->vip, vip,
	          sizeof vip);
	if (!rn_cert_ring_id(cert, &ring))
		rn_id_to_hex(&ring, hex);
	pk_to_b64(b64, cert->node_pk);
	iso_time(cert->not_before, t0, sizeof t0);
	iso_time(cert->not_after, t1, sizeof t1);
	printf("name:       %s\n", cert->name);
	if (rn_cert_is_range(cert)) {
		printf("range:      %s/%u (an address in it is claimed at each "
		       "start)\n",
		       vip, cert->prefix_len);
	} else {
		printf("vip:        %s\n", vip);
		printf("ring id:    %s\n", hex);
	}
	printf("node key:   %s\n", b64);
	print_group_id("group id:   ", cert->group_pk);
	printf("not before: %s\n", t0);
	printf("expires:    %s\n", t1);
}

typedef struct add_args {
	const char *group_secret, *node_pub, *vip_text, *range_text, *name, *out;
	uint8_t vip[RN_CERT_VIP_MAX];
	size_t vip_len;
	unsigned prefix_len; /* 0: a fixed --vip */
	uint64_t days, not_before;
	int have_not_before;
} add_args;

static int add_parse(int argc, char **argv, add_args *a)
{
	static const struct option longopts[] = {
	    {"group-secret", required_argument, NULL, 'g'},
	    {"node-pub", required_argument, NULL, 'k'},
	    {"vip", required_argument, NULL, 'v'},
	    {"range", required_argument, NULL, 'r'},
	    {"name", required_argument, NULL, 'n'},
	    {"days", required_argument, NULL, 'd'},
	    {"not-before", required_argument, NULL, 'b'},
	    {"out", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "member add", *days = NULL, *nb = NULL;
	int c;
	opts_reset();
	while ((c = next_opt(argc, argv, ":g:k:v:r:n:d:b:o:h", longopts)) !=
	       -1) {
		switch (c) {
		case 'g':
			a->group_secret = optarg;
			break;
		case 'k':
			a->node_pub = optarg;
			break;
		case 'v':
			a->vip_text = optarg;
			break;
		case 'r':
			a->range_text = optarg;
			break;
		case 'n':
			a->name = optarg;
			break;
		case 'd':
			days = optarg;
			break;
		case 'b':
			nb = optarg;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'h':
			help(member_help);
			return -1;
		default:
			return bad_option(cmd, c, argv);
		}
	}
	if (optind < argc)
		return usage_error(cmd, "unexpected argument '%s'",
		                   argv[optind]);
	a->days = DAYS_DEFAULT;
	if (days && parse_u64(days, DAYS_MAX, &a->days))
		a->days = 0;
	if (!a->days)
		return usage_error(cmd,
		                   "bad --days '%s': give a whole number "
		                   "from 1 to %d",
		                   days, DAYS_MAX);
	a->have_not_before = nb != NULL;
	if (nb &&
	    parse_u64(nb, UINT64_MAX - a->days * SECONDS_A_DAY, &a->not_before))
		return usage_error(cmd,
		                   "bad --not-before '%s': give unix "
		                   "seconds, e.g. %lld",
		                   nb, (long long)time(NULL));
	return 0;
}

/* --range ADDR/LEN: a prefix with no host bits, shorter than the address
 * (a /32 or /128 is a --vip). */
static int range_check(add_args *a)
{
	const char *cmd = "member add";
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(a->range_text, '/');
	uint64_t len = 0;
	size_t n = slash ? (size_t)(slash - a->range_text) : 0;
	int ok = slash && n < sizeof addr;
	if (ok) {
		memcpy(addr, a->range_text, n);
		addr[n] = '\0';
		if (inet_pton(AF_INET, addr, a->vip) == 1)
			a->vip_len = 4;
		else if (inet_pton(AF_INET6, addr, a->vip) == 1)
			a->vip_len = 16;
		ok = a->vip_len &&
		     !parse_u64(slash + 1, 8 * a->vip_len - 2, &len) && len;
	}
	if (!ok)
		return usage_error(cmd,
		                   "bad --range '%s': give a prefix of four "
		                   "addresses or more, such as 10.77.128.0/17 "
		                   "or fd00:77::/64 (a single address is a "
		                   "--vip)",
		                   a->range_text);
	a->prefix_len = (unsigned)len;
	if (!rn_cert_range_ok(a->vip, a->vip_len, a->prefix_len))
		return usage_error(cmd,
		                   "bad --range '%s': bits are set after the "
		                   "first %u (the prefix must end in zeros)",
		                   a->range_text, a->prefix_len);
	return 0;
}

static int add_check(add_args *a)
{
	const char *cmd = "member add";
	static const char *const req[] = {"--group-secret FILE",
	                                  "--node-pub FILE", "--name NAME",
	                                  "--out FILE"};
	const char *const have[] = {a->group_secret, a->node_pub, a->name,
	                            a->out};
	for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
		if (!have[i])
			return usage_error(cmd, "missing %s", req[i]);
	if (!a->vip_text == !a->range_text)
		return usage_error(cmd, a->vip_text
		                            ? "give --vip or --range, not both"
		                            : "missing --vip ADDR or --range "
		                              "ADDR/LEN");
	if (a->range_text) {
		int r = range_check(a);
		if (r)
			return r;
	} else if (inet_pton(AF_INET, a->vip_text, a->vip) == 1)
		a->vip_len = 4;
	else if (inet_pton(AF_INET6, a->vip_text, a->vip) == 1)
		a->vip_len = 16;
	else
		return usage_error(cmd,
		                   "bad --vip '%s': give an IPv4 address "
		                   "such as 10.77.0.5 or an IPv6 address "
		                   "such as fd00::5",
		                   a->vip_text);
	if (!rn_cert_name_valid(a->name, strlen(a->name)))
		return usage_error(cmd,
		                   "bad --name '%s': use 1 to %d "
		                   "characters from A-Z a-z 0-9 . _ -",
		                   a->name, RN_CERT_NAME_MAX);
	return 0;
}

/* Reads the keys, signs, writes; the group secret is wiped here. */
static int add_issue(const add_args *a, rn_cert *cert)
{
	uint8_t group_pk[RN_SIGN_PK_LEN], group_sk[RN_SIGN_SK_LEN];
	uint8_t node_pk[RN_SIGN_PK_LEN];
	char err[ERR_MAX];
	uint64_t nb = a->have_not_before ? a->not_before
	                                 : (uint64_t)time(NULL) - BACKDATE_S;
	int r = RN_CLI_OK;
	if (rn_keyfile_read_node_pk(a->node_pub, node_pk, err, sizeof err) ||
	    rn_keyfile_read_group_secret(a->group_secret, group_pk, group_sk,
	                                 err, sizeof err)) {
		r = failure("%s", err);
	} else {
		uint64_t na = nb + a->days * SECONDS_A_DAY;
		int e = a->prefix_len
		            ? rn_cert_issue_range(cert, group_sk, node_pk, a->vip,
		                                  a->vip_len, a->prefix_len,
		                                  a->name, nb, na)
		            : rn_cert_issue(cert, group_sk, node_pk, a->vip,
		                            a->vip_len, a->name, nb, na);
		if (e)
			r = failure("%s: cannot issue a certificate: %s",
			            a->node_pub, rn_strerror(e));
	}
	sodium_memzero(group_sk, sizeof group_sk);
	if (!r && rn_keyfile_write_cert(a->out, cert, err, sizeof err))
		r = failure("%s", err);
	return r;
}

static int member_add(int argc, char **argv)
{
	add_args a = {0};
	rn_cert cert;
	int r = add_parse(argc, argv, &a);
	if (r)
		return r < 0 ? RN_CLI_OK : r; /* -1: --help was printed */
	if ((r = add_check(&a)))
		return r;
	if (crypto_ready())
		return RN_CLI_FAIL;
	if ((r = add_issue(&a, &cert)))
		return r;
	print_cert(&cert);
	printf("wrote %s\n", a.out);
	return RN_CLI_OK;
}

static int show_verify(const rn_cert *cert, const char *group_path)
{
	uint8_t pk[RN_SIGN_PK_LEN];
	char err[ERR_MAX];
	if (!group_path) {
		printf("verify:     not checked (give --group group.pub)\n");
		return RN_CLI_OK;
	}
	if (rn_keyfile_read_group_pk(group_path, pk, err, sizeof err))
		return failure("%s", err);
	int r = rn_cert_verify(cert, pk, (uint64_t)time(NULL));
	if (r) {
		printf("verify:     FAILED: %s\n", rn_strerror(r));
		return failure("certificate does not verify against %s: %s",
		               group_path, rn_strerror(r));
	}
	printf("verify:     ok (signed by %s, valid now)\n", group_path);
	return RN_CLI_OK;
}

static int member_show(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"group", required_argument, NULL, 'g'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "member show", *group_path = NULL;
	int c;
	opts_reset();
	while ((c = next_opt(argc, argv, ":g:h", longopts)) != -1) {
		if (c == 'h')
			return help(member_help);
		if (c != 'g')
			return bad_option(cmd, c, argv);
		group_path = optarg;
	}
	if (argc - optind != 1)
		return usage_error(cmd, "expected one certificate FILE");
	if (crypto_ready())
		return RN_CLI_FAIL;
	rn_cert cert;
	char err[ERR_MAX];
	if (rn_keyfile_read_cert(argv[optind], &cert, err, sizeof err))
		return failure("%s", err);
	print_cert(&cert);
	return show_verify(&cert, group_path);
}

int rn_cli_member(int argc, char **argv)
{
	static const action actions[] = {{"add", member_add},
	                                 {"show", member_show}};
	return dispatch(argc, argv, "member", member_help, actions, 2);
}
