#!/usr/bin/env bash
# measure-paths.sh: wire->port and port->port numbers for vnet's two wire->port
# unicast paths and for kernel macvlan (bridge mode), measured in one run.
#
# Topology, built from scratch for every system (all in namespaces named
# vm-<pid>-*; nothing in the root namespace is touched):
#
#   ns EXT  eth0 198.18.0.100 ──┐
#                               │ veth
#   ns SW   br0 (Linux bridge) ─┴── swext, swup      "external switch"
#                                          │ veth
#   ns HOST up0 (the uplink) ──────────────┘
#             ├─ system vnet-xdp : vnetctl attach up0 --xdp-redirect on (XDP devmap
#             │                    redirect wire->port; explicit: off is the default on a veth)
#             ├─ system vnet-tc  : vnetctl attach up0 --xdp-redirect off (tc bpf_redirect)
#             └─ system macvlan  : two macvlan children of up0, mode bridge
#   ns C1   eth0 198.18.0.11     (vnet: port add --netns C1 --mode bridge; macvlan: child)
#   ns C2   eth0 198.18.0.12
#
# Tests (each repeated --reps times, median reported):
#   tcp_p2p   iperf3 -t 5, C1 -> C2, Gbit/s (receiver)
#   tcp_e2p   iperf3 -t 5, EXT -> C1, Gbit/s (receiver)
#   udp_e2p   iperf3 -u -l 18 -b 0 -t 5, EXT -> C1: packets/s received and loss %
#   ping_p2p  ping -c 200 -i 0.01 C1 -> C2, average RTT in ms
# Systems are interleaved per repetition. EXT sends with tx checksum offload off
# (complete checksums, as on a real wire); afterwards one 3 s TCP EXT -> C1 probe
# per system runs with it on (CHECKSUM_PARTIAL skbs reach the uplink), reported
# apart from the medians with C1's TcpInCsumErrors.
#
# usage: scripts/measure-paths.sh [--json FILE] [--reps N] [--systems LIST] [--vnetctl PATH]
#        LIST is a comma-separated subset of vnet-xdp,vnet-tc,macvlan (default all);
#        PATH defaults to build/userspace/vnetctl ($VNETCTL overrides it too). The
#        binary is copied at start, so a rebuild during the run cannot mix versions.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VNETCTL=${VNETCTL:-$ROOT/build/userspace/vnetctl}
JSON_OUT=""
REPS=3
SYSTEMS="vnet-xdp,vnet-tc,macvlan"
DURATION=5
COMMAND="scripts/measure-paths.sh${*:+ $*}"

while (($#)); do
  case "$1" in
    --json) JSON_OUT=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --systems) SYSTEMS=$2; shift 2 ;;
    --vnetctl) VNETCTL=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "measure-paths: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[[ $REPS =~ ^[1-9][0-9]*$ ]] || { echo "measure-paths: --reps wants a positive integer" >&2; exit 2; }
((EUID == 0)) || { echo "measure-paths: run as root" >&2; exit 1; }
for tool in iperf3 jq ping nsenter ip ethtool nstat ss timeout column; do
  command -v "$tool" >/dev/null || { echo "measure-paths: $tool is missing" >&2; exit 1; }
done
[[ -x $VNETCTL ]] || { echo "measure-paths: $VNETCTL not built (ninja -C build)" >&2; exit 1; }

P="vm-$$-"
IP_C1=198.18.0.11 IP_C2=198.18.0.12 IP_EXT=198.18.0.100
WORK=$(mktemp -d /tmp/measure-paths.XXXXXX)
declare -a SERVER_PIDFILES=()
# One vnetctl for the whole run (attach and detach must agree on the pin layout).
cp "$VNETCTL" "$WORK/vnetctl" || { rm -rf "$WORK"; exit 1; }
VNETCTL_SHA256=$(sha256sum "$WORK/vnetctl" | cut -d' ' -f1)
VNETCTL_SRC=$VNETCTL
VNETCTL=$WORK/vnetctl

