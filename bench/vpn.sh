#!/usr/bin/env bash
# Issue 5: ringnet's tunnel against raw veth and the peer VPNs, side by side.
#
#   bench/vpn.sh [--only raw,floor,ringnet,tinc,nebula,fastd,yggdrasil] [--time S]
#                [--reps N] [--pings N] [--ping-interval S] [--build DIR]
#                [--wait S] [--tag WORD] [--out STEM] [--note TEXT] [--keep]
#                [--ringnet-tun 'KEY = VALUE']...
#
#   --only LIST   the VPNs, measured in this order (default: all seven). floor is
#                 bench/tun_floor: TUN <-> UDP, no crypto, the userspace floor
#   --time S      iperf3 -t, seconds (10); --reps N: repetitions (3)
#   --pings N     pings (100), one every --ping-interval S (0.01)
#   --build DIR   ringnetd and ringnet from DIR (default build/, Release)
#   --wait S      how long a VPN may take to answer a ping (30)
#   --tag WORD    write bench/results/DATE-vpn-WORD.md; --out STEM: STEM.md
#   --note TEXT   one line for the report (e.g. what else was running)
#   --keep        keep the temp directory (keys, configs) for a post-mortem
#   --ringnet-tun L  one more line in ringnetd's [tun] section (both nodes),
#                 e.g. 'busy_poll = 0' or 'offload = no'; repeatable
#
# Design. One run makes two network namespaces joined by one veth pair
# (underlay 10.201.0.1 <-> 10.201.0.2) and measures each VPN in turn over it,
# so every figure in one report comes from the same machine, kernel and load:
#
#   [NA] va 10.201.0.1 ====== veth ====== 10.201.0.2 vb [NB]
#        daemon A  <---- UDP ---->  daemon B
#        iperf3 -c / ping               iperf3 -s
#        overlay address A  -------->  overlay address B
#
# The run is REPS rounds; each round takes every VPN in turn, so that a
# change in the machine's load (it is shared) falls on all of them alike
# rather than on whichever VPN was measured at the time. For each VPN in a
# round: start its two daemons as bench/vpn/peers.sh says (each with its
# documented defaults, per shared/docs/peer-bench.md), wait at most WAIT_S
# for the overlay address of B to answer a ping from A, then (round 1 only)
# ping (PINGS pings, median and p99 from the per-packet times), then one
# iperf3 TCP run of TIME s with one stream and one with 4 streams. Over
# each iperf3 run the two daemons' utime+stime (/proc/PID/stat, all threads)
# are sampled: CPU-seconds per second, and CPU % per Gbit/s. Then every
# process in the two namespaces is stopped and every interface but lo and
# the veth deleted before the next VPN. A VPN that does not come up is
# recorded as "failed to start" with the reason and, when that was in the
# first round, skipped in later rounds; the run goes on. The 1-minute load average is recorded with each
# iperf3 run.
#
# Safety (shared/docs/nat-lab.md): namespaces get a per-run prefix
# (rnv<PID>), addresses exist only inside them, the veth is created inside
# them; the EXIT trap (also on failure and Ctrl-C) kills only the processes
# in those namespaces and deletes only those namespaces.
#
# Output: STEM.md (the report, also printed) and STEM/ beside it: raw.tsv
# (one line per iperf3 run), ping/*.txt (ping's output), status.tsv,
# results.json, machine.txt, command.txt, logs/ (daemon logs, configs
# without keys). STEM defaults to bench/results/DATE-vpn[-TAG] (DATE UTC).
# Must run as root; installs the Debian packages it needs when missing.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
HERE=$ROOT/bench/vpn
CMDLINE=bench/vpn.sh
for a in "$@"; do
	[[ $a =~ ^[A-Za-z0-9_./,:=+-]+$ ]] && CMDLINE+=" $a" || CMDLINE+=" $(printf '%q' "$a")"
done

