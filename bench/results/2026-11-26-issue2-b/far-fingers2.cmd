ringsim -n 10000 -s 1 -l data/latency/planetlab490_median_ms.derived.txt.gz -m 10000 --far fingers2 --settle 60 --crypto none