log() { printf '[%3ds] %s\n' "$SECONDS" "$*" >&2; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# vnetctl must see /sys/fs/bpf: nsenter, never `ip netns exec`.
vnetctl_in() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$VNETCTL" "$@"; }

# Every system gets its own five namespaces, so all of them exist at once and
# the repetitions can be interleaved (system A, B, C, A, B, C, ...): a burst of
# load from elsewhere on the machine then hurts every system alike.
tag_of() { case "$1" in vnet-xdp) echo x ;; vnet-tc) echo t ;; macvlan) echo m ;; *) return 1 ;; esac; }
ns_of() { echo "${P}$(tag_of "$1")-$2"; }   # system role -> namespace name
fabric_of() { echo "${P}$(tag_of "$1")"; }

stop_servers() {
  local f pid
  for f in "${SERVER_PIDFILES[@]}"; do
    [[ -s $f ]] || continue
    pid=$(<"$f")
    # Only our own daemon: check it is an iperf3 before killing it by pid.
    if [[ $pid =~ ^[0-9]+$ ]] && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == iperf3 ]]; then
      kill "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
  SERVER_PIDFILES=()
}

teardown_system() {
  local system=$1 host fabric ns role
  host=$(ns_of "$system" host)
  fabric=$(fabric_of "$system")
  if [[ $system == vnet-* && -e /run/netns/$host && -d /sys/fs/bpf/vnet/$fabric ]]; then
    if ! vnetctl_in "$host" detach "$fabric" >"$WORK/detach.err" 2>&1; then
      log "warning: vnetctl detach $fabric failed: $(tr '\n' ' ' <"$WORK/detach.err")"
    fi
  fi
  for role in c1 c2 ext host sw; do
    ns=$(ns_of "$system" "$role")
    if [[ -e /run/netns/$ns ]]; then ip netns del "$ns" 2>/dev/null || true; fi
  done
  # Last resort: a fabric whose netns vanished can no longer be detached by name.
  if [[ $system == vnet-* && -d /sys/fs/bpf/vnet/$fabric ]]; then
    log "warning: removing leftover pins of $fabric by hand"
    rm -rf "/sys/fs/bpf/vnet/$fabric"
  fi
}

cleanup() {
  local rc=$? system
  trap - EXIT INT TERM
  stop_servers
  for system in vnet-xdp vnet-tc macvlan; do teardown_system "$system"; done
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build_system() {
  local system=$1 role ns i=0
  local sw host c1 c2 ext
  sw=$(ns_of "$system" sw) host=$(ns_of "$system" host)
  c1=$(ns_of "$system" c1) c2=$(ns_of "$system" c2) ext=$(ns_of "$system" ext)
  for ns in "$sw" "$host" "$c1" "$c2" "$ext"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
  ip -n "$sw" link add br0 type bridge
  ip -n "$sw" link set br0 up
  ip -n "$host" link add up0 type veth peer name swup netns "$sw"
  ip -n "$ext" link add eth0 type veth peer name swext netns "$sw"
  ip -n "$sw" link set swup master br0 up
  ip -n "$sw" link set swext master br0 up
  ip -n "$host" link set up0 up
  ip -n "$ext" addr add "$IP_EXT/24" dev eth0
  ip -n "$ext" link set eth0 up
  # The external host stands for a machine on a real wire: its frames carry
  # complete checksums. A veth with tx checksum offload would hand the uplink
  # CHECKSUM_PARTIAL skbs instead (see the csum probe at the end).
  in_ns "$ext" ethtool -K eth0 tx off >/dev/null
  case "$system" in
    vnet-xdp|vnet-tc)
      local redirect=on fabric
      fabric=$(fabric_of "$system")
      [[ $system == vnet-tc ]] && redirect=off
      vnetctl_in "$host" attach up0 --fabric "$fabric" --xdp-redirect "$redirect" >&2
      for ns in "$c1" "$c2"; do
        vnetctl_in "$host" port add --fabric "$fabric" --netns "$ns" --mode bridge >/dev/null
      done
      ;;
    macvlan)
      for ns in "$c1" "$c2"; do
        i=$((i + 1))
        ip -n "$host" link add link up0 name "m$i" type macvlan mode bridge
        ip -n "$host" link set "m$i" netns "$ns"
        ip -n "$ns" link set "m$i" name eth0
        ip -n "$ns" link set eth0 up
      done
      ;;
  esac
  ip -n "$c1" addr add "$IP_C1/24" dev eth0
  ip -n "$c2" addr add "$IP_C2/24" dev eth0
  wait_reachable "$c1" "$IP_C2"
  wait_reachable "$ext" "$IP_C1"
  start_server "$c1" "$IP_C1"
  start_server "$c2" "$IP_C2"
}

