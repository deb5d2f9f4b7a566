ringsim -n 10000 -s 14 -l data/latency/planetlab490_median_ms.derived.txt.gz -m 1000 --settle 60 --dht --dht-claims 1000 --crypto none   (build-lto/ringsim at 224a96c)
