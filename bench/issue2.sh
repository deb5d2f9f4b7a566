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
. bench/lib.sh
ringsim_run far-fingers2 -n 10000 -s 1 -l $LAT -m 10000 --far fingers2 --settle 60
ringsim_run far-fingers1 -n 10000 -s 1 -l $LAT -m 10000 --far fingers1 --settle 60
ringsim_run far-symphony -n 10000 -s 1 -l $LAT -m 10000 --far symphony --settle 60
ringsim_run joins-1e4    -n 10000 -s 2 -l $LAT -m 10000 --join-rate 100 --bootstrap 8 --settle 60 --idle 300
ringsim_run churn-1e4    -n 10000 -s 3 -l $LAT -m 20000 --churn weibull:0.5:900 --churn-time 3600 --settle 60
ringsim_run fail-1e4     -n 10000 -s 4 -l $LAT -m 1000 --fail 0.3 --fail-wait 120 --restart --settle 60
ringsim_run partition-1e4 -n 10000 -s 7 -l $LAT -m 1000 --partition 0.5 --partition-time 300 --partition-wait 900 --settle 60
ringsim_run scale-1e5    -n 100000 -s 5 -l $LAT -m 100000 --lookup-rate 20000 --join-rate 1000 --bootstrap 0 --settle 60
if [ $MILLION = 1 ]; then
  ringsim_run scale-1e6  -n 1000000 -s 6 -l $LAT -m 1000000 --lookup-rate 100000 --join-rate 20000 --bootstrap 0 --settle 60
fi
python3 bench/report.py "$OUT" "$DAY"
