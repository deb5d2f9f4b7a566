#!/bin/bash
# A member whose certificate grants a range, on a real VPN behind a real
# home gateway: it claims an address through the DHT (docs/dht.md, "Address
# leases"), brings its TUN device up with it, and keeps it across a
# restart. Members in network namespaces (see lib.sh):
#
#          [net] bridge, 100.128.0.0/24
#      +------------+-------------------+
#      p1 .11       m2gw .101 (miniupnpd)  m3gw .102 (masquerade)
#      10.77.0.1    |                      |
#                   m2 range 10.77.64.0/24 m3 range 10.77.64.0/24
#
#   lease.sh RINGNETD RINGNET
#
# Checks, each of which fails the test:
#   - m2 and m3 each hold an address of 10.77.64.0/24, not the same one,
#     and rn0 carries it;
#   - every pair pings (IPv4 and IPv6) at the claimed addresses;
#   - m2 maps its port on its gateway (NAT-PMP, miniupnpd);
#   - m2 stopped and started again holds the same address, and p1 reaches
#     it there;
#   - every daemon exits 0 on SIGTERM at the end, with no ERROR logged.
set -u
RINGNETD=$1
RINGNET=$2
. "$(dirname "$0")/lib.sh"

ALL=(p1 m2 m3)
RANGE=10.77.64.0/24

nl_setup
rn_group
nl_public p1 10.77.0.1
nl_nat m2 10.77.0.2 upnp
nl_nat m3 10.77.0.3 cone
# m2 and m3 get range certificates instead of their fixed ones
for name in m2 m3; do
	rm -f "$RN_DIR/$name.cert"
	"$RINGNET" member add --group-secret "$RN_DIR/group.secret" \
		--node-pub "$RN_DIR/$name.key.pub" --range "$RANGE" \
		--name "$name" --out "$RN_DIR/$name.cert" >"$RN_DIR/$name.out" 2>&1 ||
		rn_fail "member add --range for $name: $(cat "$RN_DIR/$name.out")"
done

# held NAME: waits (30 s at most) until NAME holds an address; sets
# NL_VIP[NAME] to it.
held()
{
	local name=$1 t0 s v
	t0=$(date +%s.%N)
	while :; do
		s=$(rn_json "$name" status lease.state) || s=-
		[ "$s" = held ] && break
		nl_deadline_left "$t0" 30 || rn_fail "$name holds no address after 30 s (lease: $s)"
		sleep 0.2
	done
	nl_deadline_left "$t0" 30
	v=$(rn_json "$name" status vip) || rn_fail "no vip in $name's status"
	[[ "$v" == 10.77.64.* ]] || rn_fail "$name holds $v, outside $RANGE"
	[ "$v" != 10.77.64.0 ] && [ "$v" != 10.77.64.255 ] ||
		rn_fail "$name holds $v, the range's network or broadcast address"
	NL_VIP[$name]=$v
	rn_log "$name holds $v (claimed in $RANGE) after $NL_ELAPSED s"
}

nl_start_all
held m2
held m3
[ "${NL_VIP[m2]}" != "${NL_VIP[m3]}" ] || rn_fail "m2 and m3 both hold ${NL_VIP[m2]}"
nl_wait_ring 60 "${ALL[@]}"
rn_log "ring of 3 formed in $NL_ELAPSED s"
nl_wait_tun 10 "${ALL[@]}"
for name in m2 m3; do
	ip -n "${NL_P}$name" -o -4 addr show dev rn0 | grep -q " ${NL_VIP[$name]}/" ||
		rn_fail "rn0 of $name does not carry ${NL_VIP[$name]}"
done
nl_check_portmaps "${ALL[@]}"
nl_ping_matrix "${ALL[@]}" || rn_fail "some pairs could not ping each other"

old=${NL_VIP[m2]}
nl_stop m2
rn_log "m2 exited 0 on SIGTERM"
nl_start m2
held m2
[ "${NL_VIP[m2]}" = "$old" ] || rn_fail "m2 came back as ${NL_VIP[m2]}, was $old"
nl_wait_tun 10 m2
nl_ping p1 "$old" 3 30 || rn_fail "p1 cannot ping m2 at $old after its restart"
rn_log "m2 restarted, holds $old again, and p1 reaches it there"

nl_stop_all "ERROR" "${ALL[@]}"
echo PASS
