#!/bin/bash
# Address allocation through real daemons (DHCP over the DHT; issue 4,
# daemon/daemon_claim.c): members whose certificate grants a range claim
# a free address with the DHT's create, bind to it, and never share one.
#
#   1. a fixed member g (10.79.0.1, the bootstrap) and five range members
#      r1..r5 of 10.79.0.0/24 all come to hold an address: distinct, inside
#      the range, none of them g's; each rejoined the ring as its address
#      (the ring of six converges on the bound ids); g resolves every name
#      to the address its member holds;
#   2. r1 stopped and started again claims the same address (the same key
#      picks the same candidates, and the lease is its own);
#   3. two range members x, y of 10.79.1.0/30 (addresses .1 and .2) with
#      the fixed member f holding 10.79.1.1: exactly one of them holds
#      10.79.1.2, the other finds no free address and exits 1 saying so;
#   4. every daemon left exits 0 on SIGTERM, with no ERROR in its log.
#
#   lease.sh RINGNETD RINGNET
#
# Every wait is bounded; the EXIT trap (lib.sh) kills what is left.
set -u
RINGNETD=$1
RINGNET=$2
. "$(dirname "$0")/lib.sh"

RANGE=(r1 r2 r3 r4 r5)
WAIT_S=60

rn_setup
rn_group
rn_member g 10.79.0.1
rn_member f 10.79.1.1
# range_member NAME PREFIX: like rn_member, with --range
range_member()
{
	local name=$1 d=$RN_DIR
	"$RINGNET" key new --out "$d/$name.key" >"$d/$name.out" 2>&1 &&
		"$RINGNET" member add --group-secret "$d/group.secret" \
			--node-pub "$d/$name.key.pub" --range "$2" --name "$name" \
			--out "$d/$name.cert" >>"$d/$name.out" 2>&1 ||
		rn_fail "making the range member $name: $(cat "$d/$name.out")"
	grep -q "^range: *$2 " "$d/$name.out" ||
		rn_fail "member add --range printed: $(cat "$d/$name.out")"
}
for name in "${RANGE[@]}"; do
	range_member "$name" 10.79.0.0/24
done
range_member x 10.79.1.0/30
range_member y 10.79.1.0/30

ALL=(g "${RANGE[@]}" f x y)
declare -A PORT=()
start_all()
{
	local base rc name
	base=$(rn_base_port ${#ALL[@]})
	rn_conf_star "$base" "${ALL[@]}"
	# x and y come once f holds 10.79.1.1 (below)
	for name in g "${RANGE[@]}" f; do
		rn_start "$name"
		rc=$?
		[ $rc -eq 0 ] || return $rc
	done
	rn_log "started ${#ALL[@]} daemons on 127.0.0.1:$base-$((base + ${#ALL[@]} - 1))"
}
rn_start_retrying start_all ${#ALL[@]}

# wait_held NAME...: every one's lease.state is "held" (bounded).
wait_held()
{
	local t0=$SECONDS name s
	for name in "$@"; do
		while :; do
			s=$(rn_json "$name" status lease.state) || s=-
			[ "$s" = held ] && break
			[ $((SECONDS - t0)) -lt $WAIT_S ] ||
				rn_fail "$name holds no address after $WAIT_S s (lease: $s)"
			sleep 0.5
		done
	done
}

# 1. everyone in 10.79.0.0/24 holds a distinct address
t0=$SECONDS
wait_held g "${RANGE[@]}" f
declare -A VIP=()
for name in g "${RANGE[@]}"; do
	VIP[$name]=$(rn_status "$name" vip) || exit 1
done
rn_log "held after $((SECONDS - t0)) s: $(for n in g "${RANGE[@]}"; do printf '%s=%s ' "$n" "${VIP[$n]}"; done)"
[ "${VIP[g]}" = 10.79.0.1 ] || rn_fail "g's address is ${VIP[g]}"
dups=$(for n in g "${RANGE[@]}"; do echo "${VIP[$n]}"; done | sort | uniq -d)
[ -z "$dups" ] || rn_fail "an address is held twice: $dups"
for name in "${RANGE[@]}"; do
	case ${VIP[$name]} in
	10.79.0.0 | 10.79.0.255 | 10.79.0.1) rn_fail "$name holds ${VIP[$name]}" ;;
	10.79.0.*) ;;
	*) rn_fail "$name holds ${VIP[$name]}, outside 10.79.0.0/24" ;;
	esac
	r=$(rn_status "$name" lease.range) || exit 1
	[ "$r" = 10.79.0.0/24 ] || rn_fail "$name's lease range is '$r'"
	grep -q "lease: claimed an address; rejoining the ring as ${VIP[$name]}" \
		"$RN_DIR/$name.log" || rn_fail "$name did not rejoin as its address"
done

# 3. the /30: exactly one of x and y holds 10.79.1.2
rn_start x || rn_fail "x did not start"
rn_start y || rn_fail "y did not start"
t0=$SECONDS
while :; do
	sx=$(rn_json x status lease.state) || sx=gone
	sy=$(rn_json y status lease.state) || sy=gone
	if { [ "$sx" = held ] && [ "$sy" = gone ]; } ||
		{ [ "$sy" = held ] && [ "$sx" = gone ]; }; then
		break
	fi
	[ $((SECONDS - t0)) -lt $WAIT_S ] ||
		rn_fail "x ($sx) and y ($sy): want one held, one gone"
	sleep 0.5
done
if [ "$sx" = held ]; then win=x lose=y; else win=y lose=x; fi
v=$(rn_status $win vip) || exit 1
[ "$v" = 10.79.1.2 ] || rn_fail "$win holds $v in 10.79.1.0/30"
rn_kill TERM $lose 2>/dev/null # reaps it: it exited by itself
[ "$RN_RC" -eq 1 ] || rn_fail "$lose exited $RN_RC, want 1"
grep -q "ERROR: lease: no free address in 10.79.1.0/30 after 16 tries" \
	"$RN_DIR/$lose.log" || rn_fail "$lose's log: $(tail -3 "$RN_DIR/$lose.log")"
rn_log "10.79.1.0/30: $win holds 10.79.1.2, $lose found no free address (exit 1)"

# the ring converges on the bound ids; g resolves every member's name
rn_wait_ring $WAIT_S g "${RANGE[@]}" f $win
rn_log "the ring of 8 converged on the bound ids in ${RN_WAITED} s"
for name in "${RANGE[@]}"; do
	"$RINGNET" -s "$RN_DIR/g.sock" resolve "$name" >"$RN_DIR/out" 2>&1 ||
		rn_fail "g cannot resolve $name: $(cat "$RN_DIR/out")"
	grep -q "${VIP[$name]}" "$RN_DIR/out" ||
		rn_fail "g resolves $name as: $(cat "$RN_DIR/out")"
done
rn_log "g resolves every range member's name to the address it holds"

# 2. r1 restarts and claims the same address
rn_kill TERM r1
[ "$RN_RC" -eq 0 ] || rn_fail "r1 exited $RN_RC on SIGTERM"
mv "$RN_DIR/r1.log" "$RN_DIR/r1.first.log"
rn_start r1 || rn_fail "r1 did not start again"
wait_held r1
v=$(rn_status r1 vip) || exit 1
[ "$v" = "${VIP[r1]}" ] || rn_fail "r1 came back as $v, was ${VIP[r1]}"
rn_log "r1 restarted and holds ${VIP[r1]} again"

# 4. clean exits; only the loser may have logged an ERROR
rn_stop_all "ERROR" g "${RANGE[@]}" f $win
rn_log "PASS"
