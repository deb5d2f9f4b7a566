# A network lab of real ringnetd members in Linux network namespaces, with
# home routers that NAT like the kernel does at home (sourced, not run).
#
#                        [P-net]  bridge br0: the lab's "internet",
#                        100.128.0.0/24 (exists only inside the lab)
#      +-------------+--------------+-------------------+----- ...
#      | eth0        | eth0         | wan               | wan
#   [P-p1]        [P-p2]         [P-m3gw]            [P-m4gw]       routers:
#   .11           .12            .101 (k = 1)        .102 (k = 2)   WAN .(100+k)
#   public        public         nftables NAT        nftables NAT
#   member        member         | lan 192.168.1.1   | lan 192.168.2.1
#                                | eth0 192.168.1.2  | eth0 192.168.2.2
#                                [P-m3] member       [P-m4] member
#                                default via .1      default via .1
#
# The NAT kinds (nl_nat): cone (port-restricted cone: the kernel's
# masquerade), full (full cone: masquerade plus a forward of UDP 7400, as
# a UPnP or NAT-PMP mapping gives), full-remap (a full cone that maps the
# port to 20000+k), symmetric (masquerade random) and upnp (a cone whose
# router runs miniupnpd, a real UPnP IGD and NAT-PMP gateway, so that the
# member maps its own port: [nat] portmap); upnp-only is the same with
# UPnP alone, as most home routers have it. Every router also
# drops new packets from the internet to itself, as a home router does.
# A router's LAN is a bridge (lan): nl_behind puts more members on it
# (192.168.k.3, .4 ...), two machines at one home.
# The overlay joins members that are public, behind a full cone or behind
# a cone (hole punching through the overlay, docs/protocol.md section
# 7.8), or behind a symmetric NAT: what no punch can open (symmetric
# facing a cone or another symmetric NAT) links through a relay, a member
# both have a direct link with (section 7.9).
#
# P is rn<PID>- (one prefix per run, so that parallel or leftover runs never
# collide). Every veth is created directly between two of this run's
# namespaces, so nothing is ever added to the root namespace, and no lab
# namespace has a route out of the lab: the only addresses are 100.128.0.0/24
# and 192.168.N.0/24, and a member behind a router has its default route via
# that router. Each member runs `ip netns exec P-NAME ringnetd -c NAME.conf`,
# which creates its TUN device rn0 (10.77.0.0/16 and the group's ULA /64)
# inside its namespace. Its control socket, log and files are in RN_DIR (a
# mktemp directory): `ringnet -s RN_DIR/NAME.sock` talks to it over a Unix
# socket, so the root namespace never sends to a lab address.
#
# The EXIT trap (also on INT, TERM and on failure) kills every process left
# in this run's namespaces (by the pids `ip netns pids` lists), deletes
# exactly this run's namespaces (their veths go with them) and removes
# RN_DIR. Every wait is a poll with a deadline.
#
# Use: set RINGNETD and RINGNET, source this file, then
#   nl_setup; rn_group
#   nl_public p1 10.77.0.1; nl_nat m3 10.77.0.3 full; ...
#   nl_start_all; nl_wait_ring 30 p1 m3 ...; nl_ping_matrix p1 m3 ...
# The group, key and certificate helpers (rn_group, rn_member, rn_json,
# rn_ring_ok, rn_fail ...) are those of tests/daemon/lib.sh.
#
# A test exits 77 (CTest's skip) only when it is not root or the kernel
# has no network namespaces; a missing tool (nft, ping, iperf3) is a
# failure (./dev.sh test and ./dev.sh demo install them).

set -u
. "$(dirname "${BASH_SOURCE[0]}")/../daemon/lib.sh"

# The system's python3 when there is one: a version manager's shim found
# first in PATH can cost 0.3 s a call, and the waits below call it often.
# NL_PY is the same for what runs inside a namespace.
NL_PY=python3
if [ -x /usr/bin/python3 ]; then
	NL_PY=/usr/bin/python3
	python3() { /usr/bin/python3 "$@"; }
fi

