#!/usr/bin/env bash
# vnet demo: builds vnet, then a small host in network namespaces and shows
# the fabric at work. Nothing touches the machine's own interfaces.
#
#   ext (198.18.0.100) -- [switch: Linux bridge] -- up0 (uplink, in ns "host")
#                                                     | vnet fabric
#                    c1 bridge .11   c2 bridge .12   c3 vepa .13   c4 private .14
#                                                  `- up1 (second uplink, in ns "host")
#                                                     | vnet ipvlan fabric, mode l2
#                                                    i1 .21   i2 .22  (the MAC of up1)
#
# It shows the macvlan modes behaving as macvlan's (with and without a
# hairpinning switch), then what macvlan cannot do (per-port hairpin, the host
# stack as a member), anti-spoofing and early drop, an ipvlan fabric whose
# ports share their uplink's MAC and are found by IP, and `show` and `stats`.
# Usage: scripts/demo.sh [--keep]   (--keep leaves the topology up to play with)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${VNET_BUILD_DIR:-$top/build}
keep=0
[ "${1:-}" = "--keep" ] && keep=1
if [ "$(id -u)" -ne 0 ]; then
  echo "vnet demo: needs root (BPF programs, network namespaces)" >&2
  exit 1
fi
"$top/scripts/build.sh"
vnetctl="$build/userspace/vnetctl"

p=vd$$
sw=${p}sw ext=${p}ext host=${p}host
macvlan_containers=(c1 c2 c3 c4)
containers=("${macvlan_containers[@]}" i1 i2)
modes=(bridge bridge vepa private)
fabric=demo$$ ipfabric=demoip$$
devs=()

