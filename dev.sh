#!/usr/bin/env bash
# ringnet developer entry point: installs what it needs, builds, runs.
#   ./dev.sh study   the simulator's default scaling study (a readable summary)
#   ./dev.sh test    every test, built with ASan+UBSan and -Werror (what CI runs)
#   ./dev.sh build   a release build in build/ (ringsim in build/ringsim)
#   ./dev.sh demo    the VPN in network namespaces: 5 members, 4 behind NAT, ping all pairs
# Works on a fresh Debian 12 machine as root; installs missing Debian packages.
set -euo pipefail
cd "$(dirname "$0")"

PKGS=(gcc cmake ninja-build pkg-config python3 libsodium-dev libmsgpack-dev
      libuv1-dev libnatpmp-dev libminiupnpc-dev libcmocka-dev libjansson-dev
      libinih-dev zlib1g-dev)
# The network-namespace tests and the demo (tests/netns/): ip, nft, ping,
# iperf3, and miniupnpd for the routers that are UPnP/NAT-PMP gateways.
NETNS_PKGS=(iproute2 nftables iputils-ping iperf3 miniupnpd-nftables)

need_pkgs() { # extra packages...
  local missing=()
  for p in "${PKGS[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "dev.sh: installing ${missing[*]}" >&2
    if [ "$(id -u)" -ne 0 ]; then
      echo "dev.sh: missing packages and not root: apt-get install ${missing[*]}" >&2
      exit 2
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

build() { # dir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  ninja -C "$dir"
}

case "${1:-}" in
  study)
    need_pkgs
    build build -DCMAKE_BUILD_TYPE=Release -DRN_TESTS=OFF
    shift
    exec bench/study.sh build/ringsim "$@"
    ;;
  test)
    need_pkgs "${NETNS_PKGS[@]}"
    build build-ci -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRN_SANITIZE=ON -DRN_WERROR=ON
    shift
    exec ctest --test-dir build-ci --output-on-failure -j2 "$@"
    ;;
  build)
    need_pkgs
    build build -DCMAKE_BUILD_TYPE=Release
    ;;
  demo)
    if [ "$(id -u)" -ne 0 ]; then
      echo "dev.sh demo: run it as root (it makes network namespaces and TUN devices)" >&2
      exit 2
    fi
    need_pkgs "${NETNS_PKGS[@]}"
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    ninja -C build ringnetd ringnet
    exec bash tests/netns/demo.sh build/ringnetd build/ringnet
    ;;
  *)
    sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
