#!/bin/bash
# Shortcut links between real daemons (docs/vpn.md section 2): a heavy flow
# between two members that have no link with each other gets a direct
# link of its own, which carries the flow and goes again once it is over.
#
#   shortcut.sh RINGNETD RINGNET
#
# NETNS_SHORTCUT_N public members (default 20) on the lab's internet form
# one ring: with 4 neighbours a side and a few fingers each, some pairs
# have no link. X and Y are the first such pair (from `ringnet peers` of
# every member, so the test does not assume the overlay's choice of far
# links). Then:
#   - a few pings from X to Y (cold: 5 a second) leave them unlinked and
#     go end to end over the ring (vpn.tx_relayed);
#   - iperf3 from X to Y, 2 s: X asks for a shortcut (stats
#     shortcuts_asked), a link of kind "shortcut" comes up on X's side, Y
#     has a link to X, and the stream's packets go over it
#     (vpn.tx_direct grows by thousands, vpn.tx_relayed by few);
#   - 30 s after the stream the wish lapses and trimming closes the link
#     (5 s grace): within 60 s neither side has a link to the other, and
#     a ping between them goes end to end over the ring again;
#   - every daemon exits 0 on SIGTERM with no ERROR in its log.
set -u
RINGNETD=$1
RINGNET=$2
. "$(dirname "$0")/lib.sh"

N=${NETNS_SHORTCUT_N:-20}
[[ $N =~ ^[0-9]+$ ]] && [ "$N" -ge 12 ] && [ "$N" -le 60 ] ||
	{ echo "FAIL: NETNS_SHORTCUT_N must be 12..60" >&2; exit 1; }

nl_setup
rn_group
for ((i = 1; i <= N; i++)); do
	nl_public "p$i" "10.77.0.$i"
done
rn_log "lab: $N public members"
nl_start_all
nl_wait_ring 120 "${NL_MEMBERS[@]}"
rn_log "ring of $N formed in $NL_ELAPSED s"
nl_wait_tun 10 "${NL_MEMBERS[@]}"

# peer_vips NAME: the virtual addresses NAME has a link with, one a line.
peer_vips()
{
	"$RINGNET" -s "$RN_DIR/$1.sock" peers --json 2>/dev/null | python3 -c '
import json, sys
for p in json.load(sys.stdin)["peers"]:
    if p.get("vip"):
        print(p["vip"])'
}

# link_kind A B: the kind of A's link to B ("none" without one).
link_kind()
{
	"$RINGNET" -s "$RN_DIR/$1.sock" peers --json 2>/dev/null |
		python3 -c '
import json, sys
k = [p["kind"] + "/" + p["state"] for p in json.load(sys.stdin)["peers"]
     if p.get("vip") == sys.argv[1]]
print(k[0] if k else "none")' "${NL_VIP[$2]}"
}

X="" Y=""
for a in "${NL_MEMBERS[@]}"; do
	mapfile -t linked < <(peer_vips "$a")
	for b in "${NL_MEMBERS[@]}"; do
		[ "$a" = "$b" ] && continue
		[[ " ${linked[*]} " == *" ${NL_VIP[$b]} "* ]] && continue
		[ "$(link_kind "$b" "$a")" = none ] && { X=$a; Y=$b; break 2; }
	done
done
[ -n "$Y" ] || rn_fail "every pair of the $N members has a link: no pair to test (make NETNS_SHORTCUT_N larger)"
rn_log "$X and $Y have no link with each other"

nl_ping "$X" "${NL_VIP[$Y]}" 5 10 || rn_fail "$X cannot ping $Y: $(tail -n 2 "$RN_DIR/ping.$X.${NL_VIP[$Y]}")"
[ "$(link_kind "$X" "$Y")" = none ] || rn_fail "5 pings made a link $X -> $Y ($(link_kind "$X" "$Y")): not a heavy flow"
[ "$(rn_status "$X" stats.shortcuts_asked)" -eq 0 ] || rn_fail "$X asked for a shortcut after 5 pings"
relayed0=$(rn_status "$X" vpn.tx_relayed)
[ "$relayed0" -ge 5 ] || rn_fail "$X's pings to $Y did not go over the ring (vpn.tx_relayed $relayed0)"
direct0=$(rn_status "$X" vpn.tx_direct)
rn_log "5 pings $X -> $Y: relayed over the ring, no shortcut"

nl_iperf "$X" "$Y" "${NL_VIP[$Y]}"
asked=$(rn_status "$X" stats.shortcuts_asked)
kind_xy=$(link_kind "$X" "$Y")
kind_yx=$(link_kind "$Y" "$X")
direct=$(($(rn_status "$X" vpn.tx_direct) - direct0))
relayed=$(($(rn_status "$X" vpn.tx_relayed) - relayed0))
rn_log "after iperf3: $X asked $asked time(s); link $X -> $Y: $kind_xy, $Y -> $X: $kind_yx; $X sent $direct packets direct, $relayed relayed"
[ "$asked" -ge 1 ] || rn_fail "$X never asked for a shortcut to $Y"
[ "$kind_xy" = shortcut/up ] || rn_fail "$X's link to $Y is '$kind_xy', not shortcut/up"
[ "$kind_yx" != none ] || rn_fail "$Y has no link to $X"
[ "$direct" -gt "$relayed" ] || rn_fail "the stream did not take the shortcut: $direct direct, $relayed relayed"

t0=$(date +%s.%N)
while [ "$(link_kind "$X" "$Y")" != none ] || [ "$(link_kind "$Y" "$X")" != none ]; do
	nl_deadline_left "$t0" 60 ||
		rn_fail "the shortcut $X <-> $Y still stands 60 s after the stream ($(link_kind "$X" "$Y"), $(link_kind "$Y" "$X"))"
	sleep 1
done
nl_deadline_left "$t0" 60
rn_log "the idle shortcut was closed on both sides $NL_ELAPSED s after the stream"
relayed1=$(rn_status "$X" vpn.tx_relayed)
nl_ping "$X" "${NL_VIP[$Y]}" 2 10 || rn_fail "$X cannot ping $Y after the shortcut went"
[ "$(rn_status "$X" vpn.tx_relayed)" -ge $((relayed1 + 2)) ] ||
	rn_fail "$X's pings to $Y after the shortcut went did not go over the ring"

nl_stop_all "ERROR" "${NL_MEMBERS[@]}"
rn_log "all $N exited 0 on SIGTERM"
echo PASS