ALL_VPNS=raw,floor,ringnet,tinc,nebula,fastd,yggdrasil
ONLY=$ALL_VPNS
TIME_S=10
REPS=3
PINGS=100
PING_INTERVAL_S=0.01
BUILD=build
TAG=""
STEM=""
NOTE=""
KEEP=0
RINGNET_TUN=()
WAIT_S=30
PKGS=(tinc nebula fastd yggdrasil iperf3 iproute2 iputils-ping procps python3)

usage()
{
	echo usage: >&2
	sed -n '4,18p' "$0" | sed 's/^#//' >&2
	exit 2
}

parse_args()
{
	while [ $# -gt 0 ]; do
		case $1 in
		--keep | -h | --help) ;;
		*) [ $# -ge 2 ] || { echo "$1 needs a value" >&2; usage; } ;;
		esac
		case $1 in
		--only) ONLY=$2; shift ;;
		--time) TIME_S=$2; shift ;;
		--reps) REPS=$2; shift ;;
		--pings) PINGS=$2; shift ;;
		--ping-interval) PING_INTERVAL_S=$2; shift ;;
		--build) BUILD=$2; shift ;;
		--wait) WAIT_S=$2; shift ;;
		--tag) TAG=$2; shift ;;
		--out) STEM=$2; shift ;;
		--note) NOTE=$2; shift ;;
		--keep) KEEP=1 ;;
		--ringnet-tun) RINGNET_TUN+=("$2"); shift ;;
		-h | --help) usage ;;
		*) echo "unknown option: $1" >&2; usage ;;
		esac
		shift
	done
	local v
	for v in ${ONLY//,/ }; do
		[[ ,$ALL_VPNS, == *,$v,* ]] || { echo "unknown VPN '$v'; known: $ALL_VPNS" >&2; exit 2; }
	done
	[[ $TIME_S =~ ^[0-9]+$ && $WAIT_S =~ ^[1-9][0-9]*$ && $REPS =~ ^[1-9][0-9]*$ && $PINGS =~ ^[1-9][0-9]*$ ]] ||
		{ echo "--time, --wait, --reps and --pings take whole numbers" >&2; exit 2; }
	case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
	DAY=$(date -u +%Y-%m-%d)
	[ -n "$STEM" ] || STEM=$ROOT/bench/results/$DAY-vpn${TAG:+-$TAG}
	case $STEM in /*) ;; *) STEM=$ROOT/$STEM ;; esac
}

say() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
die() { printf 'bench/vpn.sh: %s\n' "$*" >&2; exit 1; }

# ---- packages -----------------------------------------------------------------
install_packages()
{
	local p missing=()
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing ${missing[*]}"
	local apt=(apt-get -y -q -o DPkg::Lock::Timeout=600 install --no-install-recommends)
	DEBIAN_FRONTEND=noninteractive "${apt[@]}" "${missing[@]}" >"$WORK/apt.log" 2>&1 ||
		{ apt-get -q -o DPkg::Lock::Timeout=600 update >>"$WORK/apt.log" 2>&1 &&
			DEBIAN_FRONTEND=noninteractive "${apt[@]}" "${missing[@]}" >>"$WORK/apt.log" 2>&1; } ||
		{ tail -n 5 "$WORK/apt.log" >&2; die "could not install ${missing[*]}"; }
}

pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo '?'; }

# ---- namespaces ---------------------------------------------------------------
NA="" NB=""
UA=10.201.0.1 UB=10.201.0.2

make_namespaces()
{
	NA=rnv$$a NB=rnv$$b
	{ ip netns add "$NA" && ip netns add "$NB"; } || die "ip netns add failed"
	ip -n "$NA" link add va type veth peer name vb netns "$NB" || die "veth failed"
	ip -n "$NA" addr add $UA/24 dev va
	ip -n "$NB" addr add $UB/24 dev vb
	local n
	for n in "$NA" "$NB"; do ip -n "$n" link set lo up; done
	ip -n "$NA" link set va up
	ip -n "$NB" link set vb up
}

# The pids of every process in our two namespaces.
ns_pids()
{
	local n
	for n in "$NA" "$NB"; do
		[ -n "$n" ] && [ -e "/var/run/netns/$n" ] && ip netns pids "$n"
	done
}

# Every process in our two namespaces: TERM, then KILL after 5 s.
kill_namespace_pids()
{
	local pids i sig
	for sig in TERM KILL; do
		pids=$(ns_pids)
		[ -n "$pids" ] || return 0
		kill "-$sig" $pids 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			sleep 0.1
			[ -n "$(ns_pids)" ] || return 0
		done
	done
}

# Deletes every link in our namespaces but lo and the veth (the VPN's TUNs).
delete_vpn_links()
{
	local n l
	for n in "$NA" "$NB"; do
		for l in $(ip -n "$n" -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//'); do
			case $l in lo | va | vb) ;; *) ip -n "$n" link del dev "$l" 2>/dev/null ;; esac
		done
	done
}

cleanup()
{
	trap - EXIT
	kill_namespace_pids
	local n
	for n in "$NA" "$NB"; do
		[ -n "$n" ] && ip netns del "$n" 2>/dev/null
	done
	if [ -n "${WORK:-}" ] && [ "$KEEP" != 1 ]; then rm -rf "$WORK"; fi
	[ "$KEEP" = 1 ] && say "kept $WORK"
}

# ---- measuring ----------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)

# cpu_ticks PID...: the sum of utime+stime (all threads) of the processes.
cpu_ticks()
{
	local p sum=0 f
	for p in "$@"; do
		# fields after the command's ")": state is 0, utime 11, stime 12
		read -r -a f < <(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
		[ ${#f[@]} -gt 12 ] && sum=$((sum + f[11] + f[12]))
	done
	echo $sum
}

# udp_rcvbuf_errors: Udp RcvbufErrors summed over both namespaces.
udp_rcvbuf_errors()
{
	local n sum=0 v
	for n in "$NA" "$NB"; do
		v=$(ip netns exec "$n" awk '/^Udp:/ { if (!c) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i } else print $c }' /proc/net/snmp)
		sum=$((sum + ${v:-0}))
	done
	echo $sum
}

# wait_overlay: 0 once B's overlay address answers a ping from A (at most
# WAIT_S s); sets VPN_REASON otherwise, or when a daemon has exited.
wait_overlay()
{
	local t0=$SECONDS p
	while [ $((SECONDS - t0)) -lt "$WAIT_S" ]; do
		for p in "${VPN_PIDS[@]}"; do
			kill -0 "$p" 2>/dev/null || {
				VPN_REASON="a daemon exited: $(last_log_line)"
				return 1
			}
		done
		ip netns exec "$NA" ping -c 1 -W 1 -q "$VPN_ADDR_B" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	VPN_REASON="no ping reply from $VPN_ADDR_B within $WAIT_S s: $(last_log_line)"
	return 1
}

# The last non-empty line of the VPN's logs, for a failure reason.
last_log_line()
{
	local f
	for f in "$W"/*.log; do
		[ -s "$f" ] && printf '%s: %s; ' "${f##*/}" "$(grep -v '^[[:space:]]*$' "$f" | tail -n 1 | cut -c1-200)"
	done | sed -e "s|$W/||g" -e 's/; $//'
}

