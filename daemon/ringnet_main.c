/* ringnet: the command line (docs/ringnet.md, docs/ringnet-keys.md).
 *
 *     ringnet [-s SOCKET] COMMAND [ARGS...]
 *
 * Only dispatch lives here: the offline key commands are in cli_keys.c,
 * the daemon queries in cli_status.c, the DHT's in cli_dht.c, and each
 * parses its own options
 * with argv[0] = the command word. A global -s SOCKET is passed on
 * through $RINGNET_SOCKET, which the query commands read (an -s after the
 * command word still wins). Exit codes: those of the command; 2 for a
 * usage error here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli_dht.h"
#include "cli_keys.h"
#include "cli_status.h"
#include "daemon.h"

typedef struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *what;
} command;

static const command commands[] = {
    {"group", rn_cli_group, "make a group key pair; show a group id"},
    {"key", rn_cli_key, "make a node key pair; show a public key"},
    {"member", rn_cli_member, "sign a member certificate; show one"},
    {"status", rn_cli_status, "the local node: id, state, links, counters"},
    {"peers", rn_cli_peers, "the local node's links, one per line"},
    {"ring", rn_cli_ring, "the local node's ring neighbours"},
    {"ping", rn_cli_ping, "look an id or virtual IP up through the overlay"},
    {"dht", rn_cli_dht, "put, create, get or remove values in the DHT"},
    {"resolve", rn_cli_resolve, "a member by name or virtual IP, from the DHT"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void help(FILE *out)
{
	fprintf(out, "usage: ringnet [-s SOCKET] COMMAND [ARGS...]\n\n"
	             "Commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].what);
	fprintf(out, "\nOptions:\n"
	             "  -s, --socket PATH  ringnetd's control socket (default: "
	             "$RINGNET_SOCKET,\n"
	             "                     else /run/ringnet/ringnetd.sock)\n"
	             "  -h, --help         this help\n"
	             "  -V, --version      print the version\n"
	             "\n'ringnet COMMAND --help' describes a command.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "ringnet: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'ringnet --help'.\n");
	return 2;
}

static int set_socket(const char *path)
{
	if (!path || !*path)
		return usage_error("%s needs a socket path", "-s");
	if (setenv("RINGNET_SOCKET", path, 1)) {
		fprintf(stderr, "ringnet: out of memory\n");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1, rc;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			help(stdout);
			return 0;
		}
		if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("ringnet %s\n", RN_VERSION);
			return 0;
		}
		if (!strcmp(a, "-s") || !strcmp(a, "--socket"))
			rc = set_socket(++i < argc ? argv[i] : NULL);
		else if (!strncmp(a, "--socket=", 9))
			rc = set_socket(a + 9);
		else
			return usage_error("unknown option %s", a);
		if (rc)
			return rc;
	}
	if (i == argc)
		return usage_error("%s", "no command given");
	if (!strcmp(argv[i], "help")) {
		help(stdout);
		return 0;
	}
	for (size_t k = 0; k < N_COMMANDS; k++) {
		if (strcmp(argv[i], commands[k].name))
			continue;
		if (sodium_init() < 0) {
			fprintf(stderr, "ringnet: libsodium failed to start\n");
			return 1;
		}
		return commands[k].run(argc - i, argv + i);
	}
	return usage_error("unknown command '%s'", argv[i]);
}
