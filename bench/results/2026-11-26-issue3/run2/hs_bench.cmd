/work/main/build-hD/hs_bench -n 3000
