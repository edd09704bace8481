#!/usr/bin/env python3
"""Traffic through a vnet fabric (standard topology, bridge mode, no hairpin).

Checks, in order, on one topology (each reported on its own; all run):
  persist   nothing of vnet runs once vnetctl has exited, yet c1->c2 and
            ext->c1 still work, and a fresh `vnetctl -j show` describes the
            fabric: uplink, and each container's port with its mode and MAC;
  iperf3    TCP c1->c2 (port<->port), c1->ext and ext->c1 (port<->wire)
            complete with bytes received and no error, carried by vnet (the
            port counters grew by at least that much); Gbit/s printed only;
  counters  N pings c1->c2 raise rx_packets of c1's port and tx_packets of
            c2's port by >= N (and the reverse for the replies);
  spoof     5 frames from c1 with a forged source MAC never reach c2 and
            raise drops.spoofed_src of c1's port by exactly 5, while 5 genuine
            frames sent alongside do reach c2 (the capture itself works);
  vlan-frames  802.1Q frames (sent raw with scapy) from c1 and from ext,
            unicast and broadcast, reach exactly the endpoints bridge mode
            delivers them to (demux by MAC), still tagged 100;
  vlan-ping eth0.100 in c1, c2 and ext ping each other and the frames reach
            the VLAN devices (skipped where the kernel has no CONFIG_VLAN_8021Q);
  wire-offload  TCP ext -> c1 with ext's tx checksum offload on (a veth
            uplink defaults to the tc path, which keeps pending checksums);
  detach    `vnetctl detach` removes the pins, the XDP and tcx programs on
            up0, the veth pairs it created and every bpf link it owned;
  xdp-path  a fresh fabric with --xdp-redirect on: ping, TCP and a tagged
            frame from ext (as from a real wire) go through XDP_REDIRECT.
Exit 0 pass, 1 fail, 77 skip (not root).
"""
import json
import os
import re
import time

import vnetkit as vk

IPERF_SECONDS = 3
PINGS = 20
FORGED_MAC = "02:00:5e:10:00:99"
VLAN_NET = "198.19.100"
VLAN_HOSTS = {"c1": 11, "c2": 12, "ext": 100}
TEST_ETHERTYPE = "0x88b5"  # IEEE 802 local experimental: nothing else sends it

SEND_FRAMES = r"""
import json, sys
from scapy.all import Dot1Q, Ether, Raw, sendp
frames = []
for src, dst, vlan, count in json.loads(sys.argv[1]):
    for i in range(count):
        if vlan is None:
            frames.append(Ether(src=src, dst=dst, type=0x88b5) / Raw(b"vnet-test-%d" % i))
        else:
            frames.append(Ether(src=src, dst=dst) / Dot1Q(vlan=vlan, type=0x88b5) / Raw(b"vnet-test-%d" % i))
sendp(frames, iface="eth0", verbose=False)
"""


def counters(topo, ports):
    return {role: vk.port_stats(topo, port["name"]) for role, port in ports.items()}


# -- persist -------------------------------------------------------------------
def check_persist(topo, fabric, eps):
    left = vk.vnetctl_pids_in(topo.host)
    assert not left, f"vnetctl still running in {topo.host}: pids {left}"
    assert vk.ping(topo, "c1", eps["c2"][2]), "c1 -> c2 fails with no vnetctl running"
    assert vk.ping(topo, "ext", eps["c1"][2]), "ext -> c1 fails with no vnetctl running"
    doc = vk.fabric_doc(topo, fabric)
    up0 = vk.link_json(topo, "host", "up0")
    assert doc["uplink"] == "up0", f"show: uplink {doc['uplink']}, want up0"
    assert doc["uplink_ifindex"] == up0["ifindex"], \
        f"show: uplink_ifindex {doc['uplink_ifindex']}, up0 is {up0['ifindex']}"
    assert doc["uplink_mac"].lower() == up0["address"].lower(), \
        f"show: uplink_mac {doc['uplink_mac']}, up0 has {up0['address']}"
    assert len(doc["ports"]) == 3, f"show: {len(doc['ports'])} ports, want 3: {doc['ports']}"
    for role, port in vk.container_ports(topo, fabric).items():
        assert port["mode"] == "bridge", f"show: {role}'s port {port['name']} mode {port['mode']}, want bridge"
        assert port["up"], f"show: {role}'s port {port['name']} is not up"
        print(f"  {role}: port {port['name']} mac {port['mac']} mode {port['mode']} flags {port['flags']}")


