ringsim -n 100000 -s 5 -l data/latency/planetlab490_median_ms.derived.txt.gz -m 100000 --lookup-rate 20000 --join-rate 1000 --bootstrap 0 --settle 60 --crypto none
