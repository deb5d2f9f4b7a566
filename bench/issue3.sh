#!/usr/bin/env bash
# The security layer's and the daemon's costs (issue 3), recorded in
# bench/results/. Builds nothing: give it a build directory that holds
# ringnetd, ringnet and hs_bench (bench/CMakeLists.txt), ideally Release.
#
#   bench/issue3.sh [BUILD_DIR]          (default: build)
#
# 1. idle bytes/s sent per node in a 12-node loopback group (target <= 100)
# 2. daemon RSS in that group (target <= 8 MB)
# 3. handshakes/s on one core (hs_bench), against libsodium's primitives
#
# Only 127.0.0.1 is used; the daemons and the temp directory go on exit
# (tests/daemon/lib.sh's trap); every wait is bounded. Environment knobs:
#   ISSUE3_ONLY=group|hs|summary   one part only (default: hs, then group)
#   ISSUE3_WARM_S=60       warm-up after the ring is consistent
#   ISSUE3_T_S=600         measuring window (one rekey period, 10 min)
#   ISSUE3_STEP_S=60       sampling step inside the window
#   ISSUE3_HS_N=3000       handshakes measured by hs_bench
#   ISSUE3_OUT=DIR         raw outputs elsewhere (default below)
# Raw outputs go to bench/results/DATE-issue3/ (DATE in UTC).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
ONLY=${ISSUE3_ONLY:-}
WARM_S=${ISSUE3_WARM_S:-60}
T_S=${ISSUE3_T_S:-600}
STEP_S=${ISSUE3_STEP_S:-60}
HS_N=${ISSUE3_HS_N:-3000}
N=12
DAY=$(date -u +%Y-%m-%d)
OUT=${ISSUE3_OUT:-$ROOT/bench/results/$DAY-issue3}
mkdir -p "$OUT"

RINGNETD=$BUILD/ringnetd
RINGNET=$BUILD/ringnet
HS_BENCH=$BUILD/hs_bench
# shellcheck source=../tests/daemon/lib.sh
. "$ROOT/tests/daemon/lib.sh"

say() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }

# ---- the machine (one section per invocation) ---------------------------------
{
	echo "== bench/issue3.sh $* (ISSUE3_ONLY=${ONLY:-all} WARM_S=$WARM_S T_S=$T_S STEP_S=$STEP_S HS_N=$HS_N)"
	echo "date_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "nproc: $(nproc)"
	echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "mem_total: $(awk '/^MemTotal/ {printf "%d MiB", $2 / 1024}' /proc/meminfo)"
	echo "kernel: $(uname -srm)"
	echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (+ uncommitted changes)')"
	echo "build: $BUILD ($(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null))"
	echo "libsodium: $(pkg-config --modversion libsodium 2>/dev/null || echo '?')"
	# the binaries may be older than HEAD: when each was linked, and its hash
	for f in "$RINGNETD" "$RINGNET" "$HS_BENCH"; do
		[ -e "$f" ] && echo "binary: ${f##*/} linked $(date -u -r "$f" +%Y-%m-%dT%H:%M:%SZ) sha256 $(sha256sum <"$f" | cut -c1-16)"
	done
	echo "uptime_start: $(uptime)"
} >>"$OUT/machine.txt"
tail -n 10 "$OUT/machine.txt" >&2

# ---- 3. handshakes per second -----------------------------------------------
run_hs()
{
	[ -x "$HS_BENCH" ] || { echo "no hs_bench in $BUILD (bench/CMakeLists.txt)" >&2; return 1; }
	echo "$HS_BENCH -n $HS_N" >"$OUT/hs_bench.cmd"
	say "hs_bench: $HS_N handshakes (uptime: $(uptime | sed 's/.*load/load/'))"
	echo "uptime_before: $(uptime)" >"$OUT/hs_bench.load"
	timeout 600 "$HS_BENCH" -n "$HS_N" >"$OUT/hs_bench.txt" 2>"$OUT/hs_bench.err"
	local rc=$?
	echo "uptime_after: $(uptime)" >>"$OUT/hs_bench.load"
	cat "$OUT/hs_bench.txt" >&2
	[ $rc -eq 0 ] || { echo "hs_bench failed ($rc):" >&2; cat "$OUT/hs_bench.err" >&2; return 1; }
}

# ---- 1 and 2. the idle 12-node group ----------------------------------------
# The indented JSON of `ringnet --json` on one line, without the indentation.
compact() { tr -d '\n' | sed 's/  */ /g'; }