# -- iperf3 --------------------------------------------------------------------
def iperf(topo, server, server_ip, client, seconds=IPERF_SECONDS):
    """One TCP iperf3 run client -> server; returns the parsed client JSON."""
    doc, why = vk.iperf(topo, client, server, server_ip, seconds, connect_timeout_ms=3000)
    assert doc, f"iperf3 {client}->{server}: {why}"
    return doc


def check_iperf(topo, fabric, eps):
    ports = vk.container_ports(topo, fabric)
    # (client, server, the port whose counter must carry the bytes, which counter)
    runs = [("c1", "c2", "c2", "tx_bytes"), ("c1", "ext", "c1", "rx_bytes"), ("ext", "c1", "c1", "tx_bytes")]
    bad = []
    for client, server, port_role, counter in runs:
        before = vk.port_stats(topo, ports[port_role]["name"])[counter]
        doc = iperf(topo, server, eps[server][2], client)
        received = doc["end"]["sum_received"]["bytes"]
        gbps = doc["end"]["sum_received"]["bits_per_second"] / 1e9
        carried = vk.port_stats(topo, ports[port_role]["name"])[counter] - before
        print(f"  iperf3 TCP {client} -> {server}: {received} bytes in {IPERF_SECONDS}s, {gbps:.2f} Gbit/s "
              f"(vnet {port_role} port {counter} +{carried})")
        if received <= 0:
            bad.append(f"{client}->{server}: nothing received")
        if carried < received:
            bad.append(f"{client}->{server}: {port_role}'s port {counter} grew by {carried} < {received} received")
    assert not bad, "; ".join(bad)


# -- counters and spoofing -----------------------------------------------------------
def check_counters(topo, fabric, eps):
    ports = vk.container_ports(topo, fabric)
    pair = {"c1": ports["c1"], "c2": ports["c2"]}
    before = counters(topo, pair)
    assert vk.ping_all(topo, "c1", eps["c2"][2], PINGS), f"{PINGS} pings c1 -> c2 not all answered"
    after = counters(topo, pair)
    delta = {(r, k): after[r][k] - before[r][k] for r in pair for k in ("rx_packets", "tx_packets")}
    print(f"  after {PINGS} pings c1->c2: " + ", ".join(f"{r} {k} +{v}" for (r, k), v in delta.items()))
    print(f"  absolute: c1 rx_packets {after['c1']['rx_packets']}, c2 tx_packets {after['c2']['tx_packets']}")
    for key in (("c1", "rx_packets"), ("c2", "tx_packets"), ("c2", "rx_packets"), ("c1", "tx_packets")):
        assert delta[key] >= PINGS, f"{key[0]}'s port {key[1]} grew by {delta[key]} < {PINGS}"
    assert after["c1"]["rx_packets"] >= PINGS and after["c2"]["tx_packets"] >= PINGS, "absolute counters < N"


def send_frames(topo, role, frames):
    """Sends raw frames from role's eth0 with scapy: frames = [(src, dst, vlan
    or None, count)], each of ethertype TEST_ETHERTYPE."""
    topo.exec(role, "/usr/bin/python3", "-c", SEND_FRAMES, json.dumps(frames))


def check_spoof(topo, fabric, eps):
    ports = vk.container_ports(topo, fabric)
    real, dst = vk.mac_of(topo, "c1"), vk.mac_of(topo, "c2")
    before = vk.port_stats(topo, ports["c1"]["name"])["drops"]["spoofed_src"]
    # Genuine frames alongside the forged ones show the capture would have seen them.
    seen = vk.capture_during(topo, ["c2"], TEST_ETHERTYPE,
                             lambda: send_frames(topo, "c1", [(FORGED_MAC, dst, None, 5), (real, dst, None, 5)]))["c2"]
    after = vk.port_stats(topo, ports["c1"]["name"])["drops"]["spoofed_src"]
    forged_seen = sum(1 for src, _, _ in seen if src == FORGED_MAC)
    genuine_seen = sum(1 for src, _, _ in seen if src == real)
    print(f"  c2 captured {genuine_seen} genuine and {forged_seen} forged frames; "
          f"c1 drops.spoofed_src {after} (+{after - before})")
    assert genuine_seen == 5, f"c2 captured {genuine_seen} of 5 genuine frames: the capture or delivery is broken"
    assert forged_seen == 0, f"c2 received {forged_seen} frames with the forged source {FORGED_MAC}"
    assert after - before == 5 and after == 5, f"c1's port drops.spoofed_src is {after} (+{after - before}), want 5"


