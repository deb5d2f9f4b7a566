/* Member record values (member.h). */
#include "member.h"

#include <string.h>

#include "../core/err.h"

static int kind_ok(uint8_t k)
{
	return k >= RN_MEMBER_EP_LOCAL && k <= RN_MEMBER_EP_REFLEXIVE;
}

int rn_member_encode(const rn_member *m, uint8_t *buf, size_t cap,
		     size_t *len)
{
	if (m->n > RN_MEMBER_EPS_MAX)
		return RN_ERR_INVAL;
	if (cap < (size_t)m->n * RN_MEMBER_ENTRY_LEN)
		return RN_ERR_TOOBIG;
	for (unsigned i = 0; i < m->n; i++) {
		if (!kind_ok(m->kind[i]))
			return RN_ERR_INVAL;
		buf[i * RN_MEMBER_ENTRY_LEN] = m->kind[i];
		rn_ep_to_wire(&m->ep[i], buf + i * RN_MEMBER_ENTRY_LEN + 1);
	}
	*len = (size_t)m->n * RN_MEMBER_ENTRY_LEN;
	return 0;
}

int rn_member_decode(const uint8_t *buf, size_t len, rn_member *m)
{
	if (len % RN_MEMBER_ENTRY_LEN || len > RN_MEMBER_VALUE_MAX)
		return RN_ERR_PROTO;
	memset(m, 0, sizeof *m);
	m->n = (uint8_t)(len / RN_MEMBER_ENTRY_LEN);
	for (unsigned i = 0; i < m->n; i++) {
		const uint8_t *e = buf + i * RN_MEMBER_ENTRY_LEN;
		if (!kind_ok(e[0]))
			return RN_ERR_PROTO;
		m->kind[i] = e[0];
		rn_ep_from_wire(&m->ep[i], e + 1);
	}
	return 0;
}