NL_P="rn$$-"               # this run's namespace prefix
NL_PREFIX=10.77.0.0/16     # the group's IPv4 prefix, routed into rn0
NL_MTU=1420
NL_PORT=7400               # every member listens here, in its own namespace
NL_TUN=${NL_TUN:-1}        # 0: device = none (the overlay only, to debug it)
NL_NS=()                   # this run's namespaces, in creation order
NL_PUBLIC=()               # names of the public members (the bootstrap)
NL_MEMBERS=()              # names of every member, in creation order
declare -A NL_PID=()       # name -> pid of its running ringnetd
declare -A NL_ADDR=()      # name -> its own underlay address
declare -A NL_NAT=()       # name -> the kind of NAT it is behind
declare -A NL_WAN=()       # name -> its address on the internet (its router's)
declare -A NL_EXT=()       # name -> its port mapping, WAN:PORT (nl_check_portmaps)
declare -A NL_GWK=()       # router -> its k (LAN 192.168.k.0/24)
declare -A NL_LANS=()      # router -> how many members its LAN has
declare -A NL_VIP=()       # name -> virtual IPv4 address (its certificate)
declare -A NL_GROUP=()     # name -> group.pub path, relative to RN_DIR
NL_NPUB=0
NL_NNAT=0

# ---- the lab ----------------------------------------------------------------

# On failure (rn_fail), besides the last lines of every log: what each
# running daemon says of itself and its peers.
rn_dump_logs()
{
	local f name
	[ -n "$RN_DIR" ] || return 0
	for f in "$RN_DIR"/*.log; do
		[ -e "$f" ] || continue
		printf -- '--- %s (last 15 lines)\n' "${f##*/}" >&2
		tail -n 15 "$f" >&2
	done
	for name in "${!NL_PID[@]}"; do
		printf -- '--- ringnet status; ringnet peers (%s)\n' "$name" >&2
		timeout 10 "$RINGNET" -s "$RN_DIR/$name.sock" status >&2
		timeout 10 "$RINGNET" -s "$RN_DIR/$name.sock" peers >&2
	done
}

# nl_skip WHY: exit 77, which CTest reports as skipped.
nl_skip()
{
	echo "SKIP: $*"
	exit 77
}

# Root, namespaces and the tools; RN_DIR, the trap and the internet.
nl_setup()
{
	local t
	[ "$(id -u)" -eq 0 ] || nl_skip "network namespaces need root"
	[ -x "${RINGNETD:-}" ] || { echo "FAIL: no ringnetd binary: ${RINGNETD:-}" >&2; exit 1; }
	[ -x "${RINGNET:-}" ] || { echo "FAIL: no ringnet binary: ${RINGNET:-}" >&2; exit 1; }
	for t in ip ss nft ping iperf3 python3 sha256sum timeout; do
		command -v "$t" >/dev/null ||
			{ echo "FAIL: '$t' is missing (./dev.sh test installs it)" >&2; exit 1; }
	done
	RN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ringnet-netns.XXXXXX") ||
		{ echo "FAIL: mktemp" >&2; exit 1; }
	trap nl_cleanup EXIT
	trap 'exit 130' INT TERM
	if ! ip netns add "${NL_P}net" 2>"$RN_DIR/netns.err"; then
		nl_skip "no network namespaces: $(cat "$RN_DIR/netns.err")"
	fi
	NL_NS+=("${NL_P}net")
	nl_up "${NL_P}net" lo
	ip -n "${NL_P}net" link add br0 type bridge || rn_fail "no bridge in ${NL_P}net"
	nl_up "${NL_P}net" br0
}

