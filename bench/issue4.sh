#!/usr/bin/env bash
# The DHT's measurements (issue 4), recorded in bench/results/.
#   bench/issue4.sh [--day] [RINGSIM]
# Runs, each one ringsim invocation with its JSON kept beside the report:
#   fail-rR-sS  10^4 nodes, 30% crash at once, R replicas, seed S: records
#               left without a surviving copy (chooses r), and get latency
#               on the stable ring over the PlanetLab latencies
#   claims-1e4  10^4 nodes, 1000 members claim a /16 address at once
#   churn-1e4   with --day: 10^4 nodes, Weibull sessions (shape 0.5,
#               median 15 min) for 24 simulated hours, owners refreshing
#               their records (about an hour of wall time)
# All with --crypto none: the DHT's own behaviour (records unsigned); the
# signatures are exercised by the unit tests and the daemon test.
set -euo pipefail
cd "$(dirname "$0")/.."
DAY_RUN=0
if [ "${1:-}" = --day ]; then DAY_RUN=1; shift; fi
SIM=${1:-build/ringsim}
LAT=data/latency/planetlab490_median_ms.derived.txt.gz
DAY=$(date -u +%Y-%m-%d)
OUT=bench/results/$DAY-issue4
mkdir -p "$OUT"
. bench/lib.sh
for r in 3 4 6 8 9 10 12; do
  for seed in 11 12 13; do
    ringsim_run fail-r$r-s$seed -n 10000 -s $seed -l $LAT -m 1000 --settle 60 \
      --dht --dht-replicas $r --dht-gets 10000 --fail 0.3 --fail-wait 120
  done
done
R=${R:-12} # the default, chosen from the fail runs
ringsim_run claims-1e4 -n 10000 -s 14 -l $LAT -m 1000 --settle 60 \
  --dht --dht-replicas $R --dht-claims 1000
if [ $DAY_RUN = 1 ]; then
  ringsim_run churn-1e4 -n 10000 -s 15 -l $LAT -m 10000 --settle 60 \
    --churn weibull:0.5:900 --churn-time 86400 \
    --dht --dht-replicas $R --dht-gets 100000 --dht-ttl 3600
fi
