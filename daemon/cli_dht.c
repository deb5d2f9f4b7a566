/* `ringnet dht put|create|get|remove` and `ringnet resolve` (cli_dht.h).
 *
 * Each is: parse options (getopt_long, argv[0] the op or "resolve") ->
 * check the arguments as the DHT would, so that a mistake costs no round
 * trip and gets one clear line -> one request on the control socket
 * (rn_cli_call) -> print. The request carries KEY and VALUE as JSON
 * strings, or as "key_hex"/"value_hex" with --hex or when the text is not
 * UTF-8 (refused: JSON strings are UTF-8, so binary needs --hex).
 *
 * Printing never trusts the reply: missing members print as "-", and
 * text from the DHT (values, names) has its control characters shown as
 * '?', so a value cannot drive the terminal.
 */
#include "cli_dht.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli_status.h"
#include "core/cert.h"
#include "core/log.h"
#include "dht/record.h"

enum { EXIT_OK_ = 0, EXIT_FAIL_ = 1, EXIT_USAGE_ = 2 };

#define DHT_TTL_MAX_S 86400 /* the DHT's longest lease (ttl_max_s) */
#define LINE_MAX_     1200  /* one printed value line, sanitized */

typedef struct dht_opts {
	const char *name; /* "put", ..., "resolve": for messages */
	const char *socket;
	int dht; /* a dht command (else resolve) */
	int json, hex, add, no_cache;
	long ttl; /* 0: the daemon's default */
	const char *ns, *key, *value;
	int has_value;
} dht_opts;

/* ---- usage --------------------------------------------------------------- */

#define COMMON_HELP                                                            \
	"  -s, --socket PATH  the daemon's control socket (default: "          \
	"$RINGNET_SOCKET,\n"                                                   \
	"                     else /run/ringnet/ringnetd.sock)\n"              \
	"  -j, --json         print the daemon's reply as JSON\n"              \
	"  -h, --help         show this help\n"

static const char dht_usage[] =
    "usage: ringnet dht put    [-s PATH] [--json] [--hex] [--ttl S] [--add] "
    "NS KEY VALUE\n"
    "       ringnet dht create [-s PATH] [--json] [--hex] [--ttl S] NS KEY "
    "VALUE\n"
    "       ringnet dht get    [-s PATH] [--json] [--hex] NS KEY\n"
    "       ringnet dht remove [-s PATH] [--json] [--hex] [--ttl S] NS KEY "
    "[VALUE]\n";

static const char dht_help[] =
    "\nRead and write the group's DHT through the local ringnetd.\n\n"
    "  put     store VALUE under NS/KEY as this member's value (replacing\n"
    "          its earlier one unless --add)\n"
    "  create  store VALUE only if NS/KEY holds no other value: exclusive\n"
    "  get     every value under NS/KEY, with its writer and lease left\n"
    "  remove  this member's value VALUE, or all its values, under NS/KEY\n\n"
    "NS is 1 to 16 characters of a-z, 0-9 and -. KEY (1 to 64 bytes) and\n"
    "VALUE (0 to 512 bytes) are UTF-8 text; in the namespaces member and\n"
    "lease a KEY, in name a VALUE, written as an IP address stands for its\n"
    "4 or 16 address bytes.\n\n"
    "  -x, --hex          KEY and VALUE are hex; get prints values in hex\n"
    "  -t, --ttl S        the lease, 1 to 86400 s (default: dht_ttl of\n"
    "                     ringnetd.conf; for remove 86400)\n"
    "  -a, --add          put: keep this member's earlier values "
    "too\n" COMMON_HELP;

static const char resolve_usage[] =
    "usage: ringnet resolve [-s PATH] [--json] [--no-cache] NAME|VIP\n";

static const char resolve_help[] =
    "\nLook a member up in the DHT by name (name/NAME, then member/VIP) or\n"
    "by virtual IP (member/VIP): its address, name, node key, endpoints\n"
    "and the lease left on its record. Answers are cached by ringnetd\n"
    "until the lease ends.\n\n"
    "  -n, --no-cache     ask the DHT even if ringnetd has the "
    "answer\n" COMMON_HELP;

