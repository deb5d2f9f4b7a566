/* `ping`: overlay probes to a ring id or a member's virtual IP
 * (daemon_impl.h; docs/ringnetd.md has the reply).
 *
 * A ping of COUNT probes sends one rn_node_trace a second, each with its
 * own query id (qid0 + seq - 1, from the daemon's counter), and waits at
 * most 2 s for each; the node's RN_EV_TRACE_DONE for a query id carries
 * the request's path (each hop with the RTT of the link that took it
 * there) and the reply's hop count. One uv_timer_t per ping drives it.
 *
 * Per probe:  IDLE --sent--> WAIT --TRACE_DONE--> DONE
 *                             WAIT --2 s, or the trace failed--> LOST
 *
 * The ping answers its control request exactly once: when no probe is
 * left to send or wait for, when the client has hung up (then nothing is
 * sent), or at shutdown (an error). Its memory is freed in the timer's
 * close callback, never before. At most RN_DAEMON_PINGS_MAX run at once.
 */
#include "daemon_impl.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define RN_DAEMON_PINGS_MAX        8   /* pings in progress at once */
#define RN_DAEMON_PING_COUNT_MAX   100 /* as the CLI allows */
#define RN_DAEMON_PING_INTERVAL_MS 1000
#define RN_DAEMON_PING_TIMEOUT_MS  2000

enum { SEQ_IDLE = 0, SEQ_WAIT, SEQ_DONE, SEQ_LOST };

typedef struct rn_daemon_ping {
	struct rn_daemon_ping *next;
	rn_daemon *d;
	rn_ctl_req *req;
	uv_timer_t timer;
	rn_id target;
	uint64_t qid0; /* seq k (1-based) uses qid0 + k - 1 */
	unsigned count, sent;
	rn_time t0;
	rn_time sent_at[RN_DAEMON_PING_COUNT_MAX];
	rn_time rtt_us[RN_DAEMON_PING_COUNT_MAX];
	json_t *path[RN_DAEMON_PING_COUNT_MAX]; /* [{"id", "rtt_ms"}, ...] */
	uint8_t hops_back[RN_DAEMON_PING_COUNT_MAX];
	uint8_t state[RN_DAEMON_PING_COUNT_MAX];
} ping;

/* A 40-hex ring id, or a virtual IP turned into the ring id of its owner
 * (BLAKE2b-160(group_id || vip), as overlay/node.c computes its own). */
static int parse_target(const rn_daemon *d, const char *s, rn_id *id)
{
	uint8_t vip[16];
	if (strlen(s) == RN_ID_HEX_LEN &&
	    rn_id_from_hex(id, s, RN_ID_HEX_LEN) == 0)
		return 0;
	if (inet_pton(AF_INET, s, vip) == 1) {
		rn_id_hash(id, d->id.group_id, RN_GROUP_ID_LEN, vip, 4, NULL,
		           0);
		return 0;
	}
	if (inet_pton(AF_INET6, s, vip) == 1) {
		rn_id_hash(id, d->id.group_id, RN_GROUP_ID_LEN, vip, 16, NULL,
		           0);
		return 0;
	}
	return -1;
}

static void ping_free(uv_handle_t *h)
{
	ping *p = h->data;
	for (unsigned i = 0; i < RN_DAEMON_PING_COUNT_MAX; i++)
		json_decref(p->path[i]);
	free(p);
}

static void ping_unlink(ping *p)
{
	rn_daemon *d = p->d;
	for (ping **pp = &d->pings; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			d->n_pings--;
			break;
		}
	uv_close((uv_handle_t *)&p->timer, ping_free);
}

static json_t *ping_reply(const ping *p)
{
	json_t *arr = json_array();
	json_int_t lost = 0;
	for (unsigned i = 0; i < p->count; i++) {
		if (p->state[i] != SEQ_DONE) {
			lost++;
			continue;
		}
		json_array_append_new(
		    arr,
		    json_pack("{s:I,s:f,s:O,s:i}", "seq", (json_int_t)i + 1,
		              "rtt_ms", (double)p->rtt_us[i] / 1000.0, "hops",
		              p->path[i], "hops_back", (int)p->hops_back[i]));
	}
	return json_pack("{s:b,s:o,s:o,s:I}", "ok", 1, "target",
	                 rn_daemon_query_id(&p->target), "replies", arr, "lost",
	                 lost);
}

static void ping_finish(ping *p, json_t *reply)
{
	rn_ctl_reply(p->req, reply);
	p->req = NULL;
	ping_unlink(p);
}

static void ping_send(ping *p, rn_time now)
{
	unsigned i = p->sent++;
	p->state[i] = SEQ_WAIT; /* before the call: a trace of our own id
	                           is answered from inside it */
	p->sent_at[i] = now;
	if (rn_node_trace(p->d->node, now, &p->target, p->qid0 + i))
		p->state[i] = SEQ_LOST;
}

static void on_ping_timer(uv_timer_t *t);