# Kills what runs in the lab, deletes its namespaces, removes RN_DIR.
nl_cleanup()
{
	local ns pid name i
	for name in "${!NL_PID[@]}"; do
		# kill and reap in one group: no "Killed" job notice
		{ kill -9 "${NL_PID[$name]}" && wait "${NL_PID[$name]}"; } 2>/dev/null
	done
	NL_PID=()
	# Also a namespace of this run made just before a signal came.
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
		[[ "$ns" == "$NL_P"* && " ${NL_NS[*]} " != *" $ns "* ]] && NL_NS+=("$ns")
	done
	for ns in "${NL_NS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null
		done
	done
	for ns in "${NL_NS[@]}"; do
		# A process that was just killed may still hold the namespace.
		for ((i = 0; i < 20; i++)); do
			[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
			sleep 0.1
		done
		ip netns del "$ns" 2>/dev/null
	done
	NL_NS=()
	rn_cleanup
}

# nl_ns NAME: a new namespace P-NAME with lo up.
nl_ns()
{
	ip netns add "$NL_P$1" || rn_fail "ip netns add $NL_P$1"
	NL_NS+=("$NL_P$1")
	nl_up "$NL_P$1" lo
}

nl_up() { ip -n "$1" link set "$2" up || rn_fail "cannot set $2 up in $1"; }

# nl_sh NAME CMD...: runs CMD inside member (or router) NAME's namespace.
nl_sh()
{
	local name=$1
	shift
	ip netns exec "$NL_P$name" "$@"
}

# nl_wire NAME IF ADDR/LEN: a veth from namespace P-NAME (interface IF,
# address ADDR) to the internet's bridge (port v-NAME).
nl_wire()
{
	local ns=$NL_P$1 ifc=$2 addr=$3
	ip -n "$ns" link add "$ifc" type veth peer name "v-$1" netns "${NL_P}net" ||
		rn_fail "cannot wire $ns to the internet"
	ip -n "${NL_P}net" link set "v-$1" master br0 || rn_fail "bridge port v-$1"
	nl_up "${NL_P}net" "v-$1"
	ip -n "$ns" addr add "$addr" dev "$ifc" || rn_fail "address $addr in $ns"
	nl_up "$ns" "$ifc"
}

# nl_public NAME VIP: a member with a public address 100.128.0.(10+k) on
# the internet; its key and a certificate for VIP in RN_DIR.
nl_public()
{
	local name=$1 vip=$2
	NL_NPUB=$((NL_NPUB + 1))
	nl_ns "$name"
	nl_wire "$name" eth0 "100.128.0.$((10 + NL_NPUB))/24"
	NL_ADDR[$name]=100.128.0.$((10 + NL_NPUB))
	NL_WAN[$name]=${NL_ADDR[$name]}
	NL_PUBLIC+=("$name")
	nl_member "$name" "$vip"
}

# nl_nat NAME VIP cone|full|symmetric: a home router P-NAMEgw (WAN
# 100.128.0.(100+k), LAN 192.168.k.0/24) that masquerades its LAN, and the
# member P-NAME at 192.168.k.2 behind it. cone: the kernel's
# port-preserving masquerade, a port-restricted cone NAT (inbound only
# from where the member sent to); full: the same plus a static forward of
# the member's UDP port, a full cone (what a UPnP or NAT-PMP mapping
# gives); full-remap: a full cone that maps the member's port to
# 20000+k outside, so that peers must use the port they see; symmetric:
# `masquerade random`, a new port for each destination.
nl_nat()
{
	local name=$1 vip=$2 kind=$3 k gw=${1}gw random="" pre="" snat=""
	local wan lan
	NL_NNAT=$((NL_NNAT + 1))
	k=$NL_NNAT
	wan=100.128.0.$((100 + k))
	lan=192.168.$k.2
	case "$kind" in
	cone) ;;
	full) pre="iifname \"wan\" udp dport $NL_PORT dnat to $lan" ;;
	full-remap)
		pre="iifname \"wan\" udp dport $((20000 + k)) dnat to $lan:$NL_PORT"
		snat="oifname \"wan\" ip saddr $lan udp sport $NL_PORT snat to $wan:$((20000 + k))"
		;;
	symmetric) random=" random" ;;
	upnp | upnp-only) ;; # a cone; miniupnpd maps what members ask
	*) rn_fail "nl_nat: unknown NAT kind '$kind'" ;;
	esac
	nl_ns "$gw"
	nl_wire "$gw" wan "$wan/24"
	ip -n "$NL_P$gw" link add lan type bridge || rn_fail "LAN bridge of $gw"
	ip -n "$NL_P$gw" addr add "192.168.$k.1/24" dev lan || rn_fail "LAN of $gw"
	nl_up "$NL_P$gw" lan
	NL_GWK[$gw]=$k
	NL_LANS[$gw]=0
	nl_lan_member "$name" "$gw"
	nl_sh "$gw" sysctl -qw net.ipv4.ip_forward=1 || rn_fail "ip_forward in $gw"
	nl_sh "$gw" nft -f - <<EOF || rn_fail "nftables NAT in $gw"
table ip nat {
	chain pre {
		type nat hook prerouting priority -100;
		$pre
	}
	chain post {
		type nat hook postrouting priority 100;
		$snat
		oifname "wan" masquerade$random
	}
}
# A home router's firewall: nothing new from the internet reaches the
# router itself. Without it an unsolicited packet (a peer's hole-punching
# HELLO arriving first) is answered with port-unreachable, its conntrack
# entry is confirmed and holds the tuple, and the member's own packet to
# that peer then leaves from another port: no hole punching could work.
table inet fw {
	chain input {
		type filter hook input priority 0; policy accept;
		iifname "wan" ct state new drop
	}
}
EOF
	case $kind in
	upnp) nl_upnp_gateway "$gw" "$wan" "$k" yes ;;
	upnp-only) nl_upnp_gateway "$gw" "$wan" "$k" no ;;
	esac
	NL_WAN[$name]=$wan
	NL_NAT[$name]=$kind
	nl_member "$name" "$vip"
}