static int usage_error(const char *cmd, const char *usage, const char *what,
                       const char *arg)
{
	fprintf(stderr, "ringnet %s: %s%s%s\n%sTry 'ringnet %s --help'.\n", cmd,
	        what, arg ? ": " : "", arg ? arg : "", usage, cmd);
	return EXIT_USAGE_;
}

/* A bad argument value: one line, exit 2. */
static int arg_error(const dht_opts *o, const char *fmt, ...) RN_PRINTF(2, 3);

static int arg_error(const dht_opts *o, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "ringnet %s%s: ", o->dht ? "dht " : "", o->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE_;
}

/* ---- arguments ------------------------------------------------------------
 */

/* The byte length of a KEY or VALUE argument, checked; -1 after the
 * complaint. */
static long arg_bytes(const dht_opts *o, const char *what, const char *s,
                      size_t max)
{
	size_t n = strlen(s);
	if (o->hex) {
		if (n % 2 || strspn(s, "0123456789abcdefABCDEF") != n) {
			arg_error(o,
			          "%s '%.40s' is not hex (an even number of "
			          "digits 0-9, a-f)",
			          what, s);
			return -1;
		}
		n /= 2;
	} else {
		json_t *j = json_string(s);
		if (!j) {
			arg_error(o,
			          "%s is not valid UTF-8; give it in hex "
			          "with --hex",
			          what);
			return -1;
		}
		json_decref(j);
	}
	if (n > max) {
		arg_error(o, "%s is %zu bytes; the DHT takes at most %zu", what,
		          n, max);
		return -1;
	}
	return (long)n;
}

static int check_args(const dht_opts *o)
{
	if (!rn_rec_ns_ok(o->ns, strlen(o->ns)))
		return arg_error(o,
		                 "bad namespace '%.40s': use 1 to 16 "
		                 "characters of a-z, 0-9 and -",
		                 o->ns);
	long n = arg_bytes(o, "KEY", o->key, RN_REC_KEY_MAX);
	if (n < 0)
		return EXIT_USAGE_;
	if (n == 0)
		return arg_error(o, "KEY is empty; give 1 to %d bytes",
		                 RN_REC_KEY_MAX);
	if (o->has_value &&
	    arg_bytes(o, "VALUE", o->value, RN_REC_VALUE_MAX) < 0)
		return EXIT_USAGE_;
	return EXIT_OK_;
}

static int op_words(const char *op, int *min, int *max)
{
	static const struct {
		const char *op;
		int min, max;
	} ops[] = {
	    {"put", 3, 3}, {"create", 3, 3}, {"get", 2, 2}, {"remove", 2, 3}};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (!strcmp(op, ops[i].op)) {
			*min = ops[i].min;
			*max = ops[i].max;
			return 0;
		}
	return -1;
}

enum { PARSE_RUN = -1, PARSE_HELP = -2 };

/* PARSE_RUN, PARSE_HELP, or an exit code after the complaint. argv[0] is
 * the op. */