hostctl() { nsenter --net="/run/netns/$host" "$vnetctl" "$@"; }
cleanup() {
  if [ "$keep" = 1 ]; then
    echo
    echo "topology kept: namespaces $sw $ext $host ${containers[*]/#/$p}"
    echo "  try: nsenter --net=/run/netns/$host $vnetctl show"
    echo "  remove: nsenter --net=/run/netns/$host $vnetctl down; for n in \$(ip netns list | awk '/^$p/{print \$1}'); do ip netns del \$n; done"
    return
  fi
  hostctl detach "$ipfabric" 2>/dev/null || true
  hostctl detach "$fabric" 2>/dev/null || true
  for n in "$sw" "$ext" "$host" "${containers[@]/#/$p}"; do ip netns del "$n" 2>/dev/null || true; done
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
try() {  # try LABEL EXPECT NS CMD...: run a probe and say whether it matches the mode rules
  local label=$1 expect=$2 ns=$3; shift 3
  if ip netns exec "$ns" "$@" >/dev/null 2>&1; then got=ok; else got=fails; fi
  local mark="as expected"
  [ "$got" = "$expect" ] || mark="UNEXPECTED (expected $expect)"
  printf '  %-44s %-6s %s\n' "$label" "$got" "$mark"
}

step "building the topology in namespaces ($p*)"
for n in "$sw" "$ext" "$host"; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip -n "$sw" link add br0 type bridge && ip -n "$sw" link set br0 up
ip -n "$ext" link add eth0 type veth peer name swext netns "$sw"
ip -n "$sw" link set swext master br0 up
ip -n "$ext" addr add 198.18.0.100/24 dev eth0 && ip -n "$ext" link set eth0 up
ip -n "$ext" addr add 2001:db8::100/64 dev eth0 nodad
ip -n "$host" link add up0 type veth peer name swup netns "$sw"
ip -n "$sw" link set swup master br0 up
ip -n "$host" addr add 198.18.0.1/24 dev up0 && ip -n "$host" link set up0 up

step "vnetctl attach up0 --fabric $fabric --unknown drop"
hostctl attach up0 --fabric "$fabric" --unknown drop
for i in "${!modes[@]}"; do
  c=$p${containers[$i]}
  ip netns add "$c"
  dev=$(hostctl port add --fabric "$fabric" --netns "$c" --mode "${modes[$i]}")
  devs[$i]=$dev
  ip -n "$c" addr add "198.18.0.1$((i + 1))/24" dev eth0
  echo "  port $dev -> $c eth0, mode ${modes[$i]}, 198.18.0.1$((i + 1))"
done
sleep 0.5

ping1() { echo ping -c 2 -i 0.2 -W 1 "$1"; }
step "traffic, switch without hairpin (the common case)"
try "c1 -> c2   bridge to bridge, stays local"   ok    "${p}c1" $(ping1 198.18.0.12)
try "c1 -> ext  bridge out the uplink"           ok    "${p}c1" $(ping1 198.18.0.100)
try "c3 -> c1   vepa needs a hairpinning switch" fails "${p}c3" $(ping1 198.18.0.11)
try "c3 -> ext  vepa out the uplink"             ok    "${p}c3" $(ping1 198.18.0.100)
try "c4 -> ext  private out the uplink"          ok    "${p}c4" $(ping1 198.18.0.100)
try "ext -> c4  wire to port"                    ok    "$ext"   $(ping1 198.18.0.14)
try "c1 -> host macvlan semantics: no host path"  fails "${p}c1" $(ping1 198.18.0.1)

step "the switch starts hairpinning (reflective relay)"
ip -n "$sw" link set swup type bridge_slave hairpin on
for c in "${macvlan_containers[@]/#/$p}"; do ip -n "$c" neigh flush all; done
try "c3 -> c1   vepa via the hairpin"            ok    "${p}c3" $(ping1 198.18.0.11)
try "c4 -> c1   private: never reaches siblings" fails "${p}c4" $(ping1 198.18.0.11)
try "c1 -> host via the hairpin"                 ok    "${p}c1" $(ping1 198.18.0.1)

step "vnet goes further: what macvlan cannot do (switch hairpin off again)"
ip -n "$sw" link set swup type bridge_slave hairpin off
for c in "${macvlan_containers[@]/#/$p}"; do ip -n "$c" neigh flush all; done
try "c3 -> c1   vepa, no hairpinning switch"     fails "${p}c3" $(ping1 198.18.0.11)
c3dev=${devs[2]}
echo "  vnetctl port set $c3dev --hairpin on     (vnet is c3's reflective relay)"
hostctl port set "$c3dev" --hairpin on
try "c3 -> c1   vepa through vnet's own hairpin" ok    "${p}c3" $(ping1 198.18.0.11)
try "c1 -> host still no host path"              fails "${p}c1" $(ping1 198.18.0.1)
echo "  vnetctl fabric set $fabric --host on       (the host stack joins the fabric)"
hostctl fabric set "$fabric" --host on
for n in "${p}c1" "$host"; do ip -n "$n" neigh flush all; done
try "c1 -> host with host on"                    ok    "${p}c1" $(ping1 198.18.0.1)
try "host -> c3 with host on"                    ok    "$host"  $(ping1 198.18.0.13)
try "host -> c4 private stays private"           fails "$host"  $(ping1 198.18.0.14)

step "spoofing and unknown destinations are dropped and counted"
ip netns exec "${p}c1" ip link set eth0 address 02:00:00:00:0b:ad
try "c1 with a forged MAC -> ext"                fails "${p}c1" $(ping1 198.18.0.100)
ip -n "$ext" neigh replace 198.18.0.99 lladdr 02:00:00:00:99:99 dev eth0 nud permanent
try "ext -> unknown MAC (dropped in XDP)"        fails "$ext"   $(ping1 198.18.0.99)

step "an ipvlan fabric: ports share the uplink's MAC and are found by IP"
ip -n "$host" link add up1 type veth peer name swup1 netns "$sw"
ip -n "$sw" link set swup1 master br0 up
ip -n "$host" link set up1 up
echo "  vnetctl attach up1 --fabric $ipfabric --type ipvlan --ipvlan-mode l2"
hostctl attach up1 --fabric "$ipfabric" --type ipvlan --ipvlan-mode l2
for i in 1 2; do
  c=${p}i$i
  ip netns add "$c"
  dev=$(hostctl port add --fabric "$ipfabric" --netns "$c" --ip "198.18.0.2$i/24" --ip "2001:db8::2$i/64")
  echo "  port $dev -> $c eth0, --ip 198.18.0.2$i/24 --ip 2001:db8::2$i/64"
done
sleep 2   # IPv6 duplicate address detection in the containers (vnet sends each NS to its target's owner alone)
try "i1 -> i2   bridge flag, stays local"        ok    "${p}i1" $(ping1 198.18.0.22)
try "i1 -> ext  out of up1 with up1's MAC"       ok    "${p}i1" $(ping1 198.18.0.100)
try "ext -> i2  demultiplexed by IP"             ok    "$ext"   $(ping1 198.18.0.22)
try "i1 -> i2   IPv6"                            ok    "${p}i1" $(ping1 2001:db8::22)
try "ext -> i1  IPv6"                            ok    "$ext"   $(ping1 2001:db8::21)
echo "  ext's neighbours: both ports behind up1's one MAC"
ip -n "$ext" neigh show dev eth0 | grep -E '^(198\.18\.0\.2[12]|2001:db8::2[12]) ' | sed 's/^/    /'
ip -n "${p}i1" addr add 198.18.0.29/32 dev eth0
try "i1 from an address not its own -> ext"      fails "${p}i1" ping -c 2 -i 0.2 -W 1 -I 198.18.0.29 198.18.0.100

step "a virtual machine: a QEMU guest on a vnet tap port, next to the containers"
if command -v qemu-system-x86_64 >/dev/null && command -v cpio >/dev/null; then
  echo "  vnetctl port add --fabric $fabric --tap ${p}vm --mac 02:76:6d:00:00:50 --mode bridge"
  hostctl port add --fabric "$fabric" --tap "${p}vm" --mac 02:76:6d:00:00:50 --mode bridge >/dev/null
  echo "  qemu-system-x86_64 -accel tcg ... -netdev tap,ifname=${p}vm ... (kernel and initramfs: tests/netns/vnetkit/guest.py, cached in the build tree)"
  # The guest kit boots it, runs the probes inside it over its serial console and always ends QEMU.
  VNET_GUEST_DIR="$build" /usr/bin/python3 - "$host" "${p}vm" "${p}c2" "$top/tests/netns" <<'PY'
import subprocess, sys
sys.path.insert(0, sys.argv[4])
from vnetkit import guest as gk
host, tap, c2 = sys.argv[1:4]
with gk.Guest(gk.kit(), host, "02:76:6d:00:00:50", "198.18.0.50/24", tap=tap) as g:
    g.wait_ready()
    for label, ip in (("guest -> c2   bridge container", "198.18.0.12"), ("guest -> ext  across the uplink", "198.18.0.100")):
        ok = g.run(f"ping -c 2 -W 2 {ip} >/dev/null")[0] == 0
        print(f"  {label:44} {'ok' if ok else 'fails':6} {'as expected' if ok else 'UNEXPECTED (expected ok)'}")
    ok = subprocess.run(["ip", "netns", "exec", c2, "ping", "-c", "2", "-W", "2", "198.18.0.50"],
                        capture_output=True).returncode == 0
    print(f"  {'c2 -> guest':44} {'ok' if ok else 'fails':6} {'as expected' if ok else 'UNEXPECTED (expected ok)'}")
PY
else
  echo "  (skipped: needs qemu-system-x86 and cpio, scripts/install-deps.sh)"
fi

step "vnetctl show"
hostctl show
step "vnetctl stats"
hostctl stats