# -- 802.1Q --------------------------------------------------------------------------
def check_vlan_frames(topo, fabric, eps):
    """Tagged frames sent raw (this needs no 802.1Q support in the kernel):
    each flow reaches exactly the endpoints macvlan bridge mode delivers it
    to, still tagged 100."""
    mac = {role: vk.mac_of(topo, role) for role in ("c1", "c2", "c3", "ext")}
    bcast = "ff:ff:ff:ff:ff:ff"
    # flow (sender, src, dst) -> the endpoints that must receive it
    flows = {
        ("c1", mac["c1"], mac["c2"]): {"c2"},               # port -> bridge sibling, never the wire
        ("c1", mac["c1"], mac["ext"]): {"ext"},             # port -> wire
        ("c1", mac["c1"], bcast): {"c2", "c3", "ext"},      # bridge siblings and the wire
        ("ext", mac["ext"], mac["c1"]): {"c1"},             # wire -> port, demuxed by MAC
        ("ext", mac["ext"], bcast): {"c1", "c2", "c3"},     # wire -> every port
    }
    roles = ["c1", "c2", "c3", "ext"]

    def send():
        for sender in ("c1", "ext"):
            send_frames(topo, sender, [(src, dst, 100, 5) for s, src, dst in flows if s == sender])

    seen = vk.capture_during(topo, roles, TEST_ETHERTYPE, send)
    bad = []
    for (sender, src, dst), receivers in flows.items():
        got = {role: [v for s, d, v in seen[role] if (s, d) == (src, dst)] for role in roles if role != sender}
        print(f"  vlan 100 {sender} -> {'broadcast' if dst == bcast else [r for r in mac if mac[r] == dst][0]}: "
              + ", ".join(f"{role} {len(v)}" + (f" (tags {sorted(set(v), key=str)})" if v else "")
                          for role, v in got.items()))
        for role, tags in got.items():
            want = 5 if role in receivers else 0
            if len(tags) != want:
                bad.append(f"{sender} {src}->{dst}: {role} got {len(tags)} frames, want {want}")
            elif any(t != 100 for t in tags):
                bad.append(f"{sender} {src}->{dst}: {role} got tags {tags}, want 100 on every frame")
    assert not bad, "; ".join(bad)


def check_vlan_ping(topo, fabric, eps):
    """eth0.100 in c1, c2 and ext: ping over the VLAN, and the frames reach the
    VLAN devices (so they arrived tagged). Needs CONFIG_VLAN_8021Q."""
    probe = topo.ip("c1", "link", "add", "link", "eth0", "name", "eth0.100", "type", "vlan", "id", "100", check=False)
    if probe.returncode != 0:
        print(f"  SKIPPED: this kernel cannot make VLAN devices ({probe.stderr.strip()}); "
              "tagged frames are covered by vlan-frames")
        return
    for role, host in VLAN_HOSTS.items():
        if role != "c1":
            topo.ip(role, "link", "add", "link", "eth0", "name", "eth0.100", "type", "vlan", "id", "100")
        topo.ip(role, "addr", "add", f"{VLAN_NET}.{host}/24", "dev", "eth0.100")
        topo.ip(role, "link", "set", "eth0.100", "up")
    vk.wait_dad(topo, list(VLAN_HOSTS))
    bad = []
    for src, dst in (("c1", "c2"), ("c2", "c1"), ("ext", "c1"), ("c1", "ext"), ("ext", "c2")):
        vk.flush_neighbours(topo, list(VLAN_HOSTS))
        rx_before = vlan_rx(topo, dst)
        ok = vk.ping_all(topo, src, f"{VLAN_NET}.{VLAN_HOSTS[dst]}", 5)
        rx = vlan_rx(topo, dst) - rx_before
        print(f"  eth0.100 {src} -> {dst}: {'ok' if ok else 'FAILED'}, {dst} eth0.100 rx +{rx}")
        if not ok:
            bad.append(f"{src}->{dst} over eth0.100 fails")
        elif rx < 5:
            bad.append(f"{src}->{dst}: {dst}'s eth0.100 received {rx} < 5 frames (tag lost?)")
    assert not bad, "; ".join(bad)


def vlan_rx(topo, role):
    """Frames role's eth0.100 has received: only frames tagged 100 get there."""
    return json.loads(topo.ip(role, "-j", "-s", "link", "show", "eth0.100").stdout)[0]["stats64"]["rx"]["packets"]


