#!/bin/bash
# The ringnet VPN demo (./dev.sh demo): a group of five members on one
# machine, in network namespaces, four of them behind home routers that
# NAT with nftables; they find each other through one public bootstrap
# member, form the ring, and every member pings every other one's
# virtual IPv4 and IPv6 address through the TUN devices.
#
#   demo.sh RINGNETD RINGNET       (as root)
#
#                 [net] bridge: the lab's "internet", 100.128.0.0/24
#     +---------------+-----------------+-----------------+-----------------+
#   boot .11       alicegw .101      bobgw .102        carolgw .103      davegw .104
#   10.77.0.1      NAT               NAT, 7400->20002  NAT               NAT, 7400->20004
#                  |192.168.1.0/24   |192.168.2.0/24   |192.168.3.0/24   |192.168.4.0/24
#                  alice 10.77.0.2   bob 10.77.0.3     carol 10.77.0.4   dave 10.77.0.5
#
# It makes the group key, each member's key and certificate, starts the
# five daemons, waits for the ring, runs the ping matrix, shows one
# member's `ringnet status`, and tears everything down (also on Ctrl-C or
# failure). Exit 0 only if every pair could ping. NETNS_NAT sets the four
# routers' NAT kinds (lib.sh, nl_nat); the default, "upnp cone upnp cone",
# is two home routers that run a UPnP/NAT-PMP gateway (miniupnpd: the
# member maps its port) and two that only masquerade (a port-restricted
# cone: links come up by hole punching, docs/protocol.md section 7.8).
set -u
RINGNETD=${1:?usage: demo.sh RINGNETD RINGNET}
RINGNET=${2:?usage: demo.sh RINGNETD RINGNET}
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "demo.sh: run it as root (it makes network namespaces)" >&2; exit 2; }
read -r -a KINDS <<<"${NETNS_NAT:-upnp cone upnp cone}"
[ ${#KINDS[@]} -eq 4 ] || { echo "demo.sh: NETNS_NAT needs 4 kinds" >&2; exit 2; }
NAMES=(alice bob carol dave)

T0=$(date +%s.%N)
nl_setup
rn_group
rn_log "group $("$RINGNET" group id "$RN_DIR/group.pub" | cut -c1-16)...: key and 5 member certificates made"
nl_public boot 10.77.0.1
for i in 0 1 2 3; do
	nl_nat "${NAMES[$i]}" "10.77.0.$((i + 2))" "${KINDS[$i]}"
done
rn_log "lab: boot on the internet, ${NAMES[*]} behind NAT routers (${KINDS[*]})"

nl_start_all
nl_wait_ring 60 "${NL_MEMBERS[@]}"
rn_log "the ring of ${#NL_MEMBERS[@]} formed in $NL_ELAPSED s"
nl_wait_tun 10 "${NL_MEMBERS[@]}"
nl_check_portmaps "${NL_MEMBERS[@]}"

echo
printf '%-7s %-15s %-11s %-11s %s\n' MEMBER UNDERLAY NAT VIP VIP6
for name in "${NL_MEMBERS[@]}"; do
	printf '%-7s %-15s %-11s %-11s %s\n' "$name" "${NL_ADDR[$name]}" \
		"${NL_NAT[$name]:-public}" "${NL_VIP[$name]}" "$(nl_vip6 "$name")"
done
echo

rn_log "pinging every member from every member, IPv4 and IPv6..."
nl_ping_matrix "${NL_MEMBERS[@]}"
RC=$?
echo
echo "\$ ringnet status      (on alice)"
"$RINGNET" -s "$RN_DIR/alice.sock" status
echo
nl_deadline_left "$T0" 0
if [ $RC -ne 0 ]; then
	rn_dump_logs
	echo "demo FAILED: some pairs could not ping each other (${NL_ELAPSED} s)"
	exit 1
fi
echo "demo OK: every member reached every other one over the VPN (${NL_ELAPSED} s); tearing down"