static int parse_dht(int argc, char **argv, dht_opts *o)
{
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {"hex", no_argument, NULL, 'x'},
	    {"ttl", required_argument, NULL, 't'},
	    {"add", no_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0}};
	int min, max, opt;
	char *end, cmd[32];
	if (op_words(argv[0], &min, &max))
		return usage_error("dht", dht_usage, "unknown operation",
		                   argv[0]);
	snprintf(cmd, sizeof cmd, "dht %s", argv[0]);
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "s:jhxt:a", longopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 's':
			o->socket = optarg;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'h':
			return PARSE_HELP;
		case 'x':
			o->hex = 1;
			break;
		case 'a':
			if (strcmp(argv[0], "put"))
				return usage_error(cmd, dht_usage,
				                   "--add is for put only",
				                   NULL);
			o->add = 1;
			break;
		case 't':
			o->ttl = strtol(optarg, &end, 10);
			if (!strcmp(argv[0], "get"))
				return usage_error(cmd, dht_usage,
				                   "get takes no --ttl", NULL);
			if (!*optarg || *end || o->ttl < 1 ||
			    o->ttl > DHT_TTL_MAX_S)
				return arg_error(o,
				                 "--ttl '%s': give 1 to %d "
				                 "seconds",
				                 optarg, DHT_TTL_MAX_S);
			break;
		default:
			return usage_error(cmd, dht_usage,
			                   "bad option or missing value",
			                   argv[optind - 1]);
		}
	}
	int words = argc - optind;
	if (words < min)
		return usage_error(
		    cmd, dht_usage,
		    min == 3 ? "give NS KEY VALUE" : "give NS KEY", NULL);
	if (words > max)
		return usage_error(cmd, dht_usage, "unexpected argument",
		                   argv[optind + max]);
	o->ns = argv[optind];
	o->key = argv[optind + 1];
	o->has_value = words == 3;
	o->value = o->has_value ? argv[optind + 2] : NULL;
	int rc = check_args(o);
	return rc == EXIT_OK_ ? PARSE_RUN : rc;
}

static json_t *dht_request(const dht_opts *o)
{
	json_t *r = json_pack("{s:s,s:s,s:s}", "cmd", "dht", "op", o->name,
	                      "ns", o->ns);
	if (!r)
		return NULL;
	json_object_set_new(r, o->hex ? "key_hex" : "key", json_string(o->key));
	if (o->has_value)
		json_object_set_new(r, o->hex ? "value_hex" : "value",
		                    json_string(o->value));
	if (o->ttl)
		json_object_set_new(r, "ttl", json_integer(o->ttl));
	if (o->add)
		json_object_set_new(r, "add", json_true());
	return r;
}

/* ---- printing -------------------------------------------------------------
 */

static const char *str_or_dash(const json_t *obj, const char *key)
{
	const json_t *j = json_object_get(obj, key);
	return json_is_string(j) ? json_string_value(j) : "-";
}

static void lease_str(char *out, size_t outlen, const json_t *obj)
{
	const json_t *j = json_object_get(obj, "lease_s");
	if (json_is_integer(j) && json_integer_value(j) >= 0)
		rn_cli_fmt_duration(out, outlen,
		                    (unsigned long long)json_integer_value(j));
	else
		snprintf(out, outlen, "-");
}

/* "127.0.0.1:7401 (local), [2001:db8::1]:7401 (reflexive)" */
static void eps_str(char *out, size_t outlen, const json_t *eps)
{
	size_t used = 0, i;
	const json_t *e;
	out[0] = '\0';
	json_array_foreach((json_t *)eps, i, e)
	{
		int k = snprintf(out + used, outlen - used, "%s%s (%s)",
		                 i ? ", " : "", str_or_dash(e, "endpoint"),
		                 str_or_dash(e, "kind"));
		if (k < 0 || (size_t)k >= outlen - used)
			break;
		used += (size_t)k;
	}
	if (!used)
		snprintf(out, outlen, "(none)");
}

/* What a person reads of one value: the endpoints of a member record,
 * the address of a name record, the text, or 0x and the hex. */
static void value_str(char *out, size_t outlen, const json_t *v, int hex)
{
	const json_t *eps = json_object_get(v, "endpoints");
	const json_t *t = json_object_get(v, "value");
	if (hex)
		snprintf(out, outlen, "%s", str_or_dash(v, "value_hex"));
	else if (json_is_array(eps))
		eps_str(out, outlen, eps);
	else if (json_is_string(json_object_get(v, "vip")))
		snprintf(out, outlen, "%s", str_or_dash(v, "vip"));
	else if (json_is_string(t))
		snprintf(out, outlen, "%s", json_string_value(t));
	else
		snprintf(out, outlen, "0x%s", str_or_dash(v, "value_hex"));
	rn_cli_sanitize(out);
}

