/* The daemon-facing commands of `ringnet` (docs/ringnet.md): ask ringnetd
 * over its control socket (ctl.h) and print the reply for people, or as
 * JSON with --json.
 *
 *     ringnet status [-s PATH] [--json]       this node, links, counters
 *     ringnet peers  [-s PATH] [--json]       one line per link
 *     ringnet ring   [-s PATH] [--json]       predecessors, self, successors
 *     ringnet ping   [-s PATH] [--json] [-c COUNT] TARGET
 *                                             probe an id or virtual IP
 *
 * Each function takes the words from the command on: argv[0] is "status",
 * "peers", "ring" or "ping". Each parses its own -s/--socket PATH (see
 * rn_cli_socket_path for the default), -j/--json and -h/--help. It returns
 * the exit code: 0 done, 1 failed (daemon unreachable, an {"ok":false}
 * reply, a ping without any answer), 2 usage error. Errors go to stderr as
 * "ringnet: ...", help and results to stdout.
 *
 * The rn_cli_print_* formatters are separate from the I/O: each takes a
 * successful reply object and writes the human form to out. Members that
 * are missing or of the wrong type print as "-"; unknown extra members of
 * status are printed too, so the daemon can add fields without a CLI change.
 */
#ifndef RN_CLI_STATUS_H
#define RN_CLI_STATUS_H

#include <stdio.h>

#include <jansson.h>

#define RN_CLI_TIMEOUT_MS            5000 /* status, peers, ring; ping base */
#define RN_CLI_PING_PROBE_TIMEOUT_MS 2000 /* added to the ping wait per probe */
#define RN_CLI_PING_COUNT_DEFAULT 4
#define RN_CLI_PING_COUNT_MAX     100
#define RN_CLI_ID_SHORT_LEN       12 /* hex digits of an id shown in tables */

/* The control socket to use: option (from -s/--socket) if given, else
 * $RINGNET_SOCKET if set and not empty, else RN_CTL_SOCKET_DEFAULT. A
 * `ringnet` main that takes a global -s before the command word can pass
 * it on by setting RINGNET_SOCKET. */
const char *rn_cli_socket_path(const char *option);

int rn_cli_status(int argc, char **argv);
int rn_cli_peers(int argc, char **argv);
int rn_cli_ring(int argc, char **argv);
int rn_cli_ping(int argc, char **argv);

/* One request and its reply on the daemon's control socket at path. 0
 * with *reply set (a new reference; "ok" may be true or false), or 1 after
 * printing why the daemon could not be asked ("ringnet: cannot reach
 * ringnetd at PATH: ..."). Shared by the other daemon commands
 * (cli_dht.c). */
int rn_cli_call(const char *path, const json_t *req, int timeout_ms,
                json_t **reply);
/* "45s", "3m12s", "2h05m", "3d04h". */
void rn_cli_fmt_duration(char *out, size_t outlen, unsigned long long s);
/* Control characters (escape sequences) in s replaced by '?'. */
void rn_cli_sanitize(char *s);

void rn_cli_print_status(FILE *out, const json_t *reply);
void rn_cli_print_peers(FILE *out, const json_t *reply);
void rn_cli_print_ring(FILE *out, const json_t *reply);
void rn_cli_print_ping(FILE *out, const json_t *reply);

#endif
