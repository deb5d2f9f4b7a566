#!/bin/bash
# Two members at one home, behind one router whose gateway speaks UPnP
# only (miniupnpd with NAT-PMP off, as most home routers are), both on the
# same port: each must hold a mapping of its own, so that a member behind
# a symmetric NAT links to both directly (docs/ringnetd.conf.md, [nat]
# portmap). Members in network namespaces (see lib.sh):
#
#          [net] bridge, 100.128.0.0/24
#      +------------+------------+-------------------------+------------+
#      p1 .11       p2 .12       h1gw .101 (miniupnpd,     s1gw .102, s2gw .103
#      10.77.0.1    10.77.0.2    |          UPnP only)     (masquerade random)
#                                +-- h1 192.168.1.2        s1 10.77.0.5
#                                +-- h2 192.168.1.3        s2 10.77.0.6
#                                    10.77.0.3, .4, both listen on 7400
#
#   portmap.sh RINGNETD RINGNET
#
# Checks, each of which fails the test:
#   - h1 and h2 each hold a UPnP mapping of the gateway, on different
#     external ports: the second to ask was refused 7400 (718,
#     ConflictInMappingEntry) and took another;
#   - s1, behind a symmetric NAT (no punch can reach it) and given only
#     h2's mapping as bootstrap peer, joins the ring, with a direct link
#     to h2 at that mapping;
#   - s2, behind another symmetric NAT and started with the others (its
#     first links to h1 and h2 may have been made before their mappings
#     existed, and gone through a relay), has links to h1 and h2 at their
#     mappings within 60 s: a relay link tries the direct path again
#     after 30 s, and the peer's punch names its mapping
#     (docs/protocol.md section 7.9);
#   - every pair pings (IPv4 and IPv6);
#   - the gateway's lease file lists both mappings, and none once h1 and
#     h2 have stopped (each removes its own, by its external port);
#   - every daemon exits 0 on SIGTERM at the end, with no ERROR logged.
set -u
RINGNETD=$1
RINGNET=$2
. "$(dirname "$0")/lib.sh"

ALL=(p1 p2 h1 h2 s1 s2)

nl_setup
rn_group
nl_public p1 10.77.0.1
nl_public p2 10.77.0.2
nl_nat h1 10.77.0.3 upnp-only
nl_behind h2 10.77.0.4 h1
nl_nat s1 10.77.0.5 symmetric
nl_nat s2 10.77.0.6 symmetric

# s1 knows only h2's mapping: its one bootstrap peer. Behind a symmetric
# NAT, it can join only if that mapping lets a stranger reach h2.
for name in p1 p2 h1 h2 s2; do nl_start "$name"; done
nl_check_portmaps h1 h2
nl_conf s1
sed -i '/^\[bootstrap\]/,$d' "$RN_DIR/s1.conf"
printf '[bootstrap]\npeer = %s\n' "${NL_EXT[h2]}" >>"$RN_DIR/s1.conf"
nl_start s1
nl_wait_ring 60 "${ALL[@]}"
rn_log "s1 joined through h2's mapping ${NL_EXT[h2]}; ring of ${#ALL[@]} in $NL_ELAPSED s"
# link_ep A B: the endpoint of A's UP link to B, or nothing.
link_ep()
{
	"$RINGNET" -s "$RN_DIR/$1.sock" peers --json 2>/dev/null | python3 -c '
import json, sys
for p in json.load(sys.stdin)["peers"]:
    if p["name"] == sys.argv[1] and p["state"] == "up":
        print(p["endpoint"])
' "$2"
}
ep=$(link_ep s1 h2)
[ "$ep" = "${NL_EXT[h2]}" ] || rn_fail "s1's link to h2 is at '${ep:-none}', not at its mapping ${NL_EXT[h2]}"
t0=$(date +%s.%N)
for name in h1 h2; do
	while ep=$(link_ep s2 "$name") && [ "$ep" != "${NL_EXT[$name]}" ]; do
		nl_deadline_left "$t0" 60 ||
			rn_fail "s2's link to $name is at '${ep:-none}' 60 s on, not at its mapping ${NL_EXT[$name]} (relay_direct_tries $(rn_json s2 status stats.relay_direct_tries))"
		sleep 1
	done
done
rn_log "s2 links to h1 and h2 at their mappings ($(rn_json s2 status stats.relay_direct_ok) moved off a relay)"

nl_wait_tun 10 "${ALL[@]}"
nl_ping_matrix "${ALL[@]}" || rn_fail "some pairs could not ping each other"

# The gateway's view: miniupnpd's lease file, one line per mapping.
leases=$RN_DIR/h1gw.miniupnpd.leases
n=$(grep -c ':ringnet$' "$leases" 2>/dev/null) || n=0
[ "$n" -eq 2 ] || rn_fail "the gateway lists $n ringnet mappings, not 2: $(cat "$leases" 2>/dev/null)"
nl_stop h1
nl_stop h2
n=$(grep -c ':ringnet$' "$leases" 2>/dev/null) || n=0
[ "$n" -eq 0 ] || rn_fail "mappings left on the gateway after h1 and h2 stopped: $(cat "$leases")"
rn_log "h1 and h2 removed their mappings at stop"

nl_stop_all 'ERROR' p1 p2 s1 s2
grep -HE 'ERROR' "$RN_DIR/h1.log" "$RN_DIR/h2.log" >&2 && rn_fail "errors in the daemon logs"
rn_log "PASS"
