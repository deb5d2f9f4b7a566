# Shared helpers for the daemon tests (sourced, not run).
#
# A test sets RINGNETD and RINGNET (the binaries), calls rn_setup once, then
# makes members, writes configuration files and starts daemons with the
# functions below. Everything lives in one mktemp directory; an EXIT trap
# kills every daemon the test started and removes the directory, on success
# and on failure alike. Only 127.0.0.1 is used, and every wait is bounded.

set -u

RN_DIR=""
declare -A RN_PID=()   # name -> pid of the running ringnetd
RN_KEEP=${RN_KEEP:-0}  # 1: keep the directory for a post-mortem

rn_log() { printf '%s %s\n' "$(date +%T)" "$*"; }

rn_fail()
{
	printf 'FAIL: %s\n' "$*" >&2
	rn_dump_logs
	exit 1
}

# The last lines of every daemon's log, to see why a test failed.
rn_dump_logs()
{
	[ -n "$RN_DIR" ] || return 0
	local f
	for f in "$RN_DIR"/*.log; do
		[ -e "$f" ] || continue
		printf -- '--- %s (last 15 lines)\n' "${f##*/}" >&2
		tail -n 15 "$f" >&2
	done
}

rn_cleanup()
{
	local name pid
	for name in "${!RN_PID[@]}"; do
		pid=${RN_PID[$name]}
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	RN_PID=()
	if [ -n "$RN_DIR" ] && [ "$RN_KEEP" != 1 ]; then
		rm -rf "$RN_DIR"
	fi
}

# Checks the binaries, makes the directory and installs the trap.
rn_setup()
{
	[ -x "${RINGNETD:-}" ] || { echo "FAIL: no ringnetd binary: ${RINGNETD:-}" >&2; exit 1; }
	[ -x "${RINGNET:-}" ] || { echo "FAIL: no ringnet binary: ${RINGNET:-}" >&2; exit 1; }
	RN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ringnet-test.XXXXXX") ||
		{ echo "FAIL: mktemp" >&2; exit 1; }
	trap rn_cleanup EXIT
	trap 'exit 130' INT TERM
}

# rn_group: group.secret and group.pub in RN_DIR, with the real commands.
rn_group()
{
	"$RINGNET" group new --out "$RN_DIR" >"$RN_DIR/group.out" 2>&1 ||
		rn_fail "'ringnet group new' failed: $(cat "$RN_DIR/group.out")"
}

# rn_group_in SUBDIR: another group, its group.secret and group.pub in
# RN_DIR/SUBDIR (for members of a group that is not the test's).
rn_group_in()
{
	mkdir -p "$RN_DIR/$1"
	"$RINGNET" group new --out "$RN_DIR/$1" >"$RN_DIR/$1/group.out" 2>&1 ||
		rn_fail "'ringnet group new' in $1 failed: $(cat "$RN_DIR/$1/group.out")"
}

# rn_member NAME VIP [OPTION...]: NAME.key, NAME.key.pub and NAME.cert in
# RN_DIR, the certificate signed by RN_GROUP_SECRET (default: the test's
# group.secret); the options go to `ringnet member add` (--days N,
# --not-before UNIX).
rn_member()
{
	local name=$1 vip=$2 d=$RN_DIR
	local secret=${RN_GROUP_SECRET:-$RN_DIR/group.secret}
	shift 2
	"$RINGNET" key new --out "$d/$name.key" >"$d/$name.out" 2>&1 ||
		rn_fail "'ringnet key new' for $name failed: $(cat "$d/$name.out")"
	"$RINGNET" member add --group-secret "$secret" \
		--node-pub "$d/$name.key.pub" --vip "$vip" --name "$name" \
		--out "$d/$name.cert" "$@" >>"$d/$name.out" 2>&1 ||
		rn_fail "'ringnet member add' for $name failed: $(cat "$d/$name.out")"
}

