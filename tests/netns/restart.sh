#!/bin/bash
# A member that stops and starts again is reachable again: three ringnetd
# members in network namespaces (see lib.sh), one public and two behind
# NATs. m3 is stopped with SIGTERM (it leaves the ring), then m2 is killed
# with SIGKILL (a crash: its peers keep its old sessions until they time
# out); each starts again with the same key and address.
#
#   restart.sh RINGNETD RINGNET
#
#          [net] bridge, 100.128.0.0/24
#      +------------+-------------------+
#      p1 .11       m2gw .101           m3gw .102 (UDP 20002 -> m3:7400)
#      10.77.0.1    |                   |
#                   m2 10.77.0.2        m3 10.77.0.3
#
# Checks, each of which fails the test:
#   - the ring of three forms, and all pairs ping (IPv4 and IPv6);
#   - m3 exits 0 on SIGTERM; the rn0 of the stopped member is gone;
#   - while it is down, a ping to its address fails (so that the next
#     check means something);
#   - after it starts again, the two others ping it (IPv4) and it pings
#     p1 (IPv6) within 30 s, and the ring of three is whole again;
#   - every daemon exits 0 on SIGTERM at the end, with no ERROR logged.
set -u
RINGNETD=$1
RINGNET=$2
. "$(dirname "$0")/lib.sh"

ALL=(p1 m2 m3)

# down NAME: its rn0 is gone within 5 s, and p1 (or m2 for p1) gets no
# answer from its address.
down()
{
	local name=$1 t0 from=p1
	[ "$name" != p1 ] || from=m2
	t0=$(date +%s.%N)
	while ip -n "${NL_P}$name" link show dev rn0 >/dev/null 2>&1; do
		nl_deadline_left "$t0" 5 || rn_fail "rn0 of $name is still there 5 s after it exited"
		sleep 0.1
	done
	if nl_ping "$from" "${NL_VIP[$name]}" 1 2; then
		rn_fail "$from got an answer from ${NL_VIP[$name]} while $name was down"
	fi
	rn_log "while $name is down, $from's ping to ${NL_VIP[$name]} goes unanswered"
}

# back NAME: starts it; the others reach it and it reaches p1 in 30 s.
back()
{
	local name=$1 other t0 pids=() who=() i
	nl_start "$name"
	t0=$(date +%s.%N)
	nl_wait_tun 10 "$name"
	for other in "${ALL[@]}"; do
		[ "$other" = "$name" ] && continue
		nl_ping "$other" "${NL_VIP[$name]}" 3 30 &
		pids+=($!)
		who+=("$other cannot ping $name (${NL_VIP[$name]})")
	done
	[ "$name" = p1 ] || {
		nl_ping "$name" "$(nl_vip6 p1)" 3 30 &
		pids+=($!)
		who+=("the restarted $name cannot ping p1 over IPv6")
	}
	for ((i = 0; i < ${#pids[@]}; i++)); do
		wait "${pids[$i]}" || rn_fail "${who[$i]} 30 s after its restart"
	done
	nl_deadline_left "$t0" 0
	rn_log "$name restarted: reachable, and reaching, after $NL_ELAPSED s"
	nl_wait_ring 60 "${ALL[@]}"
	rn_log "ring of 3 whole again"
}

nl_setup
rn_group
nl_public p1 10.77.0.1
nl_nat m2 10.77.0.2 full
nl_nat m3 10.77.0.3 full-remap

nl_start_all
nl_wait_ring 60 "${ALL[@]}"
rn_log "ring of 3 formed in $NL_ELAPSED s"
nl_wait_tun 10 "${ALL[@]}"
nl_ping_matrix "${ALL[@]}" || rn_fail "some pairs could not ping each other"

nl_stop m3
rn_log "m3 exited 0 on SIGTERM"
down m3
back m3

nl_kill m2
rn_log "m2 killed with SIGKILL"
down m2
back m2

nl_stop_all "ERROR" "${ALL[@]}"
echo PASS
