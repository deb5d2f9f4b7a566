#!/bin/bash
# Only the holder of a virtual address speaks for it, and only members
# reach the VPN: ringnetd members in network namespaces (see lib.sh).
#
#   spoof.sh RINGNETD RINGNET
#
#          [net] bridge, 100.128.0.0/24
#      +------------+-------------------+-------------------+
#      a .11        bgw .101            cgw .102            x .12
#      10.77.0.1    |                   |                   10.77.0.9, ANOTHER
#                   b 10.77.0.2         c 10.77.0.3         group, bootstraps from a
#
# 1. a spoofs c: c's virtual IPv4 address as a /32 on a's rn0 (and c's
#    IPv6 address, nodad), then `ping -I <c's address>` b. b's kernel must
#    see no echo request (its Icmp InEchos and Icmp6InEchos do not move),
#    and b's `ringnet status --json` vpn.drop_spoof must grow. Then a
#    genuine ping a -> b works and does move b's counters, so the check
#    can see a packet that gets through.
# 2. x, a daemon of another group (its own group key, certificate and
#    TUN), starts with a's address as bootstrap: a counts its handshakes
#    as refused (sec.hs_other_group grows), x never joins or brings a link
#    up, and its ping to b's virtual address fails, b's kernel seeing no
#    echo request.
set -u
RINGNETD=$1
RINGNET=$2
. "$(dirname "$0")/lib.sh"

nl_setup
rn_group
nl_public a 10.77.0.1
nl_nat b 10.77.0.2 full
nl_nat c 10.77.0.3 full-remap

nl_start_all
nl_wait_ring 60 a b c
rn_log "ring of 3 formed in $NL_ELAPSED s"
nl_wait_tun 10 a b c
nl_ping_matrix a b c || rn_fail "some pairs could not ping each other"

B4=${NL_VIP[b]}
C4=${NL_VIP[c]}
B6=$(nl_vip6 b) || exit 1
C6=$(nl_vip6 c) || exit 1

# b_echos: b's echo requests received, IPv4 and IPv6.
b_echos() { echo "$(nl_snmp b snmp Icmp.InEchos) $(nl_snmp b snmp6 Icmp6InEchos)"; }

# ---- 1. a spoofs c's addresses ----------------------------------------------

spoof0=$(rn_status b vpn.drop_spoof) || exit 1
echos0=$(b_echos) || exit 1
ip -n "${NL_P}a" addr add "$C4/32" dev rn0 || rn_fail "cannot add $C4 to a's rn0"
ip -n "${NL_P}a" addr add "$C6/128" dev rn0 nodad || rn_fail "cannot add $C6 to a's rn0"
if nl_ping a "$B4" 1 3 -I "$C4"; then
	rn_fail "b answered a ping from a with c's source address $C4"
fi
if nl_ping a "$B6" 1 3 -I "$C6"; then
	rn_fail "b answered a ping from a with c's source address $C6"
fi
echos1=$(b_echos) || exit 1
spoof1=$(rn_status b vpn.drop_spoof) || exit 1
[ "$echos1" = "$echos0" ] ||
	rn_fail "b's kernel received spoofed echo requests (InEchos v4 v6: $echos0 -> $echos1)"
[ "$spoof1" -gt "$spoof0" ] ||
	rn_fail "b's vpn.drop_spoof did not grow ($spoof0 -> $spoof1); a's vpn: $(rn_json a status vpn)"
rn_log "a posing as c ($C4, $C6): b dropped them, drop_spoof $spoof0 -> $spoof1," \
	"b's kernel saw none (InEchos $echos0)"
ip -n "${NL_P}a" addr del "$C4/32" dev rn0
ip -n "${NL_P}a" addr del "$C6/128" dev rn0

nl_ping a "$B4" 3 10 || rn_fail "a's own ping to b fails after the spoofing"
nl_ping a "$B6" 3 10 || rn_fail "a's own IPv6 ping to b fails after the spoofing"
echos2=$(b_echos) || exit 1
read -r v4a v6a <<<"$echos1"
read -r v4b v6b <<<"$echos2"
if [ "$v4b" -lt $((v4a + 3)) ] || [ "$v6b" -lt $((v6a + 3)) ]; then
	rn_fail "genuine pings a -> b did not show in b's InEchos ($echos1 -> $echos2)"
fi
rn_log "genuine pings a -> b get through (InEchos $echos1 -> $echos2)"

# ---- 2. a daemon of another group ------------------------------------------

rn_group_in other
RN_GROUP_SECRET=$RN_DIR/other/group.secret RN_GROUP_PUB=other/group.pub \
	nl_public x 10.77.0.9
other0=$(rn_status a sec.hs_other_group) || exit 1
nl_start x
nl_wait_tun 10 x
t0=$(date +%s.%N)
while :; do
	other1=$(rn_status a sec.hs_other_group) || exit 1
	[ "$other1" -gt "$other0" ] && break
	nl_deadline_left "$t0" 15 ||
		rn_fail "a counted no handshake of x as another group's in 15 s (sec: $(rn_json a status sec))"
	sleep 0.5
done
rn_log "a refused x's handshakes: hs_other_group $other0 -> $other1"
echos0=$(b_echos) || exit 1
if nl_ping x "$B4" 1 3; then
	rn_fail "x of another group got an answer from b ($B4)"
fi
echos1=$(b_echos) || exit 1
[ "$echos1" = "$echos0" ] ||
	rn_fail "b's kernel received echo requests from x (InEchos $echos0 -> $echos1)"
state=$(rn_status x state) || exit 1
up=$(rn_status x links.up) || exit 1
[ "$state" != joined ] || rn_fail "x of another group says it joined"
[ "$up" -eq 0 ] || rn_fail "x of another group has $up links up"
rn_log "x: state $state, no link up, its ping to b ($B4) unanswered"

nl_stop_all "ERROR" a b c x
echo PASS