/* Sends what is due, expires what timed out, and either answers or sets
 * the timer for the next of those. */
static void ping_step(ping *p)
{
	rn_time now = rn_uvenv_now(), next = RN_TIME_NEVER;
	const rn_time iv = RN_MS(RN_DAEMON_PING_INTERVAL_MS);
	const rn_time to = RN_MS(RN_DAEMON_PING_TIMEOUT_MS);
	if (rn_ctl_req_gone(p->req)) {
		ping_finish(p, NULL); /* dropped: the client hung up */
		return;
	}
	if (p->sent < p->count && now >= p->t0 + p->sent * iv)
		ping_send(p, now);
	if (p->sent < p->count)
		next = p->t0 + p->sent * iv;
	for (unsigned i = 0; i < p->sent; i++) {
		if (p->state[i] != SEQ_WAIT)
			continue;
		if (now >= p->sent_at[i] + to)
			p->state[i] = SEQ_LOST;
		else if (p->sent_at[i] + to < next)
			next = p->sent_at[i] + to;
	}
	if (next == RN_TIME_NEVER) {
		ping_finish(p, ping_reply(p));
		return;
	}
	uv_update_time(&p->d->loop);
	uv_timer_start(&p->timer, on_ping_timer,
	               next > now ? (next - now + 999u) / 1000u : 0, 0);
}

static void on_ping_timer(uv_timer_t *t)
{
	ping_step(t->data);
}

static int ping_waiting(const ping *p)
{
	for (unsigned i = 0; i < p->sent; i++)
		if (p->state[i] == SEQ_WAIT)
			return 1;
	return 0;
}

void rn_daemon_ping_on_trace_done(rn_daemon *d, const rn_event *ev)
{
	for (ping *p = d->pings; p; p = p->next) {
		if (ev->qid < p->qid0 || ev->qid >= p->qid0 + p->sent)
			continue;
		unsigned i = (unsigned)(ev->qid - p->qid0);
		if (p->state[i] != SEQ_WAIT)
			return;
		p->state[i] = SEQ_DONE;
		p->rtt_us[i] = rn_uvenv_now() - p->sent_at[i];
		/* The request's path as traceroute shows it: each node it
		 * reached, after us, with the RTT of the link that took it
		 * there (the overlay's path lists each forwarder with the
		 * link it took; its last entry is the target). */
		json_t *path = json_array();
		for (unsigned k = 0; k + 1 < ev->path_len; k++)
			json_array_append_new(
			    path,
			    json_pack("{s:o,s:i}", "id",
			              rn_daemon_query_id(&ev->path_id[k + 1]),
			              "rtt_ms", (int)ev->path_rtt_ms[k]));
		json_decref(p->path[i]);
		p->path[i] = path;
		p->hops_back[i] = ev->hops_back;
		if (p->sent == p->count && !ping_waiting(p))
			/* the last answer: reply now, from the loop (we may
			 * be inside ping_send, which still uses p) */
			uv_timer_start(&p->timer, on_ping_timer, 0, 0);
		return;
	}
}

json_t *rn_daemon_ping_start(rn_daemon *d, rn_ctl_req *req, const json_t *msg,
                             int *taken)
{
	const char *target = json_string_value(json_object_get(msg, "target"));
	json_t *jc = json_object_get(msg, "count");
	json_int_t count = 3;
	rn_id id;
	if (!target || parse_target(d, target, &id))
		return rn_daemon_query_error(
		    "target must be a 40-hex ring id or a "
		    "virtual IP address");
	if (jc && !json_is_null(jc)) {
		if (!json_is_integer(jc))
			return rn_daemon_query_error(
			    "count must be an integer");
		count = json_integer_value(jc);
	}
	if (count < 1 || count > RN_DAEMON_PING_COUNT_MAX)
		return rn_daemon_query_error("count must be 1 to 100");
	if (rn_node_state(d->node) != RN_NODE_JOINED)
		return rn_daemon_query_error(
		    "not on the ring yet (state is not joined)");
	if (d->n_pings >= RN_DAEMON_PINGS_MAX || d->stopping)
		return rn_daemon_query_error(
		    d->stopping ? "ringnetd is stopping"
		                : "too many pings in progress");
	ping *p = calloc(1, sizeof *p);
	if (!p)
		return rn_daemon_query_error("out of memory");
	p->d = d;
	p->req = req;
	p->target = id;
	p->count = (unsigned)count;
	p->qid0 = d->next_qid;
	d->next_qid += p->count;
	p->t0 = rn_uvenv_now();
	uv_timer_init(&d->loop, &p->timer);
	p->timer.data = p;
	p->next = d->pings;
	d->pings = p;
	d->n_pings++;
	*taken = 1;
	ping_step(p);
	return NULL;
}

void rn_daemon_ping_abort_all(rn_daemon *d)
{
	while (d->pings)
		ping_finish(d->pings,
		            rn_daemon_query_error("ringnetd is stopping"));
}
