/* The DHT commands of `ringnet` (docs/ringnet.md): ask ringnetd over its
 * control socket (ctl.h) to read or write the group's DHT, or to resolve a
 * member, and print the answer for people or, with --json, as JSON.
 *
 *     ringnet dht put    [OPTIONS] [--ttl S] [--add] NS KEY VALUE
 *     ringnet dht create [OPTIONS] [--ttl S] NS KEY VALUE
 *     ringnet dht get    [OPTIONS] NS KEY
 *     ringnet dht remove [OPTIONS] [--ttl S] NS KEY [VALUE]
 *     ringnet resolve    [OPTIONS] [--no-cache] NAME|VIP
 *
 * OPTIONS are -s/--socket PATH, -j/--json, -h/--help and, for dht,
 * -x/--hex (KEY and VALUE in hex; values printed in hex). KEY and VALUE
 * are otherwise UTF-8 text; the daemon takes a virtual IP written as text
 * as its address bytes where a namespace wants one (member and lease keys,
 * name values). Arguments the DHT would refuse (a bad namespace, a key of
 * more than 64 bytes, a value of more than 512, bad hex) are refused here
 * with one line. Exit codes as cli_status.h: 0 done, 1 failed (unreachable
 * daemon, an error from the DHT: not found, conflict, permission, timeout,
 * ...), 2 usage. A failure prints one line "ringnet dht OP: text" on
 * stderr; with --json the daemon's error reply also goes to stdout.
 */
#ifndef RN_CLI_DHT_H
#define RN_CLI_DHT_H

#include <stdio.h>

#include <jansson.h>

/* The daemon gives up on a DHT request after 10 s; a little more here. */
#define RN_CLI_DHT_TIMEOUT_MS 15000

int rn_cli_dht(int argc, char **argv);
int rn_cli_resolve(int argc, char **argv);

/* The human forms of successful replies. */
void rn_cli_print_dht(FILE *out, const json_t *reply, int hex);
void rn_cli_print_resolve(FILE *out, const json_t *reply);

#endif