start_iperf_server()
{
	local i
	ip netns exec "$NB" iperf3 -s -B "$VPN_ADDR_B" -p 5201 >"$W/iperf3-server.log" 2>&1 &
	for ((i = 0; i < 50; i++)); do
		ip netns exec "$NB" ss -Hltn 'sport = :5201' | grep -q . && return 0
		sleep 0.1
	done
	VPN_REASON="iperf3 server did not listen on $VPN_ADDR_B"
	return 1
}

# run_iperf VPN KIND REP STREAMS: one iperf3 run, one line in raw.tsv:
# vpn kind rep gbps retransmits daemon_cpu_s wall_s load1 (at the end)
run_iperf()
{
	local vpn=$1 kind=$2 rep=$3 streams=$4 c0 c1 t0 t1 j=$RAW/iperf/$1-$2-$3.json res
	c0=$(cpu_ticks "${VPN_PIDS[@]}")
	t0=$(date +%s.%N)
	timeout $((TIME_S + 30)) ip netns exec "$NA" \
		iperf3 -c "$VPN_ADDR_B" -p 5201 -t "$TIME_S" -P "$streams" -J >"$j.full" 2>"$W/iperf3-$kind-$rep.err"
	t1=$(date +%s.%N)
	c1=$(cpu_ticks "${VPN_PIDS[@]}")
	res=$(python3 "$HERE/report.py" iperf "$j.full" "$j") || res="nan nan"
	rm -f "$j.full"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$vpn" "$kind" "$rep" "$res" \
		"$(python3 -c "print(($c1 - $c0) / $CLK_TCK)")" \
		"$(python3 -c "print(round($t1 - $t0, 3))")" "$(cut -d' ' -f1 /proc/loadavg)" |
		tr ' ' '\t' >>"$RAW/raw.tsv"
	say "  $vpn $kind rep $rep: $(tail -n 1 "$RAW/raw.tsv" | cut -f4-)"
}