# One sample: status and peers of every node, one JSON line each.
sample()
{
	local tag=$1 i name t j
	for ((i = 1; i <= N; i++)); do
		name=n$i
		t=$(date +%s.%N)
		printf '{"tag":"%s","node":"%s","t":%s,"status":' "$tag" "$name" "$t"
		j=$(timeout 5 "$RINGNET" -s "$RN_DIR/$name.sock" status --json) &&
			printf '%s' "$j" | compact || printf 'null'
		printf ',"peers":'
		j=$(timeout 5 "$RINGNET" -s "$RN_DIR/$name.sock" peers --json) &&
			printf '%s' "$j" | compact || printf 'null'
		printf '}\n'
	done >>"$OUT/group-samples.jsonl"
}

# Memory of every daemon, one JSON line each.
memory()
{
	local tag=$1 i name pid rss hwm vrss
	for ((i = 1; i <= N; i++)); do
		name=n$i
		pid=${RN_PID[$name]}
		rss=$(ps -o rss= -p "$pid" | tr -d ' ')
		hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
		vrss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
		printf '{"tag":"%s","node":"%s","pid":%s,"ps_rss_kb":%s,"vmrss_kb":%s,"vmhwm_kb":%s}\n' \
			"$tag" "$name" "$pid" "${rss:-null}" "${vrss:-null}" "${hwm:-null}"
	done >>"$OUT/group-memory.jsonl"
}