# -- wire offload and the XDP path ----------------------------------------------------
def check_wire_offload(topo, fabric, eps):
    """The far end of a veth uplink hands it skbs with checksums left to
    offload (a veth peer's default). An XDP redirect would lose that pending
    checksum (TcpInCsumErrors in the port), so on a veth uplink vnet's default
    (`--xdp-redirect auto`) takes the tc path, which keeps it: TCP ext -> c1
    with ext's tx checksum offload on must work, as it does through macvlan."""
    doc = vk.fabric_doc(topo, fabric)
    assert doc["xdp_redirect"] is False, f"a veth uplink should default to --xdp-redirect off, show says {doc}"
    topo.exec("ext", "ethtool", "-K", "eth0", "tx", "on")
    received = iperf(topo, "c1", eps["c1"][2], "ext", seconds=1)["end"]["sum_received"]["bytes"]
    print(f"  TCP ext -> c1 with ext's tx checksum offload on: {received} bytes")
    assert received > 0, "no bytes received"


def check_xdp_path(topo, fabric, eps):
    """The XDP fast path end to end (`--xdp-redirect on`), with ext standing
    for a machine on a real wire (complete checksums, VLAN tags in the frame):
    ping and TCP ext -> c1, frames visibly redirected by XDP (the uplink's
    xdp_redirect counter grows), and a tagged frame keeps its tag."""
    # A switch port hands a NIC tags in the frame; the bridge in sw would
    # otherwise pass them to the veth as metadata, which XDP cannot see.
    topo.exec("ext", "ethtool", "-K", "eth0", "tx", "off")
    topo.exec("sw", "ethtool", "-K", "swup", "txvlan", "off")
    try:
        if fabric in [f["name"] for f in topo.vnetctl("show", json_out=True)["fabrics"]]:
            topo.vnetctl("detach", fabric)  # runs after the detach check normally
        xdp_fabric = topo.attach("up0", "--xdp-redirect", "on")
        topo.vnetctl("port", "add", "--fabric", xdp_fabric, "--netns", topo.ns("c1"), "--mode", "bridge")
        topo.ip("c1", "addr", "add", f"{vk.NET}.11/24", "dev", "eth0")
        vk.wait_dad(topo, ["c1"])
        doc = vk.fabric_doc(topo, xdp_fabric)
        assert doc["xdp_redirect"] is True and doc["xdp_mode"] == "native", doc
        vk.flush_neighbours(topo, ["ext", "c1"])  # c1's eth0 is a new device with a new MAC
        before = xdp_redirects(topo)
        assert vk.ping_all(topo, "ext", eps["c1"][2], 5), "ext -> c1 ping over the XDP path fails"
        received = iperf(topo, "c1", eps["c1"][2], "ext", seconds=1)["end"]["sum_received"]["bytes"]
        redirected = xdp_redirects(topo) - before
        print(f"  XDP path: TCP ext -> c1 {received} bytes, {redirected} frames redirected by XDP on up0")
        assert received > 0, "no TCP bytes over the XDP path"
        assert redirected >= 5, f"only {redirected} frames went through XDP_REDIRECT"
        c1_mac, ext_mac = vk.mac_of(topo, "c1"), vk.mac_of(topo, "ext")
        seen = vk.capture_during(topo, ["c1"], TEST_ETHERTYPE,
                                 lambda: send_frames(topo, "ext", [(ext_mac, c1_mac, 100, 5)]))
        tags = [v for s, d, v in seen["c1"] if (s, d) == (ext_mac, c1_mac)]
        print(f"  XDP path: tagged ext -> c1 arrived {len(tags)} times with tags {sorted(set(tags), key=str)}")
        assert len(tags) == 5 and all(t == 100 for t in tags), f"tags {tags}, want five 100s"
    finally:
        topo.exec("ext", "ethtool", "-K", "eth0", "tx", "on", check=False)
        topo.exec("sw", "ethtool", "-K", "swup", "txvlan", "on", check=False)


def xdp_redirects(topo):
    """up0's XDP redirect count (veth's ethtool statistics)."""
    out = topo.exec("host", "ethtool", "-S", "up0").stdout
    return sum(int(v) for k, v in re.findall(r"(\S*xdp_redirect\S*):\s+(\d+)", out))


# -- detach --------------------------------------------------------------------------------
def uplink_hooks(topo):
    """What is hooked on up0 in the host namespace: ip's xdp line, bpftool net
    show, vnet programs at tcx ingress, cls_bpf filters at clsact ingress."""
    names = vk.prog_names()
    tcx = vk.tcx_ingress(topo, "up0")
    net = json.loads(vk.host_exec(topo, "bpftool", "-j", "net", "show", "dev", "up0").stdout)[0]
    return {
        "ip_xdp": "xdp" in topo.ip("host", "-d", "link", "show", "up0").stdout,
        "bpftool_net": [names.get(p["id"], f"id {p['id']}") for hook in ("xdp", "tc") for p in net[hook]],
        "tcx_progs": [names.get(i, f"id {i}") for i in tcx["prog_ids"]],
        "tcx_links": tcx["link_ids"],
        "tc_filters": vk.host_exec(topo, "tc", "filter", "show", "dev", "up0", "ingress", check=False).stdout,
    }


