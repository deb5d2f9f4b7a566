#!/usr/bin/env python3
"""bench/vpn.sh's arithmetic (stdlib only).

  report.py iperf FULL.json OUT.json   prints "Gbit/s retransmits" of one
      iperf3 -J run (received side, all streams) and writes its summary
      (the "end" member, without the per-second intervals) to OUT.json
  report.py report DIR STEM            reads DIR/{status.tsv,raw.tsv,ping/,
      machine.txt,command.txt}, writes DIR/results.json and STEM.md (the
      report), and prints the report

Medians are of the REPS runs; ping's median and p99 (nearest rank) come
from the per-packet "time=" lines, not ping's summary. Daemon CPU is
(utime+stime of both daemons over one iperf3 run) / (the run's wall time),
in CPU-seconds per second, and 100 * that / Gbit/s (CPU % per Gbit/s),
each the median over the runs.
"""
import json, math, os, re, statistics, sys

PEERS = ["tinc", "nebula", "fastd", "yggdrasil"]
TCP_RATIO = 2.0      # ringnet single stream >= 2x the best peer
RTT_ADDED_MS = 0.1   # ringnet median RTT <= raw + 0.1 ms


def iperf(full, out):
    try:
        j = json.load(open(full))
        end = j["end"]
        gbps = end["sum_received"]["bits_per_second"] / 1e9
        retr = end["sum_sent"].get("retransmits", "nan")
        json.dump({"start": j.get("start", {}).get("test_start"), "end": end}, open(out, "w"))
        print(f"{gbps:.4f} {retr}")
    except Exception as e:
        err = None
        try:
            err = json.load(open(full)).get("error")
        except Exception:
            pass
        print(f"iperf3 failed: {err or e}", file=sys.stderr)
        sys.exit(1)


def num(s):
    try:
        v = float(s)
        return None if math.isnan(v) else v
    except ValueError:
        return None


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ping_stats(path):
    if not os.path.exists(path):
        return None
    text = open(path).read()
    t = [float(x) for x in re.findall(r"time=([0-9.]+) ms", text)]
    m = re.search(r"(\d+) packets transmitted", text)
    sent = int(m.group(1)) if m else None
    if not t:
        return {"sent": sent, "received": 0}
    s = sorted(t)
    return {"sent": sent, "received": len(t), "median_ms": statistics.median(s),
            "p99_ms": s[math.ceil(0.99 * len(s)) - 1], "min_ms": s[0], "max_ms": s[-1]}


def load(d):
    vpns = {}
    # one status line per VPN and round: ok when any round was; the first
    # failure's reason is kept either way
    for line in open(f"{d}/status.tsv"):
        f = line.rstrip("\n").split("\t")
        if f[0] == "vpn":
            continue
        f += [""] * (8 - len(f))
        v = vpns.setdefault(f[0], {"status": "failed", "reason": "", "mtu": None, "daemons": 0,
                                   "udp_rcvbuf_errors": None, "started_utc": f[6],
                                   "rounds_ok": 0, "rounds_failed": 0, "runs": {"tcp1": [], "tcp4": []}})
        if f[1] == "ok":
            v["status"] = "ok"
            v["rounds_ok"] += 1
            v["mtu"] = v["mtu"] or f[3] or None
            v["daemons"] = int(f[4] or 0)
            if f[5]:
                v["udp_rcvbuf_errors"] = (v["udp_rcvbuf_errors"] or 0) + num(f[5])
        else:
            v["rounds_failed"] += 1
            if not v["reason"]:
                v["reason"] = f[2] + (f" (round {f[7]})" if f[7] and f[7] != "1" else "")
    for line in open(f"{d}/raw.tsv"):
        f = line.rstrip("\n").split("\t")
        if len(f) < 7 or f[0] not in vpns:
            continue
        g, cpu, wall = num(f[3]), num(f[5]), num(f[6])
        load1 = num(f[7]) if len(f) > 7 else None
        rate = cpu / wall if cpu is not None and wall else None
        vpns[f[0]]["runs"][f[1]].append({
            "rep": int(f[2]), "gbps": g, "retransmits": num(f[4]), "daemon_cpu_s": cpu,
            "wall_s": wall, "load1": load1, "cpu_s_per_s": rate,
            "cpu_pct_per_gbps": 100 * rate / g if rate is not None and g else None})
    for name, v in vpns.items():
        v["ping"] = ping_stats(f"{d}/ping/{name}.txt")
        for k in ("tcp1", "tcp4"):
            r = v["runs"][k]
            v[k] = {"median_gbps": med([x["gbps"] for x in r]),
                    "median_retransmits": med([x["retransmits"] for x in r]),
                    "median_cpu_s_per_s": med([x["cpu_s_per_s"] for x in r]) if v["daemons"] else None,
                    "median_cpu_pct_per_gbps": med([x["cpu_pct_per_gbps"] for x in r]) if v["daemons"] else None}
    return vpns


