#!/usr/bin/python3
"""`vnetctl doctor` reports this kernel's capabilities and each device's XDP
abilities, as text and JSON with the same content, without changing anything."""
import sys

from vnetkit import Checks, Topology, build_l2, require_root

checks = Checks()


def main():
    require_root()
    with Topology("dr") as t:
        build_l2(t, "vnet", "bridge", hairpin=False, containers=1)
        fabric = t.fabrics[0]
        t.ip("host", "link", "add", "up1", "type", "veth", "peer", "name", "up1p")
        t.ip("host", "link", "set", "up1", "up")
        before = t.ip("host", "-d", "-j", "link").stdout
        doc = t.vnetctl("doctor", json_out=True)
        text = t.vnetctl("doctor").stdout
        caps = {c["name"]: c for c in doc["capabilities"]}
        checks.check("kernel named", doc["kernel"].startswith("Linux "), doc["kernel"])
        for name in ("root", "bpffs", "tcx", "bpf_loop", "bpf_redirect_peer", "bpf_redirect_map (XDP)"):
            checks.check(f"capability {name} probed ok", caps.get(name, {}).get("ok") is True, caps.get(name))
        checks.check("pktgen reported as the machine has it", "pktgen" in caps)
        devices = {d["name"]: d for d in doc["devices"]}
        up0 = devices.get("up0", {})
        checks.check("uplink listed with its role", up0.get("role") == "uplink" and up0.get("fabric") == fabric, up0)
        checks.check("uplink's native XDP seen", up0.get("native_xdp") is True and "basic" in up0.get("xdp_features", []), up0)
        # A veth uplink runs vnet without XDP by default; with --xdp-mode native it is named.
        checks.check("no XDP on a veth uplink by default", up0.get("xdp_program") == "", up0)
        xdp_fabric = t.attach("up1", "--xdp-mode", "native")
        up1 = {d["name"]: d for d in t.vnetctl("doctor", json_out=True)["devices"]}.get("up1", {})
        checks.check("an uplink's XDP program named", "vnet_uplink_xdp" in up1.get("xdp_program", "")
                     and up1.get("fabric") == xdp_fabric, up1)
        ports = [d for d in doc["devices"] if d["role"] == "port"]
        checks.check("port listed with its role", len(ports) == 1 and ports[0]["fabric"] == fabric, ports)
        checks.check("veth note on the uplink", any("veth" in n for n in up0.get("notes", [])), up0)
        checks.check("nothing missing on this kernel", doc["problems"] == [], doc["problems"])
        checks.check("text names the same capabilities and devices",
                     all(c in text for c in caps) and "up0" in text and "nothing vnet needs is missing" in text, text)
        before = t.ip("host", "-d", "-j", "link").stdout
        t.vnetctl("doctor")
        checks.check("doctor changed nothing", t.ip("host", "-d", "-j", "link").stdout == before)
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