# measure VPN ROUND: pings (round 1), then one iperf3 run of 1 and of 4 streams.
measure()
{
	local vpn=$1 round=$2 e0
	if [ "$round" -eq 1 ]; then
		ip netns exec "$NA" ping -c "$PINGS" -i "$PING_INTERVAL_S" -W 1 "$VPN_ADDR_B" \
			>"$RAW/ping/$vpn.txt" 2>&1
		say "  $vpn ping: $(tail -n 1 "$RAW/ping/$vpn.txt")"
	fi
	start_iperf_server || return 1
	e0=$(udp_rcvbuf_errors)
	run_iperf "$vpn" tcp1 "$round" 1
	run_iperf "$vpn" tcp4 "$round" 4
	VPN_RCVBUF_ERRORS=$(($(udp_rcvbuf_errors) - e0))
}

# The MTU of the VPN's interface in A.
if_mtu() { ip -n "$NA" -o link show dev "$1" 2>/dev/null | sed -n 's/.* mtu \([0-9]*\).*/\1/p'; }

# run_vpn VPN ROUND: up, measure, down; one line in status.tsv:
# vpn status(ok|failed) reason if_mtu daemons udp_rcvbuf_errors t_start round
run_vpn()
{
	local vpn=$1 round=$2 rc t_start
	t_start=$(date -u +%H:%M:%S)
	W=$WORK/$vpn
	rm -rf "$W"
	mkdir -p "$W"
	VPN_PIDS=() VPN_REASON="" VPN_ADDR_A="" VPN_ADDR_B="" VPN_IF_A="" VPN_RCVBUF_ERRORS=""
	say "== $vpn (round $round of $REPS)"
	if "vpn_up_$vpn" && wait_overlay && measure "$vpn" "$round"; then rc=ok; else rc=failed; fi
	[ $rc = failed ] && say "  $vpn failed to start: $VPN_REASON"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$vpn" "$rc" "${VPN_REASON//$'\t'/ }" \
		"$(if_mtu "$VPN_IF_A")" "${#VPN_PIDS[@]}" "$VPN_RCVBUF_ERRORS" "$t_start" "$round" >>"$RAW/status.tsv"
	kill_namespace_pids
	delete_vpn_links
	# one that never came up is not tried again; a later failure is
	[ $rc = ok ] || [ "$round" -gt 1 ] || FAILED+=" $vpn"
	mkdir -p "$RAW/logs/$vpn"
	[ "$round" -eq 1 ] || return 0 # the first round's logs and configs are enough
	cp "$W"/*.log "$W"/*.conf "$W"/*.yml "$W"/yggdrasil-?.json "$RAW/logs/$vpn/" 2>/dev/null
	# the configs, but never a secret key
	grep -lE 'PrivateKey|secret ' "$RAW/logs/$vpn"/* 2>/dev/null | xargs -r sed -i -E \
		-e 's/("PrivateKey": *")[0-9a-f]+/\1(removed)/' -e 's/(secret +")[0-9a-f]+/\1(removed)/'
}

# ---- the machine ----------------------------------------------------------------
machine_info()
{
	local p f
	echo "date_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "nproc: $(nproc)"
	echo "affinity: CPUs $(taskset -cp $$ | sed 's/.*: //') (every process of the run inherits it)"
	echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "mem_total: $(awk '/^MemTotal/ {printf "%d MiB", $2 / 1024}' /proc/meminfo)"
	echo "kernel: $(uname -srm)"
	echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (+ uncommitted changes)')"
	echo "build: $BUILD ($(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null))"
	for f in "$BUILD/ringnetd" "$BUILD/ringnet"; do
		[ -e "$f" ] || { echo "binary: no ${f##*/} in $BUILD"; continue; }
		echo "binary: ${f##*/} linked $(date -u -r "$f" +%Y-%m-%dT%H:%M:%SZ) sha256 $(sha256sum <"$f" | cut -c1-16)"
	done
	for p in tinc nebula fastd yggdrasil iperf3 iproute2 iputils-ping; do
		echo "package: $p $(pkg_version "$p")"
	done
	echo "settings: time ${TIME_S} s, reps $REPS, pings $PINGS at ${PING_INTERVAL_S} s, only $ONLY"
}

