ringnetd x12 on 127.0.0.1:33044-33055; n1 alone, n2 -> n1, n3..n12 -> n1,n2 (tests/daemon/ring12.sh)
ring consistent after 0.5 s; warm-up 60 s; window 600 s sampled every 60 s
ring consistent at the end
