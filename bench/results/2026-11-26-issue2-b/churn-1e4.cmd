ringsim -n 10000 -s 3 -l data/latency/planetlab490_median_ms.derived.txt.gz -m 20000 --churn weibull:0.5:900 --churn-time 3600 --settle 60 --crypto none