# nl_lan_member NAME GW: namespace P-NAME wired to GW's LAN bridge, at
# 192.168.k.(2 + the members already there), default route via GW.
nl_lan_member()
{
	local name=$1 gw=$2 k=${NL_GWK[$2]} n addr
	n=$((NL_LANS[$gw] + 1))
	NL_LANS[$gw]=$n
	addr=192.168.$k.$((1 + n))
	nl_ns "$name"
	ip -n "$NL_P$gw" link add "lan$n" type veth peer name eth0 netns "$NL_P$name" ||
		rn_fail "cannot wire $name to its router"
	ip -n "$NL_P$gw" link set "lan$n" master lan || rn_fail "lan$n of $gw"
	nl_up "$NL_P$gw" "lan$n"
	ip -n "$NL_P$name" addr add "$addr/24" dev eth0 || rn_fail "address of $name"
	nl_up "$NL_P$name" eth0
	ip -n "$NL_P$name" route add default via "192.168.$k.1" ||
		rn_fail "default route of $name"
	NL_ADDR[$name]=$addr
}

# nl_behind NAME VIP OTHER: member NAME on the LAN of OTHER's router (made
# by nl_nat), so behind the same NAT and the same gateway.
nl_behind()
{
	local name=$1 vip=$2 gw=${3}gw
	[ -n "${NL_GWK[$gw]:-}" ] || rn_fail "nl_behind: $3 has no router"
	nl_lan_member "$name" "$gw"
	NL_WAN[$name]=${NL_WAN[$3]}
	NL_NAT[$name]=${NL_NAT[$3]}
	nl_member "$name" "$vip"
}

# nl_member NAME VIP: key and certificate, signed by RN_GROUP_SECRET
# (default: the test's group); NL_GROUP[NAME] from RN_GROUP_PUB.
nl_member()
{
	rn_member "$1" "$2"
	NL_MEMBERS+=("$1")
	NL_VIP[$1]=$2
	NL_GROUP[$1]=${RN_GROUP_PUB:-group.pub}
}

# nl_block A B: the internet drops every packet between A's and B's
# internet addresses (both ways), so that A and B can reach each other
# only through other members. Call it once per lab.
nl_block()
{
	local a=${NL_WAN[$1]} b=${NL_WAN[$2]}
	ip netns exec "${NL_P}net" nft -f - <<EOF || rn_fail "cannot block $1 <-> $2"
table bridge lab {
	chain forward {
		type filter hook forward priority 0;
		ip saddr $a ip daddr $b drop
		ip saddr $b ip daddr $a drop
	}
}
EOF
}

# nl_ring_order NAME...: the names in ring order (by the ring id in each
# member's certificate), one a line.
nl_ring_order()
{
	local name id
	for name in "$@"; do
		id=$("$RINGNET" member show "$RN_DIR/$name.cert" | awk '/^ring id:/ { print $3 }')
		[ -n "$id" ] || rn_fail "no ring id in $name.cert"
		echo "$id $name"
	done | sort | awk '{ print $2 }'
}

# ---- the daemons ------------------------------------------------------------

