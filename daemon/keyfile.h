/* Key and certificate files (docs/ringnet-keys.md).
 *
 * Every file is text: one header line naming the kind and version, then
 * the bytes as one line of standard base64 (RFC 4648, with padding):
 *
 *     ringnet-group-secret-v1    32-byte seed of the group signing key
 *     ringnet-group-v1           32-byte group public key (trust anchor)
 *     ringnet-node-key-v1        32-byte seed of the node key
 *     ringnet-node-pub-v1        32-byte node public key
 *     ringnet-cert-v1            rn_cert_encode() bytes
 *
 * Writing never replaces a file (O_EXCL) and makes it mode 0600. Reading a
 * secret file (group secret, node key) fails when its mode lets the group
 * or others read it, as ssh does. The functions return 0 or a negative
 * RN_ERR_* and, on error, one line in err naming the file, what is wrong
 * and, where there is one, the fix. The caller must have called
 * sodium_init().
 */
#ifndef RN_KEYFILE_H
#define RN_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/cert.h"

typedef enum rn_keyfile_kind {
	RN_KEYFILE_GROUP_SECRET,
	RN_KEYFILE_GROUP_PUB,
	RN_KEYFILE_NODE_SECRET,
	RN_KEYFILE_NODE_PUB,
	RN_KEYFILE_CERT,
	RN_KEYFILE_KINDS
} rn_keyfile_kind;

/* Largest payload of any kind (a certificate). */
#define RN_KEYFILE_BIN_MAX RN_CERT_ENCODED_MAX

/* The header line of a kind ("ringnet-group-v1"), and a phrase for
 * messages ("group public key"). */
const char *rn_keyfile_header(rn_keyfile_kind kind);
const char *rn_keyfile_describe(rn_keyfile_kind kind);

/* Writes bytes[0..len) as a new file of the given kind, mode 0600, synced
 * to disk. RN_ERR_IO when path exists ("remove it or choose another
 * path") or on a system error (a partial file is removed), RN_ERR_INVAL
 * for a length the kind does not allow. */
int rn_keyfile_write(const char *path, rn_keyfile_kind kind,
                     const uint8_t *bytes, size_t len, char *err,
                     size_t errlen);

/* Reads a file of any kind into bin[0..*len) (bin holds at least
 * RN_KEYFILE_BIN_MAX bytes) and sets *kind. RN_ERR_IO for a file that
 * cannot be read or a secret that is group/other-readable, RN_ERR_PROTO
 * for an unknown header, bad base64 or a wrong length. */
int rn_keyfile_read(const char *path, rn_keyfile_kind *kind, uint8_t *bin,
                    size_t *len, char *err, size_t errlen);

/* Typed writers. */
int rn_keyfile_write_seed(const char *path, rn_keyfile_kind kind,
                          const uint8_t seed[RN_KEY_SEED_LEN], char *err,
                          size_t errlen);
int rn_keyfile_write_pk(const char *path, rn_keyfile_kind kind,
                        const uint8_t pk[RN_SIGN_PK_LEN], char *err,
                        size_t errlen);
int rn_keyfile_write_cert(const char *path, const rn_cert *cert, char *err,
                          size_t errlen);

/* The group key pair from a group secret file; the seed never leaves
 * this call. RN_ERR_PROTO if the file is of another kind. */
int rn_keyfile_read_group_secret(const char *path, uint8_t pk[RN_SIGN_PK_LEN],
                                 uint8_t sk[RN_SIGN_SK_LEN], char *err,
                                 size_t errlen);
/* The node key pair from a node secret file. */
int rn_keyfile_read_node_secret(const char *path, uint8_t pk[RN_SIGN_PK_LEN],
                                uint8_t sk[RN_SIGN_SK_LEN], char *err,
                                size_t errlen);
/* The group public key from a group public file or a group secret file. */
int rn_keyfile_read_group_pk(const char *path, uint8_t pk[RN_SIGN_PK_LEN],
                             char *err, size_t errlen);
/* The node public key from a node public file or a node secret file. */
int rn_keyfile_read_node_pk(const char *path, uint8_t pk[RN_SIGN_PK_LEN],
                            char *err, size_t errlen);
/* A certificate, decoded (not verified: see rn_cert_verify). The
 * rn_cert_decode code when it does not decode. */
int rn_keyfile_read_cert(const char *path, rn_cert *cert, char *err,
                         size_t errlen);

#endif
