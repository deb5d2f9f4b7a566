/* The offline commands of `ringnet` (docs/ringnet-keys.md): make a group,
 * make node keys, admit members by signing certificates.
 *
 *     ringnet group new [--out DIR]          group.secret, group.pub
 *     ringnet group id FILE                  the group id of either file
 *     ringnet key new [--out FILE]           FILE and FILE.pub
 *     ringnet key pub FILE                   the public key, base64
 *     ringnet member add --group-secret FILE --node-pub FILE
 *                        --vip ADDR --name NAME [--days N]
 *                        [--not-before UNIX] --out FILE
 *     ringnet member show FILE [--group FILE]
 *
 * Each function takes the words from the command on: argv[0] is "group",
 * "key" or "member", argv[1] the action. It returns the exit code: 0 done,
 * 1 failed (a file, a key, a certificate that does not verify), 2 usage
 * error (unknown option, missing or bad argument). Errors go to stderr as
 * "ringnet: ...", --help to stdout. None needs the daemon.
 */
#ifndef RN_CLI_KEYS_H
#define RN_CLI_KEYS_H

#define RN_CLI_OK    0
#define RN_CLI_FAIL  1
#define RN_CLI_USAGE 2

int rn_cli_group(int argc, char **argv);
int rn_cli_key(int argc, char **argv);
int rn_cli_member(int argc, char **argv);

#endif