run_group()
{
	local base i rc attempt t_start k w
	[ -x "$RINGNETD" ] && [ -x "$RINGNET" ] ||
		{ echo "no ringnetd/ringnet in $BUILD" >&2; return 1; }
	rm -f "$OUT"/group-*.jsonl "$OUT"/group-logs/*.log
	rn_setup
	rn_group
	for ((i = 1; i <= N; i++)); do rn_member "n$i" "10.77.0.$i"; done
	for attempt in 1 2 3; do
		base=$(rn_base_port $N)
		rn_conf n1 "$base"
		rn_conf n2 $((base + 1)) "127.0.0.1:$base"
		for ((i = 3; i <= N; i++)); do
			rn_conf "n$i" $((base + i - 1)) "127.0.0.1:$base" "127.0.0.1:$((base + 1))"
		done
		rc=0
		for ((i = 1; i <= N; i++)); do
			rn_start "n$i" || { rc=$?; break; }
		done
		[ $rc -eq 0 ] && break
		for name in "${!RN_PID[@]}"; do rn_kill KILL "$name"; done
		rm -f "$RN_DIR"/*.log "$RN_DIR"/*.sock
		[ "$attempt" -lt 3 ] || rn_fail "could not bind $N ports in 3 attempts"
	done
	local all=()
	for ((i = 1; i <= N; i++)); do all+=("n$i"); done
	say "started $N ringnetd on 127.0.0.1:$base-$((base + N - 1))"
	rn_wait_ring 60 "${all[@]}"
	say "ring consistent after ${RN_WAITED} s; warm-up ${WARM_S} s"
	{
		echo "ringnetd x$N on 127.0.0.1:$base-$((base + N - 1)); n1 alone, n2 -> n1, n3..n12 -> n1,n2 (tests/daemon/ring12.sh)"
		echo "ring consistent after ${RN_WAITED} s; warm-up ${WARM_S} s; window ${T_S} s sampled every ${STEP_S} s"
	} >"$OUT/group.cmd"
	sleep "$WARM_S"
	rn_ring_ok "${all[@]}" || say "WARNING: ring not consistent at t0"
	echo "uptime_t0: $(uptime)" >"$OUT/group.load"
	memory t0
	sample 0
	t_start=$(date +%s)
	for ((k = STEP_S; k <= T_S; k += STEP_S)); do
		w=$((t_start + k - $(date +%s))); [ "$w" -gt 0 ] && sleep "$w"
		sample "$k"
		say "sampled t0+$k s"
	done
	memory end
	echo "uptime_end: $(uptime)" >>"$OUT/group.load"
	rn_ring_ok "${all[@]}" && echo "ring consistent at the end" >>"$OUT/group.cmd" ||
		echo "ring NOT consistent at the end" >>"$OUT/group.cmd"
	mkdir -p "$OUT/group-logs"
	cp "$RN_DIR"/*.log "$RN_DIR"/*.conf "$OUT/group-logs/" 2>/dev/null
	for name in "${all[@]}"; do rn_kill TERM "$name"; done
}

# ---- the summary --------------------------------------------------------------
summary()
{
	python3 - "$OUT" <<'EOF'
import json, os, sys
out = sys.argv[1]
W = 28  # IPv4 + UDP header per datagram
lines = []
def p(s=""):
    lines.append(s)
    print(s)

def hs_sizes():
    # datagram sizes from hs_bench.txt (init_bytes, resp_bytes, idle_pair_610s)
    sz = {"init": 354, "resp": 324, "init_rk": 197, "resp_rk": 169}
    f = os.path.join(out, "hs_bench.txt")
    if os.path.exists(f):
        for l in open(f):
            k, _, v = l.partition(":")
            if k == "init_bytes": sz["init"] = int(v)
            if k == "resp_bytes": sz["resp"] = int(v)
            if k == "idle_pair_610s":
                w = v.split()
                for name, key in (("INIT", "init_rk"), ("RESP", "resp_rk")):
                    if name in w:
                        sz[key] = round(float(w[w.index(name) + 3]))
    return sz

fs = os.path.join(out, "group-samples.jsonl")
if os.path.exists(fs):
    rows = [json.loads(l) for l in open(fs)]
    tags = sorted({int(r["tag"]) for r in rows})
    by = {(int(r["tag"]), r["node"]): r for r in rows}
    nodes = sorted({r["node"] for r in rows}, key=lambda s: int(s[1:]))
    def window(t1):
        res = []
        for n in nodes:
            a, b = by[(0, n)], by[(t1, n)]
            dt = b["t"] - a["t"]
            sa, sb = a["status"], b["status"]
            d = {k: sb["stats"][k] - sa["stats"][k] for k in sb["stats"]}
            d.update({"sec_" + k: sb["sec"][k] - sa["sec"][k] for k in sb["sec"]})
            d.update({"drv_" + k: sb["driver"][k] - sa["driver"][k] for k in sb["driver"]})
            pa = {x["endpoint"]: x["tx_bytes"] for x in a["peers"]["peers"]}
            pb = {x["endpoint"]: x["tx_bytes"] for x in b["peers"]["peers"]}
            d["peers_tx_bytes"] = sum(v - pa.get(e, 0) for e, v in pb.items())
            d["links"] = sb["links"]["total"]
            d["dt"] = dt
            res.append((n, d))
        return res
    def stat(v):
        return sum(v) / len(v), min(v), max(v)
    p("## 1. idle bytes sent per node, 12-node loopback group (target <= 100 B/s)")
    for t1 in sorted({min(300, tags[-1]), tags[-1]}):
        if t1 == 0:
            continue
        res = window(t1)
        pay = [d["tx_bytes"] / d["dt"] for _, d in res]
        wire = [(d["tx_bytes"] + W * d["tx_pkts"]) / d["dt"] for _, d in res]
        pps = [d["tx_pkts"] / d["dt"] for _, d in res]
        drv = [d["peers_tx_bytes"] / d["dt"] for _, d in res]
        m = stat(pay); mw = stat(wire); mp = stat(pps); md = stat(drv)
        p(f"window t0..t0+{t1} s ({len(res)} nodes):")
        p(f"  payload B/s  mean {m[0]:.1f}  min {m[1]:.1f}  max {m[2]:.1f}")
        p(f"  +28 B/dgram  mean {mw[0]:.1f}  min {mw[1]:.1f}  max {mw[2]:.1f}")
        p(f"  datagrams/s  mean {mp[0]:.2f}  min {mp[1]:.2f}  max {mp[2]:.2f}")
        p(f"  driver (sum of peers' tx_bytes) B/s mean {md[0]:.1f}  min {md[1]:.1f}  max {md[2]:.1f}")
        tot = lambda k: sum(d.get(k, 0) for _, d in res)
        p(f"  all nodes: tx_pkts {tot('tx_pkts')} tx_bytes {tot('tx_bytes')} maint_bytes {tot('tx_maint_bytes')}"
          f" hs_init_sent {tot('sec_hs_init_sent')} hs_resp_sent {tot('sec_hs_resp_sent')}"
          f" hs_rekeys {tot('sec_hs_rekeys')} hs_init_ok {tot('sec_hs_init_ok')} hs_resp_ok {tot('sec_hs_resp_ok')}"
          f" hs_cookie_sent {tot('sec_hs_cookie_sent')} tx_nosess {tot('sec_tx_nosess')}"
          f" links_dead {tot('links_dead')} links_failed {tot('links_failed')}"
          f" send_eagain {tot('drv_send_eagain')} send_errors {tot('drv_send_errors')}")
        p("  per node: node links B/s(payload) B/s(+28) pkts/s hs_init_sent hs_resp_sent hs_rekeys")
        for n, d in res:
            p(f"    {n:4s} {d['links']:3d} {d['tx_bytes']/d['dt']:7.1f} {(d['tx_bytes']+W*d['tx_pkts'])/d['dt']:7.1f}"
              f" {d['tx_pkts']/d['dt']:6.2f} {d['sec_hs_init_sent']:4d} {d['sec_hs_resp_sent']:4d} {d['sec_hs_rekeys']:4d}")
        # what was sent, all nodes together: handshakes from the sec
        # counters and the sizes hs_bench measured (full INIT/RESP carry a
        # certificate, rekey ones do not); the rest is sealed DATA
        # (keepalive PING/PONG, NEIGHBORS, far-link upkeep, ...)
        sz = hs_sizes()
        n_init, n_resp = tot("sec_hs_init_sent"), tot("sec_hs_resp_sent")
        n_rk, n_ck = tot("sec_hs_rekeys"), tot("sec_hs_cookie_sent")
        n_rk_i, n_rk_r = min(n_rk, n_init), min(n_rk, n_resp)
        hs_b = ((n_init - n_rk_i) * sz["init"] + n_rk_i * sz["init_rk"]
                + (n_resp - n_rk_r) * sz["resp"] + n_rk_r * sz["resp_rk"])
        n_data = tot("tx_pkts") - n_init - n_resp - n_ck
        data_b = tot("tx_bytes") - hs_b
        T = sum(d["dt"] for _, d in res) / len(res)
        nn = len(res)
        p(f"  breakdown per node (mean), estimated from the counters and hs_bench's sizes"
          f" (INIT {sz['init']}/{sz['init_rk']} B, RESP {sz['resp']}/{sz['resp_rk']} B full/rekey):")
        p(f"    handshakes: {n_init} INIT ({n_rk} rekeys started) + {n_resp} RESP, ~{hs_b} B"
          f" = {hs_b/nn/T:.1f} B/s payload, {(hs_b + W*(n_init+n_resp))/nn/T:.1f} B/s with headers")
        p(f"    sealed DATA: {n_data} datagrams ({n_data/nn/T:.3f}/s per node), ~{data_b} B"
          f" (mean {data_b/max(n_data,1):.1f} B)"
          f" = {data_b/nn/T:.1f} B/s payload, {(data_b + W*n_data)/nn/T:.1f} B/s with headers")
        verdict = "met" if m[0] <= 100 else "MISSED"
        verdict_w = "met" if mw[0] <= 100 else "MISSED"
        p(f"  target <= 100 B/s: payload {verdict} ({m[0]:.1f}), with headers {verdict_w} ({mw[0]:.1f})")
    p("per-step totals over all nodes (bytes sent, datagrams, INITs, RESPs, rekeys started):")
    prev = 0
    for t in tags[1:]:
        s = lambda k, sub="stats": sum(by[(t, n)]["status"][sub][k] - by[(prev, n)]["status"][sub][k] for n in nodes)
        p(f"  t0+{prev:3d}..{t:3d} s: {s('tx_bytes'):7d} B {s('tx_pkts'):5d} dgrams"
          f" {s('hs_init_sent','sec'):3d} INIT {s('hs_resp_sent','sec'):3d} RESP {s('hs_rekeys','sec'):3d} rekeys")
        prev = t

fm = os.path.join(out, "group-memory.jsonl")
if os.path.exists(fm):
    rows = [json.loads(l) for l in open(fm) if json.loads(l)["tag"] == "end"]
    rss = [r["ps_rss_kb"] for r in rows]
    hwm = [r["vmhwm_kb"] for r in rows]
    p("## 2. daemon RSS at the end (target <= 8 MB = 8192 KiB)")
    p(f"  ps rss KiB: mean {sum(rss)/len(rss):.0f}  min {min(rss)}  max {max(rss)}")
    p(f"  VmHWM KiB:  mean {sum(hwm)/len(hwm):.0f}  min {min(hwm)}  max {max(hwm)}")
    p(f"  target: {'met' if max(rss) <= 8192 and max(hwm) <= 8192 else 'MISSED'}")

fh = os.path.join(out, "hs_bench.txt")
if os.path.exists(fh):
    p("## 3. handshakes on one core (hs_bench)")
    for l in open(fh):
        p("  " + l.rstrip())
open(os.path.join(out, "summary.txt"), "w").write("\n".join(lines) + "\n")
EOF
}

status=0
if [ -z "$ONLY" ] || [ "$ONLY" = hs ]; then run_hs || status=1; fi
if [ -z "$ONLY" ] || [ "$ONLY" = group ]; then run_group || status=1; fi
echo "uptime_end: $(uptime)" >>"$OUT/machine.txt"
summary || status=1
say "raw outputs in ${OUT#"$ROOT"/}"
exit $status
