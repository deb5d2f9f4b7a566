/* ringnetd: one overlay node on one libuv loop, with its control socket.
 *
 *   rn_daemon_new: config file -> identity files -> UDP socket -> node ->
 *                  control socket -> bootstrap names resolving
 *   rn_daemon_run: the loop, until SIGINT or SIGTERM:
 *                  leave (tell the peers), drain, close, exit 0; or until
 *                  a range member moves to another address (it starts
 *                  again: rn_daemon_restart_attempt) or fails
 *   SIGHUP:        re-read the config file; the log level is the only
 *                  setting that changes without a restart
 *
 * The control socket answers `status`, `peers`, `ring` and `ping` as JSON
 * (docs/ringnetd.md has the reply schemas; daemon/cli_status.c prints them).
 * The implementation is one file per concept; daemon_impl.h lists them.
 */
#ifndef RN_DAEMON_H
#define RN_DAEMON_H

#include <stddef.h>

/* Exit codes of ringnetd. */
#define RN_DAEMON_EXIT_OK     0
#define RN_DAEMON_EXIT_FAIL   1 /* a run-time failure: bind, socket, memory */
#define RN_DAEMON_EXIT_CONFIG 2 /* bad configuration, keys or arguments */

#ifndef RN_VERSION
#define RN_VERSION "0.1.0" /* the build may pass the project version */
#endif

typedef struct rn_daemon rn_daemon;

/* Reads and checks the configuration file and the group key, node key and
 * certificate it names, as rn_daemon_new would, without opening anything.
 * RN_DAEMON_EXIT_OK, or RN_DAEMON_EXIT_CONFIG with one line in err. */
int rn_daemon_check(const char *config_path, char *err, size_t errlen);

/* Sets everything up (see the top of this file). attempt: 0, or what
 * rn_daemon_restart_attempt said (the candidate address a member with a
 * range certificate is bound to; daemon_claim.c). Returns an exit code:
 * RN_DAEMON_EXIT_OK with *out set, or another with one line in err and
 * nothing left open. sodium_init() must have succeeded. */
int rn_daemon_new(rn_daemon **out, const char *config_path, uint32_t attempt,
                  char *err, size_t errlen);

/* Runs until SIGINT/SIGTERM and a clean shutdown, a run-time failure, or
 * a restart; the exit code. */
int rn_daemon_run(rn_daemon *d);

/* After rn_daemon_run: 1 if the daemon left the ring to start again bound
 * to another address (a range member that claimed one), with the attempt
 * to pass to rn_daemon_new; 0 to exit. */
int rn_daemon_restart_attempt(const rn_daemon *d, uint32_t *attempt);
/* Starts of one ringnetd process, restarts included. */
#define RN_DAEMON_STARTS_MAX 64

void rn_daemon_free(rn_daemon *d);

#endif