# nl_conf NAME: NAME.conf; a public member bootstraps from the public
# members before it, every other member from all of them; the first 8 at
# most (a node keeps 8 bootstrap endpoints, bootstrap_max).
nl_conf()
{
	local name=$1 p f=$RN_DIR/$1.conf peers=()
	for p in "${NL_PUBLIC[@]}"; do
		[ "$p" = "$name" ] || [ ${#peers[@]} -ge 8 ] && break
		peers+=("${NL_ADDR[$p]}:$NL_PORT")
	done
	{
		printf '[node]\nlisten = 0.0.0.0:%s\n' "$NL_PORT"
		printf 'group = %s\nkey = %s.key\ncert = %s.cert\n' \
			"${NL_GROUP[$name]}" "$name" "$name"
		printf 'control = %s/%s.sock\nlog_level = %s\n' \
			"$RN_DIR" "$name" "${RN_LOG_LEVEL:-info}"
		if [ "$NL_TUN" = 1 ]; then
			printf '[tun]\ndevice = rn0\nmtu = %s\nprefix = %s\n' \
				"$NL_MTU" "$NL_PREFIX"
		else
			printf '[tun]\ndevice = none\n'
		fi
		if [ ${#peers[@]} -gt 0 ]; then
			printf '[bootstrap]\n'
			for p in "${peers[@]}"; do printf 'peer = %s\n' "$p"; done
		fi
	} >"$f"
}

# nl_start NAME: ringnetd in NAME's namespace (log NAME.log); waits (10 s
# at most) until it answers on its control socket.
nl_start()
{
	local name=$1 pid i rc
	[ -e "$RN_DIR/$name.conf" ] || nl_conf "$name"
	ip netns exec "$NL_P$name" "$RINGNETD" -c "$RN_DIR/$name.conf" \
		>>"$RN_DIR/$name.log" 2>&1 &
	pid=$!
	NL_PID[$name]=$pid
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			rc=$?
			unset "NL_PID[$name]"
			rn_fail "ringnetd $name exited early with $rc: $(tail -n 3 "$RN_DIR/$name.log")"
		fi
		"$RINGNET" -s "$RN_DIR/$name.sock" status --json >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	rn_fail "ringnetd $name did not answer on its control socket in 10 s"
}

# nl_start_all: every member, in the order they were made (make the
# public ones first: the others bootstrap from them).
nl_start_all()
{
	local name
	for name in "${NL_MEMBERS[@]}"; do nl_start "$name"; done
	rn_log "started ${#NL_MEMBERS[@]} members (${#NL_PUBLIC[@]} public)"
}

# nl_stop NAME: SIGTERM; the daemon must exit 0 within 10 s.
nl_stop()
{
	local name=$1 pid=${NL_PID[$1]} i rc
	kill -TERM "$pid"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && rn_fail "ringnetd $name still runs 10 s after SIGTERM"
	wait "$pid"
	rc=$?
	unset "NL_PID[$name]"
	[ "$rc" -eq 0 ] || rn_fail "ringnetd $name exited $rc on SIGTERM"
}

# nl_kill NAME: SIGKILL, a crash: no goodbye to its peers.
nl_kill()
{
	local pid=${NL_PID[$1]}
	{ kill -9 "$pid" && wait "$pid"; } 2>/dev/null # no "Killed" job notice
	unset "NL_PID[$1]"
}

# nl_deadline_left T0 TIMEOUT: 0 while less than TIMEOUT s passed since T0
# (a `date +%s.%N`), else 1. NL_ELAPSED: the seconds since T0.
nl_deadline_left()
{
	local now
	now=$(date +%s.%N)
	NL_ELAPSED=$(awk -v a="$now" -v b="$1" 'BEGIN { printf "%.1f", a - b }')
	awk -v e="$NL_ELAPSED" -v t="$2" 'BEGIN { exit !(e < t) }'
}

# nl_joined NAME...: 0 when every one says state joined.
nl_joined()
{
	local name st
	for name in "$@"; do
		st=$(rn_json "$name" status state) || return 1
		[ "$st" = joined ] || return 1
	done
}

# nl_wait_ring TIMEOUT NAME...: every named member joined, and every ring
# view (pred[0], succ[0]) agrees with the sorted ids of exactly these
# members. NL_ELAPSED: how long it took.
nl_wait_ring()
{
	local timeout=$1 t0 name
	shift
	t0=$(date +%s.%N)
	while :; do
		# rn_ring_ok first: it also saves the views for the report.
		rn_ring_ok "$@" && nl_joined "$@" && { nl_deadline_left "$t0" 0; return 0; }
		if ! nl_deadline_left "$t0" "$timeout"; then
			for name in "$@"; do
				printf '%s: state %s\n' "$name" \
					"$(rn_json "$name" status state || echo '(no answer)')" >&2
			done
			rn_ring_report "$@"
			rn_fail "$# members did not join one consistent ring in $timeout s"
		fi
		sleep 0.5
	done
}

# ---- the VPN ----------------------------------------------------------------

# nl_vip6 NAME: the global IPv6 address on NAME's rn0, as the daemon set it
# (read off the interface, not computed); fails when there is none.
nl_vip6()
{
	local a
	a=$(ip -n "$NL_P$1" -o -6 addr show dev rn0 scope global 2>/dev/null |
		awk '{ sub("/.*", "", $4); print $4; exit }')
	[ -n "$a" ] || rn_fail "no global IPv6 address on rn0 of $1"
	echo "$a"
}

# nl_wait_tun TIMEOUT NAME...: rn0 is up in each namespace with the
# member's IPv4 address and a global IPv6 address.
nl_wait_tun()
{
	local timeout=$1 t0 name
	shift
	t0=$(date +%s.%N)
	for name in "$@"; do
		while ! nl_tun_ready "$name"; do
			nl_deadline_left "$t0" "$timeout" || rn_fail \
				"rn0 of $name has not ${NL_VIP[$name]} and an IPv6 address in $timeout s: $(ip -n "$NL_P$name" addr show dev rn0 2>&1)"
			sleep 0.2
		done
	done
}

nl_tun_ready()
{
	local ns=$NL_P$1
	ip -n "$ns" -o link show dev rn0 2>/dev/null | grep -q '[<,]UP[,>]' &&
		ip -n "$ns" -o -4 addr show dev rn0 2>/dev/null | grep -q " ${NL_VIP[$1]}/" &&
		ip -n "$ns" -o -6 addr show dev rn0 scope global 2>/dev/null | grep -q inet6
}

# nl_ping FROM ADDR [COUNT [DEADLINE [PING-OPTION...]]]: COUNT (default 3)
# echo replies from ADDR within DEADLINE s (default 10), pinging from
# FROM's namespace every 0.2 s; the output in RN_DIR/ping.FROM.ADDR.
nl_ping()
{
	local from=$1 addr=$2 count=${3:-3} deadline=${4:-10}
	shift $(($# < 4 ? $# : 4))
	nl_sh "$from" ping -n -q -c "$count" -i 0.2 -w "$deadline" "$@" "$addr" \
		>"$RN_DIR/ping.$from.$addr" 2>&1
}

# nl_ping_matrix NAME...: every named member pings every other one's
# virtual IPv4 and IPv6 address (all pairs at once, 3 replies within 10 s
# each). Prints a table: for each family the pairs that got their replies
# of all pairs, the median RTT of the replies after each pair's first, and
# the median of the first replies (which include setting up the session);
# then the pairs that failed. Returns 1 if any did.
nl_ping_matrix()
{
	local a b args pids=()
	declare -A v6=()
	for b in "$@"; do v6[$b]=$(nl_vip6 "$b") || exit 1; done
	rm -f "$RN_DIR"/ping.* "$RN_DIR"/rc.*
	# One shell per source namespace starts its pings (fewer netns execs).
	for a in "$@"; do
		args=()
		for b in "$@"; do
			[ "$a" = "$b" ] && continue
			args+=("$b" 4 "${NL_VIP[$b]}" "$b" 6 "${v6[$b]}")
		done
		nl_sh "$a" bash -c '
			d=$1 a=$2
			shift 2
			while [ $# -gt 0 ]; do
				{
					ping -n -c 3 -i 0.2 -w 10 "$3" >"$d/ping.$a.$3" 2>&1
					echo "$2 $a $1 $3 $?" >"$d/rc.$a.$3"
				} &
				shift 3
			done
			wait' _ "$RN_DIR" "$a" "${args[@]}" &
		pids+=($!)
	done
	wait "${pids[@]}"
	cat "$RN_DIR"/rc.* >"$RN_DIR/matrix" 2>/dev/null
	python3 - "$RN_DIR" $(($# * ($# - 1))) <<'EOF'
import re, statistics, sys
d, pairs = sys.argv[1], int(sys.argv[2])
rows = [l.split() for l in open(f"{d}/matrix")]
bad = 0
print(f"{'family':8}{'pairs ok':>10}{'median RTT':>13}{'first reply':>13}")
def med(v):
    return f"{statistics.median(v):.2f} ms" if v else "-"
for fam in ("4", "6"):
    mine = [r for r in rows if r[0] == fam]
    ok = [r for r in mine if r[4] == "0"]
    first, later = [], []
    for r in ok:
        t = re.findall(r"time=([\d.]+) ms", open(f"{d}/ping.{r[1]}.{r[3]}").read())
        first += [float(x) for x in t[:1]]
        later += [float(x) for x in t[1:]]
    print(f"{'IPv' + fam:8}{f'{len(ok)}/{pairs}':>10}{med(later):>13}{med(first):>13}")
    if len(mine) != pairs:
        bad += 1
        print(f"  FAILED: {len(mine)} of the {pairs} pings reported back")
    for r in mine:
        if r[4] != "0":
            bad += 1
            out = open(f"{d}/ping.{r[1]}.{r[3]}").read().splitlines()
            why = [l for l in out if "transmitted" in l] or out[-1:] or ["no output"]
            print(f"  FAILED {r[1]} -> {r[2]} ({r[3]}): {why[0]}")
sys.exit(1 if bad else 0)
EOF
}

# nl_stop_all PATTERN NAME...: SIGTERM to each; each must exit 0 and
# remove its control socket, and no log may match PATTERN (an extended
# regular expression, e.g. "ERROR").
nl_stop_all()
{
	local pattern=$1 name logs=()
	shift
	for name in "$@"; do
		nl_stop "$name"
		[ ! -e "$RN_DIR/$name.sock" ] || rn_fail "ringnetd $name left its control socket behind"
		logs+=("$RN_DIR/$name.log")
	done
	if grep -HE "$pattern" "${logs[@]}" >&2; then
		rn_fail "errors in the daemon logs"
	fi
}

# nl_wait_listen NAME PORT TIMEOUT: a TCP listener on PORT in NAME's
# namespace within TIMEOUT s.
nl_wait_listen()
{
	local name=$1 port=$2 timeout=$3 t0
	t0=$(date +%s.%N)
	until nl_sh "$name" ss -Hltn "sport = :$port" | grep -q .; do
		nl_deadline_left "$t0" "$timeout" ||
			rn_fail "nothing listens on TCP port $port in $name after $timeout s"
		sleep 0.1
	done
}

# nl_iperf FROM TO ADDR [-R]: a 2 s iperf3 TCP run from FROM to TO's ADDR
# (with -R: TO sends to FROM); at least 64 KiB must arrive. Prints the
# receiver's rate.
nl_iperf()
{
	local from=$1 to=$2 addr=$3 rev=${4:-} out=$RN_DIR/iperf.$1.$2${4:-} port=5201
	nl_sh "$to" timeout 20 iperf3 -s -1 -B "$addr" -p $port >"$out.server" 2>&1 &
	local spid=$!
	nl_wait_listen "$to" $port 5
	nl_sh "$from" timeout 20 iperf3 -c "$addr" -p $port -t 2 -J ${rev:+"$rev"} >"$out" 2>&1 ||
		rn_fail "iperf3 $from -> $to ($addr $rev) failed: $(tail -n 5 "$out")"
	wait "$spid"
	python3 - "$out" "$from" "$to" "$rev" <<'PY' || rn_fail "iperf3 $from -> $to ($addr $rev) moved too little: $(tail -n 5 "$out")"
import json, sys
r = json.load(open(sys.argv[1]))
got = r["end"]["sum_received"]["bytes"]
rate = r["end"]["sum_received"]["bits_per_second"] / 1e6
way = f"{sys.argv[3]} -> {sys.argv[2]}" if sys.argv[4] else f"{sys.argv[2]} -> {sys.argv[3]}"
print(f"iperf3 TCP {way}: {got / 2**20:.1f} MiB in 2 s, {rate:.1f} Mbit/s")
sys.exit(0 if got >= 65536 else 1)
PY
}

# nl_send_file FROM TO ADDR SIZE_MIB: SIZE_MIB of random bytes over one TCP
# connection from FROM to TO's ADDR (IPv4 or IPv6); what TO wrote must
# have the same sha256.
nl_send_file()
{
	local from=$1 to=$2 addr=$3 mib=$4 port=5202 src=$RN_DIR/file.src dst=$RN_DIR/file.dst
	head -c "$((mib * 1048576))" /dev/urandom >"$src"
	rm -f "$dst"
	nl_sh "$to" timeout 30 "$NL_PY" -c '
import socket, sys
addr, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(1)
c, _ = s.accept()
with open(path, "wb") as f:
    while True:
        b = c.recv(65536)
        if not b:
            break
        f.write(b)
' "$addr" $port "$dst" >"$RN_DIR/file.server" 2>&1 &
	local spid=$!
	nl_wait_listen "$to" $port 5
	nl_sh "$from" timeout 30 "$NL_PY" -c '
import socket, sys
addr, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((addr, port), timeout=20)
with open(path, "rb") as f:
    s.sendall(f.read())
s.shutdown(socket.SHUT_WR)
s.recv(1)
' "$addr" $port "$src" >"$RN_DIR/file.client" 2>&1 ||
		rn_fail "sending the file $from -> $to ($addr) failed: $(tail -n 3 "$RN_DIR/file.client")"
	wait "$spid" || rn_fail "the receiver in $to failed: $(tail -n 3 "$RN_DIR/file.server")"
	local a b
	a=$(sha256sum <"$src" | cut -c1-64)
	b=$(sha256sum <"$dst" | cut -c1-64)
	[ "$a" = "$b" ] || rn_fail "the file sent $from -> $to ($addr) arrived as $(stat -c %s "$dst") bytes with another sha256"
	rn_log "$mib MiB over TCP $from -> $to ($addr): sha256 ${a:0:16}... matches"
}

# nl_snmp NAME FILE FIELD: a counter of NAME's namespace from
# /proc/net/FILE (snmp: "Icmp InEchos" as Icmp.InEchos; snmp6: Icmp6InEchos).
nl_snmp()
{
	local name=$1 file=$2 field=$3
	nl_sh "$name" cat "/proc/net/$file" | python3 -c '
import sys
field = sys.argv[1]
lines = sys.stdin.read().splitlines()
if "." in field:
    proto, key = field.split(".")
    rows = [l.split() for l in lines if l.startswith(proto + ":")]
    print(dict(zip(rows[0][1:], rows[1][1:]))[key])
else:
    print(dict(l.split() for l in lines if l.strip())[field])
' "$field" || rn_fail "no $field in /proc/net/$file of $name"
}

# nl_upnp_gateway GW WAN K NATPMP: miniupnpd in router GW (WAN address
# WAN, LAN 192.168.K.0/24), UPnP IGD and (NATPMP yes) NAT-PMP on its LAN
# side, with the nftables
# chains its backend fills (the recipe of the lab notes). miniupnpd refuses
# a reserved WAN address; 100.128.0.0/24 is not one, and exists only in
# the lab. It runs in GW's namespace, so nl_cleanup kills it.
nl_upnp_gateway()
{
	local gw=$1 wan=$2 k=$3 natpmp=$4 conf=$RN_DIR/$1.miniupnpd.conf
	command -v miniupnpd >/dev/null ||
		rn_fail "miniupnpd is missing (./dev.sh test installs miniupnpd-nftables)"
	nl_sh "$gw" nft -f - <<EOF || rn_fail "miniupnpd's chains in $gw"
table inet filter {
	chain miniupnpd {
	}
	chain forward {
		type filter hook forward priority 0; policy accept;
		jump miniupnpd
	}
	chain prerouting_miniupnpd {
	}
	chain postrouting_miniupnpd {
	}
	chain prerouting {
		type nat hook prerouting priority -100;
		jump prerouting_miniupnpd
	}
	chain postrouting {
		type nat hook postrouting priority 100;
		jump postrouting_miniupnpd
	}
}
EOF
	cat >"$conf" <<EOF
ext_ifname=wan
ext_ip=$wan
listening_ip=lan
port=5000
enable_natpmp=$natpmp
enable_upnp=yes
secure_mode=yes
system_uptime=yes
uuid=fc4ec57e-b051-11db-88f8-0060085db3$(printf %02x "$k")
lease_file=$RN_DIR/$gw.miniupnpd.leases
allow 1024-65535 192.168.$k.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
	# its own pid file: the default one is shared by every namespace
	ip netns exec "$NL_P$gw" miniupnpd -f "$conf" -d \
		-P "$RN_DIR/$gw.miniupnpd.pid" >"$RN_DIR/$gw.miniupnpd.log" 2>&1 &
	disown # nl_cleanup kills it with the namespace; no job notice
}

# nl_check_portmaps NAME...: each member behind a upnp or upnp-only
# router holds a port mapping of its gateway, WAN:PORT, within 15 s, by
# UPnP behind upnp-only; members behind one router hold different ports.
# Sets NL_EXT[NAME]; logs the method. Members behind other kinds are
# skipped.
nl_check_portmaps()
{
	local name t0 ext method other
	t0=$(date +%s.%N)
	for name in "$@"; do
		case ${NL_NAT[$name]:-} in upnp | upnp-only) ;; *) continue ;; esac
		while :; do
			ext=$(rn_json "$name" status portmap.external) || ext=
			[ "${ext%:*}" = "${NL_WAN[$name]}" ] && break
			nl_deadline_left "$t0" 15 ||
				rn_fail "$name has no port mapping of its gateway after 15 s (portmap: $(rn_json "$name" status portmap))"
			sleep 0.2
		done
		method=$(rn_json "$name" status portmap.method)
		[ "${NL_NAT[$name]}" = upnp ] || [ "$method" = upnp ] ||
			rn_fail "$name is mapped by $method behind a UPnP-only router"
		for other in "${!NL_EXT[@]}"; do
			[ "${NL_EXT[$other]}" != "$ext" ] ||
				rn_fail "$name and $other both claim the mapping $ext"
		done
		NL_EXT[$name]=$ext
		rn_log "$name: its gateway maps $ext to it ($method, miniupnpd)"
	done
}