# Load and the busiest other processes, at the start and at the end.
load_snapshot()
{
	echo "load_$1: $(cut -d' ' -f1-3 /proc/loadavg)"
	# top's second frame: %CPU over the last second, not over a lifetime
	top -b -n 2 -d 1 -w 512 -o %CPU | awk '/^top -/ { f++ } f == 2 && /^ *[0-9]+ / && $9 > 0.5 { print $1, $9 }' |
		head -n 6 | while read -r pid pcpu; do
			local args
			args=$(ps -o args= -p "$pid" | cut -c1-80)
			[ -n "$args" ] && echo "top_$1: $pcpu% $args"
		done
}

main()
{
	parse_args "$@"
	[ "$(id -u)" -eq 0 ] || die "must run as root (namespaces, TUN devices, apt-get)"
	WORK=$(mktemp -d /tmp/rn-vpnbench.XXXXXX) || die "mktemp failed"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	install_packages
	# shellcheck source=vpn/peers.sh
	. "$HERE/peers.sh"
	RAW=$STEM
	if [ -e "$RAW" ]; then
		[ -e "$RAW/command.txt" ] || die "$RAW exists and is not an earlier run's; refusing to overwrite it"
		rm -rf "$RAW"
	fi
	mkdir -p "$RAW/iperf" "$RAW/ping" "$RAW/logs"
	echo "$CMDLINE" >"$RAW/command.txt"
	printf 'vpn\ttest\trep\tgbps\tretransmits\tdaemon_cpu_s\twall_s\tload1\n' >"$RAW/raw.tsv"
	printf 'vpn\tstatus\treason\tif_mtu\tdaemons\tudp_rcvbuf_errors\tstarted_utc\tround\n' >"$RAW/status.tsv"
	{ machine_info; load_snapshot start; } >"$RAW/machine.txt"
	[ -n "$NOTE" ] && echo "note: $NOTE" >>"$RAW/machine.txt"
	cat "$RAW/machine.txt" >&2
	if [[ ,$ONLY, == *,ringnet,* ]] &&
		! grep -q '^CMAKE_BUILD_TYPE:[A-Z]*=Release$' "$BUILD/CMakeCache.txt" 2>/dev/null; then
		say "WARNING: $BUILD is not a Release build; ringnet's figures will not be representative"
	fi
	make_namespaces
	local vpn round
	FAILED=""
	for ((round = 1; round <= REPS; round++)); do
		for vpn in ${ONLY//,/ }; do
			[[ " $FAILED " == *" $vpn "* ]] || run_vpn "$vpn" "$round"
		done
	done
	load_snapshot end >>"$RAW/machine.txt"
	echo "date_end_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$RAW/machine.txt"
	python3 "$HERE/report.py" report "$RAW" "$STEM"
}

main "$@"
