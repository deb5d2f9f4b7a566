#!/usr/bin/env bash
# What a shortcut link buys a heavy flow, and what makes one (docs/vpn.md
# section 2, `[tun] shortcut`): real daemons in network namespaces.
#
#   bench/shortcut.sh [--build DIR] [--n N] [--time S] [--reps R] [--tag WORD]
#
#   --build DIR  ringnetd and ringnet from DIR (default build/, Release)
#   --n N        public members (20); --time S: iperf3 seconds (10);
#   --reps R     iperf3 runs per phase (3); the report is their median
#   --tag WORD   write bench/results/DATE-shortcut-WORD.md (default
#                bench/results/DATE-shortcut.md), raw files beside it
#
# Two labs in turn (bench/shortcut/lab.sh, on tests/netns/lib.sh), each
# of N public members on one bridge forming a ring; in each, X and Y are
# the first pair with no link between them, so that their packets cross
# the ring end to end (docs/vpn.md section 2):
#   1. ring: every member with `shortcut = 0`. iperf3 X -> Y (R runs of S
#      s, Gbit/s), 200 pings at 100 per s (median, p99 ms), and the
#      overlay hops (`ringnet ping`).
#   2. shortcut: every member with the default (64). First the threshold:
#      pings X -> Y at rising rates (10, 20, 40, 80 per s, 5 s each), and
#      the lowest rate that made X ask for a shortcut (each rate that made
#      one waits until the link is closed again, 30 s idle + trimming).
#      Then the same iperf3 runs (the first one's time from its start to
#      X's link to Y being shortcut/up, polled every 0.2 s) and pings,
#      over the shortcut.
# The labs have different keys, so different pairs; their hop counts are
# in the report. The ratio of 2. to 1. is what the report is for; the
# machine is a shared 2-core VM, so absolute figures move between runs.
#
# Safety: everything runs inside namespaces made by lib.sh (rn<PID>-*),
# with addresses that exist only there; its EXIT trap deletes them and
# kills their processes, also on failure and Ctrl-C. Root only.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
BUILD=build N=20 TIME_S=10 REPS=3 TAG=""
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift ;;
	--n) N=$2; shift ;;
	--time) TIME_S=$2; shift ;;
	--reps) REPS=$2; shift ;;
	--tag) TAG=-$2; shift ;;
	-h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench/shortcut.sh: unknown argument '$1' (--help)" >&2; exit 2 ;;
	esac
	shift
done
[[ $N =~ ^[0-9]+$ ]] && [ "$N" -ge 12 ] && [ "$N" -le 60 ] || { echo "--n: 12..60" >&2; exit 2; }
[[ $TIME_S =~ ^[0-9]+$ ]] && [ "$TIME_S" -ge 2 ] && [ "$TIME_S" -le 60 ] || { echo "--time: 2..60" >&2; exit 2; }
[[ $REPS =~ ^[0-9]+$ ]] && [ "$REPS" -ge 1 ] && [ "$REPS" -le 9 ] || { echo "--reps: 1..9" >&2; exit 2; }
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
RINGNETD=$BUILD/ringnetd
RINGNET=$BUILD/ringnet
STEM=$ROOT/bench/results/$(date -u +%Y-%m-%d)-shortcut$TAG
mkdir -p "$STEM" || exit 1
[ -x "$RINGNETD" ] && [ -x "$RINGNET" ] || { echo "bench/shortcut.sh: no ringnetd/ringnet in $BUILD" >&2; exit 1; }
export RINGNETD RINGNET N TIME_S REPS
T0=$(date -u +%FT%TZ)
for mode in ring shortcut; do
	bash "$ROOT/bench/shortcut/lab.sh" $mode "$STEM/$mode" 2>&1 | tee "$STEM/$mode.log" |
		grep -E '^[0-9:]{8} |FAIL' >&2
	[ -s "$STEM/$mode/result" ] || { echo "bench/shortcut.sh: the $mode lab failed (log: $STEM/$mode.log)" >&2; exit 1; }
done
python3 - "$STEM" "$N" "$TIME_S" "$REPS" "$BUILD" "$T0" "$(git rev-parse --short HEAD)" "$(uname -r)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY' >"$STEM.md"
import os, statistics, sys
stem, n, t, reps, build, t0, commit, kernel, cores, load = sys.argv[1:]
def res(mode):
    d = {}
    for line in open(f"{stem}/{mode}/result"):
        k, _, v = line.rstrip("\n").partition("=")
        d[k] = v
    d["g"] = [float(x) for x in d["gbps"].split()]
    d["gm"] = statistics.median(d["g"])
    return d
r, s = res("ring"), res("shortcut")
base = os.path.basename(stem)
f = lambda v: f"{float(v):.3f}"
print(f"# Shortcut links: what they buy a heavy flow, {t0[:10]}\n")
print(f"Made by `bench/shortcut.sh --n {n} --time {t} --reps {reps}` at commit {commit} ({build}), "
      f"started {t0}. Machine: {cores} cores, Linux {kernel}; load {load} at the end. Two labs of {n} "
      "public members in network namespaces on one bridge; in each, X -> Y is a pair with no link "
      "between them. Ring lab: every member `shortcut = 0`; shortcut lab: the default (64). "
      f"Raw files in [{base}/]({base}/).\n")
print("| X -> Y | pair | overlay hops | iperf3 TCP 1 stream Gbit/s, median (runs) | ping median ms | ping p99 ms |")
print("|---|---|---|---|---|---|")
for name, d in (("over the ring (shortcut = 0)", r), ("over the shortcut", s)):
    runs = ", ".join(f"{x:.3f}" for x in d["g"])
    print(f"| {name} | {d['pair']} | {d['hops']} | **{d['gm']:.3f}** ({runs}) | {f(d['ping_median_ms'])} | {f(d['ping_p99_ms'])} |")
print(f"| shortcut / ring | | | {s['gm'] / r['gm']:.2f} | {float(s['ping_median_ms']) / float(r['ping_median_ms']):.2f} | |\n")
print(f"- The first stream's shortcut was up {s['up_s']} s after iperf3 started.")
sweep = s["sweep"]
print(f"- Threshold (`shortcut = 64`, heat halved every second), pair {s['sweep_pair']}: shortcuts asked "
      f"after 5 s of pings at {sweep}; the lowest rate that made one: {s['threshold']} per second.")
PY
cat "$STEM.md"
