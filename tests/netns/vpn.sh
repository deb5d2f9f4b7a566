#!/bin/bash
# The group VPN end to end: six ringnetd members in network namespaces,
# two public and four behind home routers that NAT, form one ring, and
# their TUN devices carry IP between every pair.
#
#   vpn.sh RINGNETD RINGNET
#
#              [net] bridge: the lab's internet, 100.128.0.0/24
#    +----------+----------+-----------+-----------+-----------+
#    p1         p2         m3gw        m4gw        m5gw        m6gw
#    .11        .12        .101        .102        .103        .104
#    10.77.0.1  10.77.0.2  | NAT       | NAT       | NAT       | NAT
#                          m3          m4          m5          m6
#                          10.77.0.3   10.77.0.4   10.77.0.5   10.77.0.6
#                          192.168.1.2 192.168.2.2 192.168.3.2 192.168.4.2
#
# The NAT kinds of m3..m6 come from NETNS_NAT (default "cone symmetric
# upnp full-remap"; see nl_nat in lib.sh). The upnp router runs miniupnpd, and
# its member must hold a NAT-PMP mapping of it. Behind port-restricted cones (the
# kernel's masquerade) links come up by hole punching through the overlay
# (docs/protocol.md section 7.8): a joiner whose ring neighbour is behind a
# cone learns its endpoint from the bootstrap, and two members behind
# cones that hear of each other punch. "cone cone cone cone" passes too.
# Behind a symmetric NAT a member reaches public and forwarded members
# directly, and the others over relay links through a shared neighbour
# (docs/protocol.md section 7.9); "cone cone symmetric full-remap" passes
# too.
#
# Two members behind NAT that are not neighbours on the ring (X and Y,
# picked from the ring ids in the certificates) cannot reach each other
# directly: the internet drops what goes between their routers. Their
# traffic must be relayed: over a relay link of the overlay through a
# member both have a direct link with (docs/protocol.md section 7.9; in a
# ring this small they are in each other's near window), or by the VPN
# end to end over the ring while they have no link.
#
# Checks, each of which fails the test:
#   - every member joined, and the ring views agree (60 s at most);
#   - rn0 carries each member's virtual IPv4 address and an IPv6 one;
#   - every member pings every other one's IPv4 and IPv6 virtual address
#     (3 replies within 10 s per pair);
#   - X and Y are linked through a relay (each one's link to the other is
#     on a virtual endpoint, and the members between them forwarded:
#     stats.relay_fwd), or counted relayed packets (vpn.tx_relayed,
#     vpn.rx_relayed) both ways;
#   - TCP both ways between X and Y (iperf3, 2 s each way, at least
#     64 KiB through);
#   - 4 MiB of random bytes over TCP on IPv6 from a public member to a
#     member behind a NAT arrive with the same sha256;
#   - every daemon exits 0 on SIGTERM with no ERROR in its log.
set -u
RINGNETD=$1
RINGNET=$2
. "$(dirname "$0")/lib.sh"

read -r -a KINDS <<<"${NETNS_NAT:-cone symmetric upnp full-remap}"
[ ${#KINDS[@]} -eq 4 ] || { echo "FAIL: NETNS_NAT needs 4 kinds" >&2; exit 1; }

nl_setup
rn_group
nl_public p1 10.77.0.1
nl_public p2 10.77.0.2
for i in 0 1 2 3; do
	nl_nat "m$((i + 3))" "10.77.0.$((i + 3))" "${KINDS[$i]}"
done
rn_log "lab: 2 public members, 4 behind NAT (${KINDS[*]})"

# X, Y: the first two members behind NAT that are not next to each other
# on the ring.
mapfile -t ORDER < <(nl_ring_order "${NL_MEMBERS[@]}")
N=${#ORDER[@]}
X="" Y=""
for ((i = 0; i < N; i++)); do
	for ((j = i + 2; j < N; j++)); do
		[ $((j - i)) -ne $((N - 1)) ] || continue # first and last: neighbours
		[ -n "${NL_NAT[${ORDER[$i]}]:-}" ] && [ -n "${NL_NAT[${ORDER[$j]}]:-}" ] &&
			{ X=${ORDER[$i]}; Y=${ORDER[$j]}; break 2; }
	done
done
[ -n "$Y" ] || rn_fail "no two members behind NAT apart on the ring (${ORDER[*]})"
nl_block "$X" "$Y"
rn_log "ring order ${ORDER[*]}: $X and $Y cannot reach each other directly"

nl_start_all
nl_wait_ring 60 "${NL_MEMBERS[@]}"
rn_log "ring of ${#NL_MEMBERS[@]} formed in $NL_ELAPSED s"
nl_wait_tun 10 "${NL_MEMBERS[@]}"
nl_check_portmaps "${NL_MEMBERS[@]}"

nl_ping_matrix "${NL_MEMBERS[@]}" || rn_fail "some pairs could not ping each other"

# relay_link A B: 0 when A's link to B is up on a virtual endpoint (a relay
# link's, in the discard prefix 100::/64, overlay/relay.c).
relay_link()
{
	"$RINGNET" -s "$RN_DIR/$1.sock" peers --json 2>/dev/null | python3 -c '
import json, sys
peers = json.load(sys.stdin)["peers"]
sys.exit(0 if any(p.get("name") == sys.argv[1] and p["state"] == "up" and
                  p["endpoint"].startswith("[100::") for p in peers) else 1)
' "$2"
}
fwd=0
for name in "${NL_MEMBERS[@]}"; do
	[ "$name" = "$X" ] || [ "$name" = "$Y" ] ||
		fwd=$((fwd + $(rn_status "$name" stats.relay_fwd)))
done
if relay_link "$X" "$Y" && relay_link "$Y" "$X"; then
	[ "$fwd" -gt 0 ] || rn_fail "$X and $Y are on a relay link, but no member forwarded for them"
	rn_log "$X <-> $Y over a relay link ($fwd datagrams forwarded by the others; $X: relay_links $(rn_status "$X" stats.relay_links))"
else
	for k in "$X tx_relayed" "$Y rx_relayed" "$Y tx_relayed" "$X rx_relayed"; do
		read -r name counter <<<"$k"
		n=$(rn_status "$name" "vpn.$counter") || exit 1
		[ "$n" -gt 0 ] || rn_fail "$name's vpn.$counter is 0 and no relay link: $X and $Y did not use a relayed path ($(rn_json "$name" status vpn))"
	done
	rn_log "$X <-> $Y went relayed end to end ($X: tx_relayed $(rn_status "$X" vpn.tx_relayed), rx_relayed $(rn_status "$X" vpn.rx_relayed))"
fi

nl_iperf "$X" "$Y" "${NL_VIP[$Y]}"
nl_iperf "$X" "$Y" "${NL_VIP[$Y]}" -R
nl_send_file p1 m4 "$(nl_vip6 m4)" 4

nl_stop_all "ERROR" "${NL_MEMBERS[@]}"
rn_log "all ${#NL_MEMBERS[@]} exited 0 on SIGTERM"
echo PASS
