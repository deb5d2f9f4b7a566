/* ringnetd: the node daemon (docs/ringnetd.md).
 *
 *     ringnetd -c FILE [-f] [--check]
 *
 * Always runs in the foreground: systemd (dist/ringnetd.service) or the
 * shell does the daemonizing, stderr is the log. Exit codes: 0 after a
 * clean SIGINT/SIGTERM or a passing --check, 1 on a run-time failure
 * (cannot bind, control socket taken), 2 on bad arguments, configuration
 * or key files.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "daemon.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: ringnetd -c FILE [-f] [--check]\n"
	    "\n"
	    "The ringnet node daemon: joins the group's overlay and answers\n"
	    "`ringnet` on its control socket. Runs in the foreground and\n"
	    "logs to stderr.\n"
	    "\n"
	    "  -c, --config FILE  the configuration file (required)\n"
	    "  -f, --foreground   run in the foreground (the only mode)\n"
	    "      --check        check the configuration and key files, "
	    "then exit\n"
	    "  -h, --help         this help\n"
	    "  -V, --version      print the version\n"
	    "\n"
	    "Signals: SIGTERM/SIGINT leave the ring and exit, SIGHUP "
	    "re-reads log_level.\n"
	    "Exit status: 0 ok, 1 run-time failure, 2 bad arguments or "
	    "configuration.\n");
}

static int usage_error(const char *msg)
{
	if (msg)
		fprintf(stderr, "ringnetd: %s\n", msg);
	fprintf(stderr, "usage: ringnetd -c FILE [-f] [--check]  "
	                "(ringnetd --help for more)\n");
	return RN_DAEMON_EXIT_CONFIG;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"check", no_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *config = NULL;
	int check = 0, opt;
	char err[1024];
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:fhV", longopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'f':
			break;
		case 'k':
			check = 1;
			break;
		case 'h':
			usage(stdout);
			return RN_DAEMON_EXIT_OK;
		case 'V':
			printf("ringnetd %s\n", RN_VERSION);
			return 0;
		case ':':
			snprintf(err, sizeof err, "option %s needs an argument",
			         argv[optind - 1]);
			return usage_error(err);
		default:
			snprintf(err, sizeof err, "unknown option %s",
			         argv[optind - 1]);
			return usage_error(err);
		}
	}
	if (optind < argc) {
		snprintf(err, sizeof err, "unexpected argument '%s'",
		         argv[optind]);
		return usage_error(err);
	}
	if (!config)
		return usage_error("no configuration file: give -c FILE");
	if (sodium_init() < 0) {
		fprintf(stderr, "ringnetd: libsodium failed to start\n");
		return RN_DAEMON_EXIT_FAIL;
	}
	if (check) {
		int rc = rn_daemon_check(config, err, sizeof err);
		if (rc)
			fprintf(stderr, "ringnetd: %s\n", err);
		else
			printf("%s: ok\n", config);
		return rc;
	}
	/* a range member that claimed an address starts again, in this
	 * process, bound to it (daemon_claim.c); a bounded number of times */
	uint32_t attempt = 0;
	for (unsigned starts = 1;; starts++) {
		rn_daemon *d;
		int rc = rn_daemon_new(&d, config, attempt, err, sizeof err);
		if (rc) {
			fprintf(stderr, "ringnetd: %s\n", err);
			return rc;
		}
		rc = rn_daemon_run(d);
		uint32_t next;
		int again = rn_daemon_restart_attempt(d, &next) &&
		            rc == RN_DAEMON_EXIT_OK;
		rn_daemon_free(d);
		if (!again)
			return rc;
		if (starts >= RN_DAEMON_STARTS_MAX) {
			fprintf(stderr,
			        "ringnetd: the address moved %u times; "
			        "giving up\n",
			        starts);
			return RN_DAEMON_EXIT_FAIL;
		}
		attempt = next;
	}
}