def check_detach(topo, fabric, eps):
    ports = vk.container_ports(topo, fabric)
    host_ends = [p["name"] for p in ports.values()]
    pins = vk.pinned_links(fabric)
    hooks = uplink_hooks(topo)
    port_tcx = {name: vk.tcx_ingress(topo, name) for name in host_ends}
    ours = set(pins.values()) | set(hooks["tcx_links"]) | {l for q in port_tcx.values() for l in q["link_ids"]}
    live_before = ours & vk.vnet_link_ids()
    print(f"  before: pinned links {pins}; up0 tcx {hooks['tcx_progs']}; "
          f"{len(live_before)} vnet links of this test live")
    # Positive controls: the checks below would see vnet if it were there.
    # A veth uplink gets no XDP by default (--xdp-mode auto): vnet is all tc there.
    assert vk.fabric_doc(topo, fabric)["xdp_mode"] == "none" and not hooks["ip_xdp"], \
        f"XDP on a veth uplink by default: {hooks}"
    tcx = "vnet_uplink_tc" in hooks["tcx_progs"]
    assert tcx or "vnet_" in hooks["tc_filters"], f"no tc program on up0 before detach: {hooks}"
    want = 1 + (1 + len(host_ends) if tcx else 0)  # XDP, and tcx on up0 and every port (cls_bpf has no links)
    assert len(live_before) >= want, f"only {len(live_before)} of {want} vnet links found for this test: {ours}"

    topo.vnetctl("detach", fabric)

    bad = []
    if os.path.exists(f"{vk.PIN_ROOT}/{fabric}"):
        bad.append(f"{vk.PIN_ROOT}/{fabric} still exists: {os.listdir(f'{vk.PIN_ROOT}/{fabric}')}")
    hooks = uplink_hooks(topo)
    if hooks["ip_xdp"]:
        bad.append("ip -d link show up0 still shows xdp")
    if hooks["bpftool_net"]:
        bad.append(f"bpftool net show dev up0: {hooks['bpftool_net']}")
    if hooks["tcx_progs"]:
        bad.append(f"tcx ingress of up0 still runs {hooks['tcx_progs']}")
    if "vnet_" in hooks["tc_filters"]:
        bad.append(f"tc filter on up0 ingress: {hooks['tc_filters']}")
    host_links = {l["ifname"] for l in json.loads(topo.ip("host", "-j", "link", "show").stdout)}
    bad += [f"veth {n} still in the host namespace" for n in host_ends if n in host_links]
    for role in vk.matrix.CONTAINERS:
        if topo.ip(role, "link", "show", "eth0", check=False).returncode == 0:
            bad.append(f"{role} still has eth0")
    # Unpinned links are freed by a kernel work item: give it a moment.
    vk.wait_until(lambda: not ours & vk.vnet_link_ids())
    live_after = ours & vk.vnet_link_ids()
    print(f"  after: {len(live_after)} vnet links of this test live (before {len(live_before)})")
    if live_after:
        bad.append(f"bpf links still alive: {sorted(live_after)}")
    if fabric in [f["name"] for f in topo.vnetctl("show", json_out=True)["fabrics"]]:
        bad.append(f"vnetctl show still lists {fabric}")
    if not vk.ping(topo, "ext", eps["host"][2]):
        bad.append("ext -> host no longer works on the bare uplink")
    assert not bad, "; ".join(bad)


def main():
    vk.require_root()
    vk.exit_on_signals()
    start = time.time()
    checks = vk.Checks()
    with vk.Topology(tag="tr") as topo:
        eps = vk.build_l2(topo, "vnet", "bridge", hairpin=False)
        fabric = topo.fabrics[-1]
        for name, fn in (("persist", check_persist), ("iperf3", check_iperf), ("counters", check_counters),
                         ("spoof", check_spoof), ("vlan-frames", check_vlan_frames), ("vlan-ping", check_vlan_ping),
                         ("wire-offload", check_wire_offload), ("detach", check_detach),
                         ("xdp-path", check_xdp_path)):
            checks.run(name, fn, topo, fabric, eps)
    checks.finish("traffic", start, [topo])


if __name__ == "__main__":
    main()
