#!/usr/bin/env bash
# Installs every Debian 12 package vnet needs to build, test, demo and benchmark.
# Idempotent; run as root. Used by the README's commands and by .ci/run.
set -euo pipefail

packages=(
  # build
  meson ninja-build pkg-config g++ clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev
  libabsl-dev libgtest-dev libgmock-dev nlohmann-json3-dev libtomlplusplus-dev
  # real clients for the namespace tests and the demo
  iproute2 iputils-ping arping ndisc6 iperf3 tcpdump ethtool python3 python3-scapy util-linux
  # the ipvlan tests: netfilter on l3s, a real DHCP server and client
  nftables conntrack dnsmasq-base isc-dhcp-client
  # systemd-analyze verify, run on the units by the test suite; a real boot
  # of vnet.service in systemd-nspawn on a debootstrapped Debian root
  systemd systemd-container debootstrap
  # the upgrade test builds the last ABI 2 vnetctl from git history
  git
  # the CNI tests: the reference plugins (host-local, macvlan for the
  # differential) and real engines running a busybox image built locally
  containernetworking-plugins podman runc conmon containerd busybox-static
  # the Docker network driver (cpp-httplib serves the plugin API) and a real
  # dockerd for its tests
  libcpp-httplib-dev docker.io
  # real QEMU guests (TCG) on vnet taps and kernel macvtap; cpio packs
  # their busybox initramfs
  qemu-system-x86 cpio
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "vnet: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Packages must not start their daemons (dockerd would put its bridge and
  # firewall rules in the host's namespace): tests start engines themselves.
  policy=/usr/sbin/policy-rc.d
  created_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && created_policy=1
  fi
  status=0
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
  [ -z "$created_policy" ] || rm -f "$policy"
  if [ "$status" -ne 0 ]; then
    echo "vnet: apt-get install failed (exit $status)" >&2
    exit "$status"
  fi
fi