# rn_conf NAME PORT [PEER...]: NAME.conf listening on 127.0.0.1:PORT, its
# control socket NAME.sock, bootstrapping from the peers (host:port).
rn_conf()
{
	local name=$1 port=$2 f=$RN_DIR/$1.conf
	shift 2
	{
		printf '[node]\nlisten = 127.0.0.1:%s\n' "$port"
		printf 'group = group.pub\nkey = %s.key\ncert = %s.cert\n' "$name" "$name"
		printf 'control = %s/%s.sock\nlog_level = %s\n' "$RN_DIR" "$name" "${RN_LOG_LEVEL:-info}"
		# loopback tests run many daemons in one namespace: no VPN
		printf '[tun]\ndevice = none\n[nat]\nportmap = no\n'
		if [ $# -gt 0 ]; then
			printf '[bootstrap]\n'
			for p in "$@"; do printf 'peer = %s\n' "$p"; done
		fi
	} >"$f"
}

# rn_conf_star BASE NAME...: NAME.conf for each name on 127.0.0.1:BASE+i,
# each after the first bootstrapping from the first; sets PORT[NAME] (the
# test declares PORT as an associative array).
rn_conf_star()
{
	local base=$1 i=0 name
	shift
	for name in "$@"; do
		PORT[$name]=$((base + i))
		if [ "$i" -eq 0 ]; then
			rn_conf "$name" "$base"
		else
			rn_conf "$name" $((base + i)) "127.0.0.1:$base"
		fi
		i=$((i + 1))
	done
}

# rn_base_port N: a random base in 20000-60000 with N free UDP ports above.
rn_base_port()
{
	local n=$1 tries base p used
	used=$(ss -Hlun 2>/dev/null | awk '{print $4}' | sed 's/.*://')
	for tries in 1 2 3 4 5 6 7 8 9 10; do
		base=$((20000 + RANDOM % 40000))
		for ((p = base; p < base + n; p++)); do
			grep -qx "$p" <<<"$used" && continue 2
		done
		echo "$base"
		return 0
	done
	rn_fail "no $n free UDP ports found"
}

# rn_start NAME: starts ringnetd on NAME.conf (log in NAME.log) and waits
# (at most 10 s) for its control socket. Returns 3 if it could not bind,
# fails the test on any other early exit.
rn_start()
{
	local name=$1 pid i rc
	"$RINGNETD" -c "$RN_DIR/$name.conf" 2>>"$RN_DIR/$name.log" &
	pid=$!
	RN_PID[$name]=$pid
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			rc=$?
			unset "RN_PID[$name]"
			grep -q "cannot bind" "$RN_DIR/$name.log" && return 3
			rn_fail "ringnetd $name exited early with $rc"
		fi
		if "$RINGNET" -s "$RN_DIR/$name.sock" status --json >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	rn_fail "ringnetd $name did not answer on its control socket in 10 s"
}

# rn_start_retrying FN N: runs FN (the test's function that picks a block
# of N ports and starts its daemons with rn_start) up to 3 times, since a
# port of the block may be taken meanwhile; fails the test after that.
rn_start_retrying()
{
	local fn=$1 n=$2 attempt name
	for attempt in 1 2 3; do
		"$fn" && return 0
		rn_log "a port was taken; trying another block"
		for name in "${!RN_PID[@]}"; do rn_kill KILL "$name"; done
		rm -f "$RN_DIR"/*.log "$RN_DIR"/*.sock
	done
	rn_fail "could not bind $n ports in 3 attempts"
}

# rn_stop_all PATTERN NAME...: SIGTERM to each daemon; each must exit 0
# and remove its control socket, and none of their logs may match PATTERN
# (an extended regular expression, e.g. "ERROR").
rn_stop_all()
{
	local pattern=$1 name failed=0 logs=()
	shift
	for name in "$@"; do
		rn_kill TERM "$name"
		if [ "$RN_RC" -ne 0 ]; then
			echo "ringnetd $name exited with $RN_RC on SIGTERM" >&2
			failed=1
		fi
		if [ -e "$RN_DIR/$name.sock" ]; then
			echo "ringnetd $name left its control socket behind" >&2
			failed=1
		fi
		logs+=("$RN_DIR/$name.log")
	done
	[ $failed -eq 0 ] || rn_fail "unclean shutdown"
	if grep -HE "$pattern" "${logs[@]}" >&2; then
		rn_fail "errors in the daemon logs"
	fi
}

# rn_kill SIGNAL NAME: sends the signal and reaps the daemon; sets RN_RC.
rn_kill()
{
	local sig=$1 name=$2 pid=${RN_PID[$2]}
	kill "-$sig" "$pid"
	{ wait "$pid"; } 2>/dev/null # no "Killed" job notice
	RN_RC=$?
	unset "RN_PID[$name]"
}

# rn_json NAME CMD PATH: one value of NAME's `ringnet CMD --json` reply,
# PATH the members from the top joined by dots (sec.hs_other_group,
# links.up); prints it (JSON for objects and arrays). Returns 1, printing
# nothing, when the daemon does not answer or the member is missing.
rn_json()
{
	local name=$1 cmd=$2 path=$3
	"$RINGNET" -s "$RN_DIR/$name.sock" "$cmd" --json 2>/dev/null |
		python3 -c '
import json, sys
try:
    v = json.load(sys.stdin)
    for k in sys.argv[1].split("."):
        v = v[k]
except Exception:
    sys.exit(1)
print(v if isinstance(v, (int, str)) else json.dumps(v))
' "$path"
}

# rn_status NAME PATH: rn_json NAME status PATH, failing the test when
# there is no such value. Inside $(...) the failure ends only the
# subshell: write v=$(rn_status NAME PATH) || exit 1.
rn_status()
{
	rn_json "$1" status "$2" || rn_fail "no $2 in the status of $1"
}

# rn_ring_ok NAME...: 0 when every named node's ring view (pred[0],
# succ[0]) matches the sorted ids of exactly these nodes.
rn_ring_ok()
{
	local name
	for name in "$@"; do
		"$RINGNET" -s "$RN_DIR/$name.sock" ring --json \
			>"$RN_DIR/$name.ring" 2>/dev/null || return 1
	done
	python3 - "$RN_DIR" "$@" <<'EOF'
import json, sys
d, names = sys.argv[1], sys.argv[2:]
rings = {n: json.load(open(f"{d}/{n}.ring")) for n in names}
ids = sorted(r["self"] for r in rings.values())
bad = 0
for n, r in rings.items():
    i = ids.index(r["self"])
    want_s, want_p = ids[(i + 1) % len(ids)], ids[i - 1]
    s = r["succ"][0]["id"] if r["succ"] else None
    p = r["pred"][0]["id"] if r["pred"] else None
    if s != want_s or p != want_p:
        bad += 1
sys.exit(1 if bad else 0)
EOF
}

# rn_wait_ring TIMEOUT_S NAME...: polls rn_ring_ok every second; prints the
# seconds it took, fails the test after TIMEOUT_S.
rn_wait_ring()
{
	local timeout=$1 t0 now
	shift
	t0=$(date +%s.%N)
	while :; do
		if rn_ring_ok "$@"; then
			now=$(date +%s.%N)
			RN_WAITED=$(python3 -c "print(f'{$now - $t0:.1f}')")
			return 0
		fi
		now=$(date +%s.%N)
		if python3 -c "import sys; sys.exit(0 if $now - $t0 > $timeout else 1)"; then
			rn_ring_report "$@"
			rn_fail "the ring of $# nodes did not converge in $timeout s"
		fi
		sleep 1
	done
}

# Which nodes disagree, for the failure message.
rn_ring_report()
{
	python3 - "$RN_DIR" "$@" <<'EOF' >&2
import json, sys
d, names = sys.argv[1], sys.argv[2:]
rings = {}
for n in names:
    try:
        rings[n] = json.load(open(f"{d}/{n}.ring"))
    except Exception as e:
        print(f"{n}: no ring view ({e})")
ids = sorted(r["self"] for r in rings.values())
for n, r in rings.items():
    i = ids.index(r["self"])
    s = r["succ"][0]["id"][:12] if r["succ"] else "-"
    p = r["pred"][0]["id"][:12] if r["pred"] else "-"
    ok = s == ids[(i + 1) % len(ids)][:12] and p == ids[i - 1][:12]
    print(f"{n} {r['self'][:12]} pred {p} succ {s} {'ok' if ok else 'WRONG'}")
EOF
}
