ringsim -n 10000 -s 13 -l data/latency/planetlab490_median_ms.derived.txt.gz -m 1000 --settle 60 --dht --dht-replicas 10 --dht-gets 10000 --fail 0.3 --fail-wait 120 --crypto none   (a362ce0)
