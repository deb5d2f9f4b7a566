#!/usr/bin/env bash
# One lab of bench/shortcut.sh (see there): N public members, every one
# with `[tun] shortcut = S`; measures one pair with no link between them.
#
#   lab.sh ring|shortcut OUTDIR     (RINGNETD RINGNET N TIME_S REPS set)
#
# ring: S = 0; the pair's iperf3 runs and pings cross the ring. shortcut:
# S is the default (64); first the threshold sweep, then the iperf3 runs
# (the first watched for the link coming up) and pings over the shortcut.
# A far link that the ring makes between the pair meanwhile (its far
# links move) spoils the figures: the pair is then dropped and another
# measured, 3 pairs at most. Results: OUTDIR/result (KEY=VALUE lines) and
# the raw files beside it.
set -u
MODE=$1 OUT=$2
mkdir -p "$OUT" || exit 1
. "$(dirname "$0")/../../tests/netns/lib.sh"

nl_setup
rn_group
for ((i = 1; i <= N; i++)); do
	nl_public "p$i" "10.77.0.$i"
	nl_conf "p$i"
	[ "$MODE" = shortcut ] || sed -i 's/^\[tun\]$/[tun]\nshortcut = 0/' "$RN_DIR/p$i.conf"
done
nl_start_all
nl_wait_ring 120 "${NL_MEMBERS[@]}"
rn_log "$MODE lab: ring of $N formed in $NL_ELAPSED s"
nl_wait_tun 10 "${NL_MEMBERS[@]}"

# link_kind A B: A's link to B, kind/state, or none.
link_kind()
{
	"$RINGNET" -s "$RN_DIR/$1.sock" peers --json 2>/dev/null | python3 -c '
import json, sys
k = [p["kind"] + "/" + p["state"] for p in json.load(sys.stdin)["peers"]
     if p.get("vip") == sys.argv[1]]
print(k[0] if k else "none")' "${NL_VIP[$2]}"
}

# pick_pair: X and Y, the first pair not tried yet with no link between them.
declare -A TRIED=()
pick_pair()
{
	local a b
	X="" Y=""
	for a in "${NL_MEMBERS[@]}"; do
		for b in "${NL_MEMBERS[@]}"; do
			[ "$a" = "$b" ] || [ -n "${TRIED[$a.$b]:-}" ] && continue
			[ "$(link_kind "$a" "$b")" = none ] && [ "$(link_kind "$b" "$a")" = none ] &&
				{ X=$a; Y=$b; TRIED[$a.$b]=1; break 2; }
		done
	done
	[ -n "$Y" ] || rn_fail "no unlinked pair left among the $N members (a larger --n)"
	rn_log "X = $X, Y = $Y: no link between them"
}

# wait_unlinked S: until neither X nor Y has a link to the other, S s at most.
wait_unlinked()
{
	local t0
	t0=$(date +%s.%N)
	while [ "$(link_kind "$X" "$Y")" != none ] || [ "$(link_kind "$Y" "$X")" != none ]; do
		nl_deadline_left "$t0" "$1" || rn_fail "X and Y still linked after $1 s"
		sleep 1
	done
}

# pings OUT COUNT INTERVAL: X pings Y; per-packet times into OUT.
pings()
{
	nl_sh "$X" ping -n -c "$2" -i "$3" -w $(($2 + 10)) "${NL_VIP[$Y]}" >"$1" 2>&1 || true
}

