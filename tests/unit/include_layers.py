#!/usr/bin/python3
"""Fails when a file under userspace/ includes across a forbidden layer edge.

The rule lives here, once; docs/architecture.md shows the same table. A layer
is a directory of userspace/ (plus include/vnet, the ABI and public headers).
A file may include its own layer and the layers listed for it, nothing else of
ours. System headers that belong to one layer's job (libbpf, BPF skeletons,
raw netlink) are checked the same way, and so are the raw port and fabric
flag bits of the ABI (maps/ and loader/ only).

usage: include_layers.py SOURCE_ROOT
"""
import pathlib
import re
import sys

# layer -> the other layers of ours it may include. "abi" is
# include/vnet/abi.h (the map layouts, shared with bpf/), "api" any other
# header of include/vnet/ (the public API libvnet's users include).
ALLOWED = {
    "base": set(),
    "netlink": {"base"},
    "loader": {"base", "abi"},
    "maps": {"base", "loader", "abi"},
    "fabric": {"base", "netlink", "maps", "loader", "abi", "api"},
    # vnetctl drives libvnet through the public header only (the Fabric handle).
    "vnetctl": {"base", "api"},
    # The benchmark drives vnet through the public header too; netlink and
    # loader serve its own topology and programs (pktgen, sinks).
    "bench": {"base", "netlink", "loader", "api"},
    # Coming consumers of libvnet: the public API only.
    "cni": {"base", "api"},
    "docker": {"base", "api"},
}

# System headers (by prefix or pattern) that only some layers may include:
# libbpf is the loader's (and the maps layer's bpf_map_* syscall wrappers),
# BPF skeletons are the loader's (the bench has its own), raw netlink sockets
# are netlink's, signals and stream printing the programs'.
RESTRICTED = [
    (re.compile(r"^bpf/"), {"loader", "maps", "bench"}, "libbpf"),
    (re.compile(r"\.skel\.h$"), {"loader", "bench"}, "a BPF skeleton"),
    (re.compile(r"^linux/(netlink|rtnetlink|genetlink)\.h$"), {"netlink", "bench"}, "raw netlink"),
    # Printing and signal handling are the programs' business: the library
    # reports through return values and callbacks.
    (re.compile(r"^(signal\.h|csignal|iostream)$"), {"vnetctl", "bench", "docker"}, "signal handling or printing"),
]

# Files allowed one restricted header, each with the reason.
EXEMPT = {
    ("userspace/loader/checkpoint.cc", "signal.h"):
        "the crash tests' kill switch (VNET_TEST_KILL_AT) SIGKILLs its own process",
}

# ABI names that only some layers may use: the port and fabric flag bits are
# decoded into named fields (maps/port_bits.h, maps/fabric_bits.h); the
# loader reads them for the tc hook and ABI migrations.
RAW_NAMES = [
    (re.compile(r"\bVNET_(PORT_F|PORT_PAD|FABRIC_F)_[A-Z_]+"), {"maps", "loader"}, "a raw ABI flag bit"),
]

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def layer_of_include(target):
    """The layer of ours a quoted include names, or None (absl, system...)."""
    if target == "vnet/abi.h":
        return "abi"
    head = target.split("/", 1)[0]
    if head == "vnet":
        return "api"
    if head in ALLOWED:
        return head
    return None


def check(root):
    errors = []
    userspace = root / "userspace"
    for path in sorted(userspace.rglob("*")):
        if path.suffix not in (".h", ".cc", ".c") or not path.is_file():
            continue
        layer = path.relative_to(userspace).parts[0]
        if layer not in ALLOWED:
            errors.append(f"{path.relative_to(root)}: directory '{layer}' is in no layer of the table")
            continue
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            for pattern, layers, what in RAW_NAMES:
                hit = pattern.search(line)
                if hit and layer not in layers:
                    errors.append(f"{path.relative_to(root)}:{lineno}: {layer}/ may not use {hit.group(0)} "
                                  f"({what}; use the named fields of maps/)")
            m = INCLUDE.match(line)
            if not m:
                continue
            quote, target = m.groups()
            where = f"{path.relative_to(root)}:{lineno}"
            if quote == '"':
                other = layer_of_include(target)
                if other and other != layer and other not in ALLOWED[layer]:
                    errors.append(f"{where}: {layer}/ may not include {target} ({other}/)")
            for pattern, layers, what in RESTRICTED:
                if (pattern.search(target) and layer not in layers and
                        (str(path.relative_to(root)), target) not in EXEMPT):
                    errors.append(f"{where}: {layer}/ may not include {target} ({what})")
    return errors


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = pathlib.Path(sys.argv[1])
    if not (root / "userspace").is_dir():
        print(f"{root}: no userspace/ directory", file=sys.stderr)
        return 2
    errors = check(root)
    for e in errors:
        print(e)
    if errors:
        print(f"{len(errors)} include(s) across a forbidden layer edge")
        return 1
    print("include layering: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
