/tmp/hD-build-head/hs_bench -n 3000
