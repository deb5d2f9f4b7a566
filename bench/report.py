#!/usr/bin/env python3
"""Writes DIR.md: one table row per ringsim JSON in DIR, with the machine,
the commit and the targets' ratios (x log2 N). Usage: report.py DIR DAY"""
import glob, json, math, os, platform, subprocess, sys
if len(sys.argv) != 3 or not os.path.isdir(sys.argv[1]):
    sys.exit("usage: report.py DIR DAY  (DIR holds ringsim --json files)")
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
    if "restart_recover_s" in r:
        extra.append("restarted, consistent after %s s" % r["restart_recover_s"])
    if "partition_side_b" in r:
        extra.append("%d cut off for %.0f s, merged %s s after healing" % (r["partition_side_b"], r["partition_s"], r["partition_merge_s"]))
    lines.append("| %s | %d | %.4f%% / %.4f%% | %.2f (%.3f) | %.0f (%.3f) | %.2f / %.2f | %s | %.1f | %s | %s | %d | %.0f | %.0f | %.0f |" % (
        name, r["nodes"], 100*r["lookup_success_ratio"], 100*r["lookup_success_ratio_retry"],
        r["hops_mean"], r["hops_mean"]/l2, r["hops_p99"], r["hops_p99"]/l2,
        r["join_time_median_s"], r["join_time_p99_s"], "consistent" if r["ring_consistent"] else "INCONSISTENT",
        r["links_mean"], ("%.1f / %.1f" % (r["maintenance_bytes_per_node_s"], r["maintenance_wire_bytes_per_node_s"])) if r["maintenance_bytes_per_node_s"] else "-",
        "; ".join(extra) or "-", r["events"], r["events_per_s"], r["wall_s"], r["peak_rss_bytes"]/2**20))
open(f"{out}.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