def ratio(a, b):
    return a / b if a is not None and b else None


def add_ratios(vpns):
    raw, rn = vpns.get("raw"), vpns.get("ringnet")
    for v in vpns.values():
        v["ratio"] = {}
        for ref_name, ref in (("raw", raw), ("ringnet", rn)):
            for k in ("tcp1", "tcp4"):
                rv = ref[k]["median_gbps"] if ref and ref["status"] == "ok" else None
                v["ratio"][f"{k}_to_{ref_name}"] = ratio(v[k]["median_gbps"], rv) if v["status"] == "ok" else None
        rp = raw["ping"] if raw and raw["status"] == "ok" else None
        p = v["ping"] if v["status"] == "ok" else None
        v["rtt_added_ms"] = (p["median_ms"] - rp["median_ms"]
                             if p and rp and "median_ms" in p and "median_ms" in rp else None)


def targets(vpns):
    rn = vpns.get("ringnet")
    out = {}
    peers = {n: vpns[n]["tcp1"]["median_gbps"] for n in PEERS
             if n in vpns and vpns[n]["status"] == "ok" and vpns[n]["tcp1"]["median_gbps"] is not None}
    rn_ok = rn is not None and rn["status"] == "ok"
    if not rn_ok:
        why = "ringnet not measured" + (f" ({rn['reason']})" if rn else " (not in --only)")
        out["tcp1"] = {"met": None, "text": why}
        out["rtt"] = {"met": None, "text": why}
        return out
    g = rn["tcp1"]["median_gbps"]
    if not peers or g is None:
        out["tcp1"] = {"met": None, "text": "no peer measured in this run" if not peers else "no ringnet throughput"}
    else:
        best = max(peers, key=peers.get)
        need = TCP_RATIO * peers[best]
        out["tcp1"] = {"met": g >= need, "ringnet_gbps": g, "best_peer": best, "best_peer_gbps": peers[best],
                       "needed_gbps": need,
                       "text": f"ringnet {g:.3f} Gbit/s vs {TCP_RATIO:g} x {best} {peers[best]:.3f} = {need:.3f} Gbit/s"}
    add = rn["rtt_added_ms"]
    if add is None:
        out["rtt"] = {"met": None, "text": "raw or ringnet ping not measured"}
    else:
        out["rtt"] = {"met": add <= RTT_ADDED_MS, "added_ms": add,
                      "text": f"ringnet median {rn['ping']['median_ms']:.3f} ms = raw "
                              f"{vpns['raw']['ping']['median_ms']:.3f} ms + {add:.3f} ms (limit + {RTT_ADDED_MS} ms)"}
    return out


def f(x, fmt="{:.3f}"):
    return "–" if x is None else fmt.format(x)


def runs_cell(v, k):
    r = v["runs"][k]
    return f"**{f(v[k]['median_gbps'])}** ({', '.join(f(x['gbps']) for x in r)})"


def pair(a, b, fmt="{:.2f}"):
    return "–" if a is None and b is None else f"{f(a, fmt)} / {f(b, fmt)}"


