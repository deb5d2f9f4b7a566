ringsim -n 1000000 -s 6 -l data/latency/planetlab490_median_ms.derived.txt.gz -m 1000000 --lookup-rate 100000 --join-rate 10000 --bootstrap 0 --settle 60 (commit 587e5b2, build-scale Release)