# ping_stats FILE: "median p99 received" of the per-packet times.
ping_stats()
{
	python3 - "$1" <<'PY'
import re, sys
v = sorted(float(x) for x in re.findall(r"time=([0-9.]+)", open(sys.argv[1]).read()))
if not v:
    print("nan nan 0"); sys.exit()
p99 = v[max(0, -(-len(v) * 99 // 100) - 1)]
print(f"{v[len(v) // 2]:.3f} {p99:.3f} {len(v)}")
PY
}

# iperf_run OUT [watch]: one iperf3 X -> Y of TIME_S; prints Gbit/s. With
# watch, also the seconds from its start to X's link to Y being
# shortcut/up (nan if never), polled every 0.2 s.
iperf_run()
{
	local out=$1 watch=${2:-} t0 up=nan spid cpid
	nl_sh "$Y" timeout $((TIME_S + 20)) iperf3 -s -1 -B "${NL_VIP[$Y]}" -p 5201 >"$out.server" 2>&1 &
	spid=$!
	nl_wait_listen "$Y" 5201 5
	t0=$(date +%s.%N)
	nl_sh "$X" timeout $((TIME_S + 20)) iperf3 -c "${NL_VIP[$Y]}" -p 5201 -t "$TIME_S" -J >"$out" 2>&1 &
	cpid=$!
	if [ -n "$watch" ]; then
		while kill -0 "$cpid" 2>/dev/null; do
			if [ "$(link_kind "$X" "$Y")" = shortcut/up ]; then
				up=$(python3 -c "import sys,time; print(f'{time.time() - float(sys.argv[1]):.2f}')" "$t0")
				break
			fi
			sleep 0.2
		done
	fi
	wait "$cpid" || rn_fail "iperf3 $X -> $Y failed: $(tail -n 5 "$out")"
	wait "$spid"
	python3 -c '
import json, sys
print("%.3f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9), sys.argv[2])' "$out" "$up"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure_pair KIND: R iperf3 runs (the first watched when KIND is
# shortcut), then 200 pings at 100/s; 0 when X's link to Y at the end is
# what KIND needs (none for ring, shortcut/up for shortcut).
measure_pair()
{
	local kind=$1 r g up
	G=() UP=nan
	for ((r = 1; r <= REPS; r++)); do
		read -r g up < <(iperf_run "$OUT/iperf-$X-$Y-$r.json" $([ "$kind" = shortcut ] && [ "$r" = 1 ] && echo watch))
		[ -n "${g:-}" ] || rn_fail "iperf3 run $r failed: $(tail -n 3 "$OUT/iperf-$X-$Y-$r.json")"
		G+=("$g")
		[ "$r" = 1 ] && UP=$up
		rn_log "$kind: iperf3 $X -> $Y run $r: $g Gbit/s$([ "$kind" = shortcut ] && [ "$r" = 1 ] && echo " (shortcut up after $up s)")"
	done
	pings "$OUT/ping-$X-$Y.txt" 200 0.01
	read -r MED P99 _ < <(ping_stats "$OUT/ping-$X-$Y.txt")
	rn_log "$kind: 200 pings $X -> $Y: median $MED ms, p99 $P99 ms"
	HOPS=$("$RINGNET" -s "$RN_DIR/$X.sock" ping -c 3 "${NL_VIP[$Y]}" 2>&1 | tee "$OUT/hops-$X-$Y.txt" |
		sed -n 's/.*hops=\([0-9]*\).*/\1/p' | head -n 1)
	local want=none now
	[ "$kind" = shortcut ] && want=shortcut/up
	now=$(link_kind "$X" "$Y")
	[ "$now" = "$want" ] && return 0
	rn_log "$kind: $X -> $Y is $now at the end, not $want: another pair"
	return 1
}

THRESHOLD=none SWEEP=""
if [ "$MODE" = shortcut ]; then
	pick_pair
	for rate in 10 20 40 80; do
		asked0=$(rn_status "$X" stats.shortcuts_asked) || exit 1
		pings "$OUT/threshold-$rate.txt" $((rate * 5)) "$(python3 -c "print(1 / $rate)")"
		asked=$(($(rn_status "$X" stats.shortcuts_asked) - asked0))
		SWEEP+="${SWEEP:+, }$rate/s: $asked"
		rn_log "pings at $rate/s for 5 s: X asked for a shortcut $asked time(s)"
		[ "$asked" -gt 0 ] && [ "$THRESHOLD" = none ] && THRESHOLD=$rate
		# the next rate needs the pair unlinked again: the shortcut
		# closes 30 s after the last wish (+ trimming); a link the ring
		# took for itself meanwhile ends the sweep
		t0=$(date +%s.%N)
		while k=$(link_kind "$X" "$Y") && [ "${k%/*}" = shortcut ] || [ "$(link_kind "$Y" "$X")" = link/up ]; do
			nl_deadline_left "$t0" 90 || rn_fail "the shortcut $X -> $Y still stands 90 s after the pings"
			sleep 1
		done
		if [ "$(link_kind "$X" "$Y")" != none ] || [ "$(link_kind "$Y" "$X")" != none ]; then
			SWEEP+=" (then $X -> $Y became a link of the ring's, $(link_kind "$X" "$Y"): the sweep ended)"
			rn_log "$X -> $Y is now $(link_kind "$X" "$Y"): the sweep ends"
			break
		fi
	done
	SWEEP_PAIR="$X $Y"
	[ "$(link_kind "$X" "$Y")" = none ] && [ "$(link_kind "$Y" "$X")" = none ] || pick_pair
else
	pick_pair
fi
ok=0
for try in 1 2 3; do
	measure_pair "$MODE" && { ok=1; break; }
	pick_pair
done
[ "$ok" = 1 ] || rn_fail "3 pairs got a link of the ring's while measured"
nl_stop_all "ERROR" "${NL_MEMBERS[@]}"
{
	echo "pair=$X $Y"
	echo "gbps=${G[*]}"
	echo "up_s=$UP"
	echo "ping_median_ms=$MED"
	echo "ping_p99_ms=$P99"
	echo "hops=${HOPS:-?}"
	echo "threshold=$THRESHOLD"
	echo "sweep=$SWEEP"
	echo "sweep_pair=${SWEEP_PAIR:-}"
} >"$OUT/result"