def table(vpns):
    rows = ["| VPN | MTU | TCP 1 stream Gbit/s: median (runs) | TCP 4 streams Gbit/s: median (runs) "
            "| ratio to raw (1 / 4 str.) | ratio to ringnet (1 / 4 str.) | ping median ms | ping p99 ms "
            "| RTT added vs raw ms | daemon CPU s/s (1 / 4 str.) | CPU % per Gbit/s (1 / 4 str.) |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, v in vpns.items():
        if v["status"] != "ok":
            rows.append(f"| {name} | {v['mtu'] or '–'} | failed to start: {v['reason'].replace('|', '/')} "
                        "| | | | | | | | |")
            continue
        p = v["ping"] or {}
        ra = v["ratio"]
        rows.append(" | ".join([
            f"| {name}", v["mtu"] or "–", runs_cell(v, "tcp1"), runs_cell(v, "tcp4"),
            pair(ra["tcp1_to_raw"], ra["tcp4_to_raw"]), pair(ra["tcp1_to_ringnet"], ra["tcp4_to_ringnet"]),
            f(p.get("median_ms")), f(p.get("p99_ms")),
            "–" if name == "raw" else f(v["rtt_added_ms"], "{:+.3f}"),
            pair(v["tcp1"]["median_cpu_s_per_s"], v["tcp4"]["median_cpu_s_per_s"]),
            pair(v["tcp1"]["median_cpu_pct_per_gbps"], v["tcp4"]["median_cpu_pct_per_gbps"], "{:.0f}")]) + " |")
    return rows


def details(vpns):
    rows = ["| VPN | rounds ok / failed | first started (UTC) | load (1 min) after its runs, min–max "
            "| TCP retransmits, median (1 / 4 str.) | UDP RcvbufErrors (both ns, all runs) "
            "| pings received / sent | ping min / max ms |", "|---|---|---|---|---|---|---|---|"]
    for name, v in vpns.items():
        if v["status"] != "ok":
            continue
        p = v["ping"] or {}
        loads = [x["load1"] for k in ("tcp1", "tcp4") for x in v["runs"][k] if x["load1"] is not None]
        rows.append(f"| {name} | {v['rounds_ok']} / {v['rounds_failed']} | {v['started_utc']} | "
                    f"{f(min(loads) if loads else None, '{:.2f}')}–{f(max(loads) if loads else None, '{:.2f}')} | "
                    f"{pair(v['tcp1']['median_retransmits'], v['tcp4']['median_retransmits'], '{:.0f}')} | "
                    f"{f(v['udp_rcvbuf_errors'], '{:.0f}') if name != 'raw' else '–'} | "
                    f"{p.get('received', '–')} / {p.get('sent', '–')} | "
                    f"{f(p.get('min_ms'))} / {f(p.get('max_ms'))} |")
    return rows


def report(d, stem):
    vpns = load(d)
    add_ratios(vpns)
    tg = targets(vpns)
    machine = [l.rstrip("\n") for l in open(f"{d}/machine.txt")]
    kv = {}
    for l in machine:
        k, _, v = l.partition(": ")
        kv.setdefault(k, []).append(v)
    get = lambda k: "; ".join(kv.get(k, ["?"]))
    cmd = open(f"{d}/command.txt").read().strip()
    day = get("date_utc")[:10]
    base = os.path.basename(d)
    L = [f"# Issue 5: VPN throughput and RTT, {day}", "",
         "Made by `bench/vpn.sh`: two network namespaces joined by one veth pair, each VPN in turn "
         "between them with its documented defaults (bench/vpn/peers.sh, shared/docs/peer-bench.md); "
         "iperf3 TCP for the time below, 1 stream and 4 streams, medians of the repetitions, which are "
         "rounds: each round brings every VPN up in turn for one run of each, so that a change in the "
         "shared machine's load falls on all VPNs alike; "
         "ping with per-packet times (median and nearest-rank p99). The floor row is no VPN: "
         "bench/tun_floor forwards TUN <-> UDP with no crypto and nothing else, so its RTT is what any "
         "userspace TUN design pays on this machine. Daemon CPU: utime+stime of both "
         "daemons over each iperf3 run, per second of the run, and per Gbit/s. "
         f"Raw figures in [{base}/]({base}/): `raw.tsv` (one line per iperf3 run: VPN, test, round, "
         "Gbit/s, retransmits, daemon CPU-s, wall s, 1-minute load after it), `iperf/`, `ping/`, `status.tsv`, `results.json`, "
         "`logs/` (daemon logs and configs, secrets removed), `machine.txt`.", "",
         f"Command: `{cmd}`  ", f"Commit: {get('commit')}; ringnet binaries: {get('build')}, {get('binary')}  ",
         f"Machine: {get('nproc')} cores (nproc; the run's {get('affinity')}), {get('cpu')}, {get('mem_total')}; {get('kernel')}; {get('os')}  ",
         "Packages: " + ", ".join(get("package").split("; ")) + "  ",
         f"Settings: {get('settings')}  ",
         f"Window: {get('date_utc')} to {get('date_end_utc')}; load (1/5/15 min) {get('load_start')} at the start, "
         f"{get('load_end')} at the end.", ""]
    if "note" in kv:
        L += [f"Note: {get('note')}", ""]
    L += ["Other processes using the CPU (top, over one second) at the start: "
          + ("; ".join(f"`{x}`" for x in kv.get("top_start", [])) or "none above 0.5 %")
          + "; at the end: " + ("; ".join(f"`{x}`" for x in kv.get("top_end", [])) or "none above 0.5 %") + ".", "",
          "The two daemons and iperf3's client and server share the machine's cores: the figures are "
          "CPU-bound and noisy (±20–25 % run to run); compare them as ratios within this report.", ""]
    L += table(vpns) + [""]
    L += ["## Targets", ""]
    for key, title in (("tcp1", f"ringnet single-stream TCP >= {TCP_RATIO:g} x the best peer in the same run"),
                       ("rtt", f"ringnet median RTT <= raw + {RTT_ADDED_MS} ms")):
        t = tg[key]
        verdict = {True: "**met**", False: "**NOT met**", None: "**not measured**"}[t["met"]]
        L.append(f"- {title}: {verdict}. {t['text']}.")
    L += ["", "## Details", ""] + details(vpns) + [""]
    json.dump({"vpns": vpns, "targets": tg, "machine": kv, "command": cmd},
              open(f"{d}/results.json", "w"), indent=1)
    open(f"{stem}.md", "w").write("\n".join(L))
    print("\n".join(L))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "iperf":
        iperf(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