wait_reachable() {
  local ns=$1 ip=$2 try
  for try in $(seq 1 20); do
    in_ns "$ns" ping -c 1 -W 1 -q "$ip" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "measure-paths: $ip unreachable from $ns" >&2
  return 1
}

start_server() {
  local ns=$1 ip=$2 pidfile="$WORK/iperf3-$1.pid" try
  SERVER_PIDFILES+=("$pidfile")
  in_ns "$ns" iperf3 -s -D -B "$ip" -I "$pidfile" >/dev/null
  for try in $(seq 1 50); do
    [[ -s $pidfile && -n $(in_ns "$ns" ss -Hltn "sport = :5201") ]] && return 0
    sleep 0.1
  done
  echo "measure-paths: iperf3 server in $ns did not start" >&2
  return 1
}

# A client that failed or hung can leave its server mid-test ("busy"):
# start a fresh one on the same address.
restart_server() {
  local ns=$1 ip=$2 pidfile="$WORK/iperf3-$1.pid" pid
  if [[ -s $pidfile ]]; then
    pid=$(<"$pidfile")
    if [[ $pid =~ ^[0-9]+$ ]] && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == iperf3 ]]; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 30); do [[ -e /proc/$pid ]] || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
  fi
  in_ns "$ns" iperf3 -s -D -B "$ip" -I "$pidfile" >/dev/null
  for _ in $(seq 1 50); do
    [[ -s $pidfile && -n $(in_ns "$ns" ss -Hltn "sport = :5201") ]] && return 0
    sleep 0.1
  done
}

# iperf3 waits forever on a connection that stopped moving: bound it.
iperf_client() { # ns dst seconds out args...
  local ns=$1 dst=$2 secs=$3 out=$4 srv_ns=$5; shift 5
  if timeout -k 2 $((secs + 8)) ip netns exec "$ns" iperf3 -c "$dst" -t "$secs" -J "$@" >"$out" 2>/dev/null; then
    return 0
  fi
  restart_server "$srv_ns" "$dst"
  return 1
}

# Each test prints one JSON object on stdout; null fields on failure.
test_tcp() { # client_ns dst server_ns [seconds]
  local out="$WORK/tcp.json"
  if iperf_client "$1" "$2" "${4:-$DURATION}" "$out" "$3"; then
    jq -c '{gbps: (.end.sum_received.bits_per_second / 1e9),
            retransmits: .end.sum_sent.retransmits}' "$out" 2>/dev/null ||
      echo '{"gbps": null, "retransmits": null}'
  else
    echo '{"gbps": null, "retransmits": null}'
  fi
}

