/* Bounds-checked byte reader and writer.
 *
 * Every parse of untrusted bytes goes through rn_reader: each getter checks
 * what is left first and, on a short read, sets the sticky `err` and returns
 * zeros, so a decoder can read a whole header and check `err` once.
 * rn_writer is the mirror image over a caller-owned buffer; it never grows.
 * Multi-byte integers are big-endian (network order).
 */
#ifndef RN_BUF_H
#define RN_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct rn_reader {
	const uint8_t *p;
	size_t len, off;
	int err; /* 0 or RN_ERR_TRUNC, sticky */
} rn_reader;

typedef struct rn_writer {
	uint8_t *p;
	size_t cap, len;
	int err; /* 0 or RN_ERR_TOOBIG, sticky */
} rn_writer;

void rn_reader_init(rn_reader *r, const uint8_t *p, size_t len);
size_t rn_reader_left(const rn_reader *r);
uint8_t rn_read_u8(rn_reader *r);
uint16_t rn_read_u16(rn_reader *r);
uint32_t rn_read_u32(rn_reader *r);
uint64_t rn_read_u64(rn_reader *r);
/* Copies n bytes into out (zeros on error). */
void rn_read_bytes(rn_reader *r, void *out, size_t n);
/* Returns a pointer to the next n bytes without copying, or NULL. */
const uint8_t *rn_read_view(rn_reader *r, size_t n);

void rn_writer_init(rn_writer *w, uint8_t *p, size_t cap);
void rn_write_u8(rn_writer *w, uint8_t v);
void rn_write_u16(rn_writer *w, uint16_t v);
void rn_write_u32(rn_writer *w, uint32_t v);
void rn_write_u64(rn_writer *w, uint64_t v);
void rn_write_bytes(rn_writer *w, const void *src, size_t n);

#endif
