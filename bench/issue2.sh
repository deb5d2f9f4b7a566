#!/usr/bin/env bash
# The overlay ring's measurements (issue 2), recorded in bench/results/.
# Each run is one ringsim invocation; its JSON is kept next to the report.
#   bench/issue2.sh [--million] [RINGSIM]
# Without --million the 10^6-node run is skipped (it takes ~30 min).
set -euo pipefail
cd "$(dirname "$0")/.."
MILLION=0
if [ "${1:-}" = --million ]; then MILLION=1; shift; fi
SIM=${1:-build/ringsim}
LAT=data/latency/planetlab490_median_ms.derived.txt.gz
DAY=$(date -u +%Y-%m-%d)
OUT=bench/results/$DAY-issue2
mkdir -p "$OUT"
run() { # name, args...
  local name=$1; shift
  echo "== $name: ringsim $*" >&2
  echo "ringsim $*" > "$OUT/$name.cmd"
  "$SIM" "$@" -q --json "$OUT/$name.json" > "$OUT/$name.txt"
  cat "$OUT/$name.txt" >&2
}
run far-fingers2 -n 10000 -s 1 -l $LAT -m 10000 --far fingers2 --settle 60
run far-fingers1 -n 10000 -s 1 -l $LAT -m 10000 --far fingers1 --settle 60
run far-symphony -n 10000 -s 1 -l $LAT -m 10000 --far symphony --settle 60
run joins-1e4    -n 10000 -s 2 -l $LAT -m 10000 --join-rate 100 --bootstrap 8 --settle 60 --idle 300
run churn-1e4    -n 10000 -s 3 -l $LAT -m 20000 --churn weibull:0.5:900 --churn-time 3600 --settle 60
run fail-1e4     -n 10000 -s 4 -l $LAT -m 1000 --fail 0.3 --fail-wait 120 --settle 60
run scale-1e5    -n 100000 -s 5 -l $LAT -m 100000 --lookup-rate 20000 --join-rate 1000 --bootstrap 0 --settle 60
if [ $MILLION = 1 ]; then
  run scale-1e6  -n 1000000 -s 6 -l $LAT -m 1000000 --lookup-rate 100000 --join-rate 10000 --bootstrap 0 --settle 60
fi
python3 - "$OUT" "$DAY" <<'PY'
import glob, json, math, os, platform, subprocess, sys
out, day = sys.argv[1], sys.argv[2]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
lines = [f"# Issue 2 measurements, {day}", "",
         f"Machine: {os.cpu_count()} cores, {cpu}, {int(mem)//1024} MiB RAM; {platform.platform()}; commit {rev}.",
         "Latency: PlanetLab 490x490 median RTT matrix (data/latency). Each row: one ringsim run; commands in *.cmd.", "",
         "| run | nodes | lookups ok (1st / retry) | hops mean (x log2N) | hops p99 (x log2N) | join p50 / p99 s | ring | links/node | maint B/s (payload / wire) | extra | events | ev/s | wall s | peak RSS MiB |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
for f in sorted(glob.glob(f"{out}/*.json")):
    r = json.load(open(f)); name = os.path.basename(f)[:-5]; l2 = math.log2(r["nodes"])
    extra = []
    if "churn_lookups" in r:
        extra.append("churn lookups %d: %.4f%% / %.4f%%" % (r["churn_lookups"], 100*r["churn_lookup_success_ratio"], 100*r["churn_lookup_success_ratio_retry"]))
    if "fail_killed" in r:
        extra.append("%d crashed, consistent after %s s" % (r["fail_killed"], r["fail_recover_s"]))
    lines.append("| %s | %d | %.4f%% / %.4f%% | %.2f (%.3f) | %.0f (%.3f) | %.2f / %.2f | %s | %.1f | %s | %s | %d | %.0f | %.0f | %.0f |" % (
        name, r["nodes"], 100*r["lookup_success_ratio"], 100*r["lookup_success_ratio_retry"],
        r["hops_mean"], r["hops_mean"]/l2, r["hops_p99"], r["hops_p99"]/l2,
        r["join_time_median_s"], r["join_time_p99_s"], "consistent" if r["ring_consistent"] else "INCONSISTENT",
        r["links_mean"], ("%.1f / %.1f" % (r["maintenance_bytes_per_node_s"], r["maintenance_wire_bytes_per_node_s"])) if r["maintenance_bytes_per_node_s"] else "-",
        "; ".join(extra) or "-", r["events"], r["events_per_s"], r["wall_s"], r["peak_rss_bytes"]/2**20))
open(f"{out}.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