typedef struct get_row {
	char writer[80], vip[48], lease[24];
	char value[LINE_MAX_];
} get_row;

static void print_get(FILE *out, const json_t *reply, int hex)
{
	const json_t *vals = json_object_get(reply, "values");
	size_t n = json_is_array(vals) ? json_array_size(vals) : 0, i;
	const json_t *v;
	get_row *rows = calloc(n + 1, sizeof *rows);
	if (!rows)
		return;
	snprintf(rows[0].writer, sizeof rows[0].writer, "WRITER");
	snprintf(rows[0].vip, sizeof rows[0].vip, "VIP");
	snprintf(rows[0].lease, sizeof rows[0].lease, "LEASE");
	snprintf(rows[0].value, sizeof rows[0].value, "VALUE");
	size_t w0 = 6, w1 = 3, w2 = 5;
	json_array_foreach((json_t *)vals, i, v)
	{
		get_row *r = &rows[i + 1];
		const json_t *wr = json_object_get(v, "writer");
		snprintf(r->writer, sizeof r->writer, "%s",
		         str_or_dash(wr, "name"));
		rn_cli_sanitize(r->writer);
		snprintf(r->vip, sizeof r->vip, "%s", str_or_dash(wr, "vip"));
		lease_str(r->lease, sizeof r->lease, v);
		value_str(r->value, sizeof r->value, v, hex);
		w0 = strlen(r->writer) > w0 ? strlen(r->writer) : w0;
		w1 = strlen(r->vip) > w1 ? strlen(r->vip) : w1;
		w2 = strlen(r->lease) > w2 ? strlen(r->lease) : w2;
	}
	for (i = 0; i <= n; i++)
		fprintf(out, "%-*s  %-*s  %*s  %s\n", (int)w0, rows[i].writer,
		        (int)w1, rows[i].vip, (int)w2, rows[i].lease,
		        rows[i].value);
	free(rows);
}

void rn_cli_print_dht(FILE *out, const json_t *reply, int hex)
{
	const char *op = str_or_dash(reply, "op");
	char key[200], lease[24];
	snprintf(key, sizeof key, "%s/%s", str_or_dash(reply, "ns"),
	         str_or_dash(reply, "key"));
	rn_cli_sanitize(key);
	lease_str(lease, sizeof lease, reply);
	if (!strcmp(op, "get"))
		print_get(out, reply, hex);
	else if (!strcmp(op, "put"))
		fprintf(out, "stored %s, lease %s\n", key, lease);
	else if (!strcmp(op, "create"))
		fprintf(out, "created %s, lease %s\n", key, lease);
	else if (!strcmp(op, "remove"))
		fprintf(out, "removed %s\n", key);
	else
		fprintf(out, "done\n");
}

void rn_cli_print_resolve(FILE *out, const json_t *reply)
{
	char eps[LINE_MAX_], lease[24], name[80];
	const json_t *e = json_object_get(reply, "endpoints");
	size_t i;
	const json_t *ep;
	lease_str(lease, sizeof lease, reply);
	snprintf(name, sizeof name, "%s", str_or_dash(reply, "name"));
	rn_cli_sanitize(name);
	fprintf(out, "vip:        %s\n", str_or_dash(reply, "vip"));
	fprintf(out, "name:       %s\n", name);
	fprintf(out, "id:         %s\n", str_or_dash(reply, "id"));
	fprintf(out, "node key:   %s\n", str_or_dash(reply, "node_pk"));
	if (!json_is_array(e) || json_array_size(e) == 0)
		fprintf(out, "endpoints:  (none)\n");
	json_array_foreach((json_t *)e, i, ep)
	{
		snprintf(eps, sizeof eps, "%s (%s)",
		         str_or_dash(ep, "endpoint"), str_or_dash(ep, "kind"));
		rn_cli_sanitize(eps);
		fprintf(out, "%s%s\n",
		        i ? "            " : "endpoints:  ", eps);
	}
	fprintf(out, "lease:      %s\n", lease);
	fprintf(out, "cached:     %s\n",
	        json_is_true(json_object_get(reply, "cached")) ? "yes" : "no");
}