test_udp() { # client_ns dst server_ns
  local out="$WORK/udp.json"
  if iperf_client "$1" "$2" "$DURATION" "$out" "$3" -u -l 18 -b 0; then
    # sum_received is the server's (receiver's) view: datagrams it expected,
    # datagrams missing, over its own measurement interval.
    jq -c '.end.sum_received as $r | .end.sum_sent as $s |
           {rx_pps: (($r.packets - $r.lost_packets) / $r.seconds),
            tx_pps: ($s.packets / $s.seconds),
            loss_pct: $r.lost_percent}' "$out" 2>/dev/null ||
      echo '{"rx_pps": null, "tx_pps": null, "loss_pct": null}'
  else
    echo '{"rx_pps": null, "tx_pps": null, "loss_pct": null}'
  fi
}

test_ping() { # ns dst
  local line
  line=$(in_ns "$1" ping -c 200 -i 0.01 -q "$2" 2>/dev/null | grep -E '^(rtt|round-trip)' || true)
  if [[ -n $line ]]; then
    # rtt min/avg/max/mdev = a/b/c/d ms
    awk -F'[ /]+' '{printf "{\"avg_ms\": %s, \"min_ms\": %s, \"max_ms\": %s}\n", $8, $7, $9}' <<<"$line"
  else
    echo '{"avg_ms": null, "min_ms": null, "max_ms": null}'
  fi
}

RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
record() { # system test rep json
  jq -c --arg s "$1" --arg t "$2" --argjson r "$3" '. + {system: $s, test: $t, rep: $r}' <<<"$4" >>"$RESULTS"
}

KERNEL=$(uname -r)
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
IFS=, read -r -a SYSTEM_LIST <<<"$SYSTEMS"
for system in "${SYSTEM_LIST[@]}"; do
  tag_of "$system" >/dev/null || { echo "measure-paths: unknown system '$system'" >&2; exit 2; }
done

for system in "${SYSTEM_LIST[@]}"; do
  log "$system: building topology"
  build_system "$system"
  [[ $system == vnet-* ]] && vnetctl_in "$(ns_of "$system" host)" show >&2
done

for rep in $(seq 1 "$REPS"); do
  for system in "${SYSTEM_LIST[@]}"; do
    log "rep $rep/$REPS: $system"
    c1=$(ns_of "$system" c1) c2=$(ns_of "$system" c2) ext=$(ns_of "$system" ext)
    record "$system" tcp_p2p "$rep" "$(test_tcp "$c1" "$IP_C2" "$c2")"
    record "$system" tcp_e2p "$rep" "$(test_tcp "$ext" "$IP_C1" "$c1")"
    record "$system" udp_e2p "$rep" "$(test_udp "$ext" "$IP_C1" "$c1")"
    record "$system" ping_p2p "$rep" "$(test_ping "$c1" "$IP_C2")"
  done
done

# Correctness probe, once per system, not part of the medians: the external
# host with tx checksum offload on (a veth's default), so the uplink receives
# CHECKSUM_PARTIAL skbs whose TCP checksum field is not filled in yet.
for system in "${SYSTEM_LIST[@]}"; do
  c1=$(ns_of "$system" c1) ext=$(ns_of "$system" ext)
  log "csum probe: $system"
  in_ns "$ext" ethtool -K eth0 tx on >/dev/null
  before=$(in_ns "$c1" nstat -az TcpInCsumErrors | awk '/TcpInCsumErrors/ {print $2}')
  probe=$(test_tcp "$ext" "$IP_C1" "$c1" 3)
  after=$(in_ns "$c1" nstat -az TcpInCsumErrors | awk '/TcpInCsumErrors/ {print $2}')
  record "$system" csum_probe 1 "$(jq -c --argjson e "$((after - before))" '. + {tcp_in_csum_errors: $e}' <<<"$probe")"
done

for system in "${SYSTEM_LIST[@]}"; do
  if [[ $system == vnet-* ]]; then
    vnetctl_in "$(ns_of "$system" host)" stats 2>&1 | sed "s/^/  [$system stats] /" >&2 || true
  fi
