ringsim -n 10000 -s 7 -l data/latency/planetlab490_median_ms.derived.txt.gz -m 1000 --partition 0.5 --partition-time 300 --partition-wait 900 --settle 60 --crypto none