/* ---- running ----------------------------------------------------------------
 */

static void print_json(const json_t *reply)
{
	char *s = json_dumps(reply, JSON_INDENT(2));
	if (s)
		printf("%s\n", s);
	free(s);
}

/* Sends req (consumed), prints the answer; the exit code. */
static int run(const dht_opts *o, json_t *req, const char *prefix)
{
	json_t *reply;
	if (!req) {
		fprintf(stderr, "ringnet: out of memory\n");
		return EXIT_FAIL_;
	}
	int rc = rn_cli_call(rn_cli_socket_path(o->socket), req,
	                     RN_CLI_DHT_TIMEOUT_MS, &reply);
	json_decref(req);
	if (rc != EXIT_OK_)
		return rc;
	int ok = json_is_true(json_object_get(reply, "ok"));
	if (o->json)
		print_json(reply);
	if (!ok) {
		const json_t *e = json_object_get(reply, "error");
		char text[600];
		snprintf(text, sizeof text, "%s",
		         json_is_string(e) ? json_string_value(e)
		                           : "request failed");
		rn_cli_sanitize(text);
		fprintf(stderr, "ringnet %s: %s\n", prefix, text);
	} else if (!o->json) {
		if (o->dht)
			rn_cli_print_dht(stdout, reply, o->hex);
		else
			rn_cli_print_resolve(stdout, reply);
	}
	json_decref(reply);
	fflush(stdout);
	return ok ? EXIT_OK_ : EXIT_FAIL_;
}

int rn_cli_dht(int argc, char **argv)
{
	dht_opts o;
	memset(&o, 0, sizeof o);
	o.dht = 1;
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		if (argc < 2)
			return usage_error("dht", dht_usage,
			                   "no operation given", NULL);
		printf("%s%s", dht_usage, dht_help);
		return EXIT_OK_;
	}
	o.name = argv[1];
	int p = parse_dht(argc - 1, argv + 1, &o);
	if (p == PARSE_HELP) {
		printf("%s%s", dht_usage, dht_help);
		return EXIT_OK_;
	}
	if (p != PARSE_RUN)
		return p;
	char prefix[32];
	snprintf(prefix, sizeof prefix, "dht %s", o.name);
	return run(&o, dht_request(&o), prefix);
}

int rn_cli_resolve(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {"no-cache", no_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0}};
	dht_opts o;
	int opt;
	memset(&o, 0, sizeof o);
	o.name = "resolve";
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "s:jhn", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			o.socket = optarg;
			break;
		case 'j':
			o.json = 1;
			break;
		case 'h':
			printf("%s%s", resolve_usage, resolve_help);
			return EXIT_OK_;
		case 'n':
			o.no_cache = 1;
			break;
		default:
			return usage_error("resolve", resolve_usage,
			                   "bad option or missing value",
			                   argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return usage_error("resolve", resolve_usage,
		                   argc - optind ? "unexpected argument"
		                                 : "give a NAME or VIP",
		                   argc - optind ? argv[optind + 1] : NULL);
	const char *t = argv[optind];
	unsigned char a[16];
	if (inet_pton(AF_INET, t, a) != 1 && inet_pton(AF_INET6, t, a) != 1 &&
	    !rn_cert_name_valid(t, strlen(t)))
		return arg_error(
		    &o,
		    "'%.64s' is neither a member name (1 to 63 "
		    "of A-Z a-z 0-9 . _ -) nor a virtual IP address",
		    t);
	json_t *req = json_pack("{s:s,s:s,s:b}", "cmd", "resolve", "target", t,
	                        "cache", !o.no_cache);
	return run(&o, req, "resolve");
}