done
stop_servers
for system in "${SYSTEM_LIST[@]}"; do log "$system: tearing down"; teardown_system "$system"; done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# Medians per system and metric, and the document.
ORDER=$(printf '%s\n' "${SYSTEM_LIST[@]}" | jq -R . | jq -sc .)
DOC=$(jq -s --arg kernel "$KERNEL" --arg date "$DATE" --arg command "$COMMAND" \
  --arg load_before "$LOAD_BEFORE" --arg load_after "$LOAD_AFTER" --argjson order "$ORDER" \
  --argjson reps "$REPS" --argjson duration "$DURATION" --arg cpus "$(nproc)" \
  --arg vnetctl "$VNETCTL_SRC" --arg vnetctl_sha "$VNETCTL_SHA256" '
  def median: map(select(. != null)) | sort |
    if length == 0 then null
    elif length % 2 == 1 then .[length / 2 | floor]
    else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def metrics: {tcp_p2p: ["gbps", "retransmits"], tcp_e2p: ["gbps", "retransmits"],
                udp_e2p: ["rx_pps", "tx_pps", "loss_pct"], ping_p2p: ["avg_ms"]};
  . as $all |
  {kernel: $kernel, date: $date, command: $command, cpus: ($cpus | tonumber),
   vnetctl: $vnetctl, vnetctl_sha256: $vnetctl_sha,
   loadavg_before: $load_before, loadavg_after: $load_after,
   reps: $reps, iperf3_seconds: $duration,
   systems: ($order | map(. as $sys | ($all | map(select(.system == $sys))) as $rows | {key: $sys, value:
     ((metrics | with_entries(.key as $t | .value |= (map(. as $m |
        {key: $m, value: {median: ($rows | map(select(.test == $t) | .[$m]) | median),
                          runs: ($rows | map(select(.test == $t) | .[$m]))}}) | from_entries)))
      + {csum_offload_probe: ($rows | map(select(.test == "csum_probe")) | first
                                    | if . == null then null else {tcp_gbps: .gbps, tcp_in_csum_errors} end)})})
     | from_entries)}' "$RESULTS")

if [[ -n $JSON_OUT ]]; then
  printf '%s\n' "$DOC" >"$JSON_OUT"
fi

jq -r '"kernel \(.kernel), \(.cpus) CPUs, \(.date), median of \(.reps) runs, iperf3 -t \(.iperf3_seconds)",
       "load average before/after: \(.loadavg_before) / \(.loadavg_after)", ""' <<<"$DOC"
jq -r '
  def f(n): if . == null then "n/a" else (. * n | round) / n | tostring end;
  (["system", "tcp_C1->C2_Gbit/s", "tcp_EXT->C1_Gbit/s", "udp_EXT->C1_rx_pps", "udp_loss_%", "ping_C1->C2_avg_ms"]
   | @tsv),
  (.systems | to_entries[] | [.key,
     (.value.tcp_p2p.gbps.median | f(100)),
     (.value.tcp_e2p.gbps.median | f(100)),
     (.value.udp_e2p.rx_pps.median | f(1)),
     (.value.udp_e2p.loss_pct.median | f(10)),
     (.value.ping_p2p.avg_ms.median | f(1000))] | @tsv)
' <<<"$DOC" | column -t -s $'\t'
echo
echo "csum probe (EXT tx checksum offload on, one 3 s TCP run EXT->C1, not in the medians):"
jq -r '
  def f(n): if . == null then "stalled" else (. * n | round) / n | tostring end;
  (["system", "tcp_Gbit/s", "TcpInCsumErrors_in_C1"] | @tsv),
  (.systems | to_entries[] | select(.value.csum_offload_probe != null) |
   [.key, (.value.csum_offload_probe.tcp_gbps | f(100)), .value.csum_offload_probe.tcp_in_csum_errors] | @tsv)
' <<<"$DOC" | column -t -s $'\t'
log "done in ${SECONDS}s"
