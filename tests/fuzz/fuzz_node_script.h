/* The script language of fuzz_node.c, shared with gen_corpus.c.
 *
 * An input is one header byte, then opcodes until the bytes run out (missing
 * operand bytes read as zero). Every opcode is a byte taken modulo OP_COUNT;
 * its operands follow:
 *
 *   OP_RAW      k e len [len2 len2] bytes...  deliver raw bytes to node k
 *                                            from endpoint e (len 255 means
 *                                            a 16-bit length follows)
 *   OP_MSG      k e <message fields>         a well-formed message, built
 *                                            from the fields and encoded
 *   OP_REPLAY   i t pos pos x                captured datagram i (newest is
 *                                            0) with byte pos ^= x, to its
 *                                            addressee (t & 0x80) or node t
 *   OP_RUN      r                            1 + r%8 network rounds
 *   OP_TIME     t                            advance the clock, fire timers,
 *                                            deliver what they send at once
 *   OP_TIMEOUT  k                            spurious rn_node_on_timeout
 *   OP_LOOKUP   k <id> q*8                   rn_node_lookup
 *   OP_LEAVE    k                            rn_node_leave
 *   OP_RESTART  k mask                       free, new, join via eps in mask
 *   OP_DROP     n                            lose n queued datagrams
 *   OP_SETTLE   -                            SETTLE_ROUNDS rounds of 10 ms
 *   OP_PAUSE    t                            as OP_TIME, the network down
 *
 * Endpoint e is an index into a fixed table (EP_*); ids are chosen by a
 * selector byte (ID_*). Node k and endpoint e are taken modulo their counts.
 */
#ifndef FUZZ_NODE_SCRIPT_H
#define FUZZ_NODE_SCRIPT_H

enum fz_op {
	OP_RAW = 0,
	OP_MSG = 1,
	OP_REPLAY = 2,
	OP_RUN = 3,
	OP_TIME = 4,
	OP_TIMEOUT = 5,
	OP_LOOKUP = 6,
	OP_LEAVE = 7,
	OP_RESTART = 8,
	OP_DROP = 9,
	OP_SETTLE = 10,
	OP_PAUSE = 11,
	OP_COUNT = 12,
};

/* Header byte bits. */
#define HDR_THREE_NODES 0x01 /* 3 nodes instead of 2 */
#define HDR_NO_SETTLE 0x02   /* start the script right after rn_node_join */
#define HDR_FAR_SHIFT 2      /* 2 bits: settings.far_kind */
#define HDR_VERBOSE 0x10     /* log_level TRACE: format every log line */

/* Endpoint table. */
enum fz_ep {
	EP_NODE0 = 0, /* 100.64.0.1:4000 */
	EP_NODE1 = 1,
	EP_NODE2 = 2,
	EP_OTHER_PORT = 3, /* node 0's address, another port */
	EP_STRANGER = 4,   /* 192.0.2.7:9 */
	EP_ZERO = 5,       /* all zero */
	EP_V6 = 6,         /* [2001:db8::1]:4000 */
	EP_NODE3 = 7,      /* 100.64.0.4:4000: a node slot nobody uses */
	EP_COUNT = 8,
};

/* Id selector byte, modulo ID_COUNT; some read more bytes. */
enum fz_idsel {
	ID_NODE0 = 0, /* the id of node 0, 1, 2 */
	ID_NODE1 = 1,
	ID_NODE2 = 2,
	ID_PLUS = 3,  /* node (byte%3) id + byte */
	ID_MINUS = 4, /* node (byte%3) id - byte */
	ID_RAW = 5,   /* 20 bytes follow */
	ID_ZERO = 6,
	ID_POW2 = 7,  /* node (byte%3) id + 2^(byte%160) */
	ID_COUNT = 8,
};

#define FZ_PORT 4000
#define FZ_ADDR_BASE 0x64400001u /* node k is FZ_ADDR_BASE + k */
#define FZ_VIP_BASE 0x0A000001u  /* node k has virtual IP 10.0.0.(k+1) */
#define FZ_GROUP_BYTE 0x47       /* group id: 32 bytes of this */
#define SETTLE_ROUNDS 60

#endif
