/* Bounds-checked reader/writer (see buf.h). Errors are sticky: once a read
 * or write fails, later ones fail too and nothing past the end is touched. */
#include "buf.h"

#include <string.h>

#include "err.h"

void rn_reader_init(rn_reader *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

size_t rn_reader_left(const rn_reader *r)
{
	return r->err ? 0 : r->len - r->off;
}

const uint8_t *rn_read_view(rn_reader *r, size_t n)
{
	if (r->err || n > r->len - r->off) {
		r->err = RN_ERR_TRUNC;
		return NULL;
	}
	const uint8_t *v = r->p + r->off;
	r->off += n;
	return v;
}

static uint64_t read_be(rn_reader *r, size_t n)
{
	const uint8_t *v = rn_read_view(r, n);
	uint64_t x = 0;
	if (!v)
		return 0;
	for (size_t i = 0; i < n; i++)
		x = x << 8 | v[i];
	return x;
}

uint8_t rn_read_u8(rn_reader *r) { return (uint8_t)read_be(r, 1); }
uint16_t rn_read_u16(rn_reader *r) { return (uint16_t)read_be(r, 2); }
uint32_t rn_read_u32(rn_reader *r) { return (uint32_t)read_be(r, 4); }
uint64_t rn_read_u64(rn_reader *r) { return read_be(r, 8); }

void rn_read_bytes(rn_reader *r, void *out, size_t n)
{
	const uint8_t *v = rn_read_view(r, n);
	if (v)
		memcpy(out, v, n);
	else if (n)
		memset(out, 0, n);
}

void rn_writer_init(rn_writer *w, uint8_t *p, size_t cap)
{
	w->p = p;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
}

void rn_write_bytes(rn_writer *w, const void *src, size_t n)
{
	if (w->err || n > w->cap - w->len) {
		w->err = RN_ERR_TOOBIG;
		return;
	}
	if (n)
		memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void write_be(rn_writer *w, uint64_t x, size_t n)
{
	uint8_t b[8];
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(x >> (8 * (n - 1 - i)));
	rn_write_bytes(w, b, n);
}

void rn_write_u8(rn_writer *w, uint8_t v) { write_be(w, v, 1); }
void rn_write_u16(rn_writer *w, uint16_t v) { write_be(w, v, 2); }
void rn_write_u32(rn_writer *w, uint32_t v) { write_be(w, v, 4); }
void rn_write_u64(rn_writer *w, uint64_t v) { write_be(w, v, 8); }
