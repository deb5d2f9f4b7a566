ringsim -n 10000 -s 2 -l data/latency/planetlab490_median_ms.derived.txt.gz -m 10000 --join-rate 100 --bootstrap 8 --settle 60 --idle 300 --crypto none
