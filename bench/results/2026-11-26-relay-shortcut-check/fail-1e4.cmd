ringsim -n 10000 -s 4 -l data/latency/planetlab490_median_ms.derived.txt.gz -m 1000 --fail 0.3 --fail-wait 120 --settle 60 -j fail-1e4.json   (build-lto/ringsim at c7e9fdd)
