#!/usr/bin/env python3
"""Differential reachability test: vnet against kernel macvlan in one mode.

usage: test_l2_matrix.py bridge|vepa|private

For the external switch hairpinning off and on, the standard topology
(vnetkit.build_l2) is built twice, with kernel macvlan and with vnet, and every
ordered pair of endpoints (c1, c2, c3, ext, host) is probed with ping and with
arping, each from a clean neighbour table. The test fails when
  - vnet's matrix differs from kernel macvlan's in any cell, or
  - either differs from what spec/forwarding.md says for the mode (so a
    setup broken the same way on both sides cannot pass).
The four topologies are probed concurrently: each lives in its own namespaces.
Exit 0 pass, 1 fail, 77 skip (not root).
"""
import contextlib
import sys
import time

import vnetkit as vk

SYSTEMS = ("macvlan", "vnet")
RETRIES = 2  # a disagreeing "no" is probed again: a lost ARP under load is not a verdict


def settle_disagreements(topos, results, spec):
    """Re-probes cells where a system says "unreachable" but the other system or
    the spec says "reachable". A probe can fail spuriously (a timeout on a
    loaded machine) but never succeed spuriously, so one success settles it."""
    retried = []
    for kind in vk.matrix.KINDS:
        for pair in vk.matrix.pairs():
            votes = [results[s][kind][pair] for s in SYSTEMS] + [spec[kind][pair]]
            if all(votes) or not any(votes):
                continue
            for system in SYSTEMS:
                if results[system][kind][pair]:
                    continue
                topo, eps = topos[system]
                for _ in range(RETRIES):
                    if vk.matrix.probe(topo, eps, *pair, kind):
                        results[system][kind][pair] = True
                        break
                retried.append(f"{system} {kind} {pair[0]}->{pair[1]}: "
                               f"{'reachable on retry' if results[system][kind][pair] else 'still unreachable'}")
    return retried


def compare(mode, hairpin, results, retried):
    """Prints the matrices and returns the list of failures for this hairpin setting."""
    spec = vk.matrix.spec_matrix(mode, hairpin)
    title = f"mode {mode}, external switch hairpin {'on' if hairpin else 'off'}"
    print(f"\n=== {title}")
    for line in retried:
        print(f"  retried {line}")
    failures = []
    for kind in vk.matrix.KINDS:
        print(vk.matrix.format_matrices(kind, [("macvlan", results["macvlan"][kind]),
                                               ("vnet", results["vnet"][kind]), ("spec", spec[kind])]))
        for src, dst in vk.matrix.differing_cells(results["macvlan"][kind], results["vnet"][kind]):
            failures.append(f"{title}: {kind} {src}->{dst}: macvlan "
                            f"{results['macvlan'][kind][(src, dst)]}, vnet {results['vnet'][kind][(src, dst)]}")
        for system in SYSTEMS:
            for src, dst in vk.matrix.differing_cells(spec[kind], results[system][kind]):
                failures.append(f"{title}: {kind} {src}->{dst}: {system} {results[system][kind][(src, dst)]}, "
                                f"spec says {spec[kind][(src, dst)]}")
    return failures


def main():
    vk.require_root()
    if len(sys.argv) != 2 or sys.argv[1] not in ("bridge", "vepa", "private"):
        print("usage: test_l2_matrix.py bridge|vepa|private", file=sys.stderr)
        return 2
    mode = sys.argv[1]
    vk.exit_on_signals()
    start = time.time()
    checks = vk.Checks()
    made = []
    with contextlib.ExitStack() as stack:
        topos = {}
        for hairpin in (False, True):
            for system in SYSTEMS:
                topo = stack.enter_context(vk.Topology(tag=f"l{mode[0]}{system[0]}{int(hairpin)}"))
                made.append(topo)
                topos[(hairpin, system)] = (topo, vk.build_l2(topo, system, mode, hairpin))
        print(f"built 4 topologies in {time.time() - start:.1f}s", flush=True)
        jobs = {key: (lambda stop, t=t, e=e: vk.matrix.probe_matrix(t, e, stop)) for key, (t, e) in topos.items()}
        matrices = vk.matrix.run_parallel(jobs)
        for hairpin in (False, True):
            results = {s: matrices[(hairpin, s)] for s in SYSTEMS}
            retried = settle_disagreements({s: topos[(hairpin, s)] for s in SYSTEMS}, results,
                                           vk.matrix.spec_matrix(mode, hairpin))
            failures = compare(mode, hairpin, results, retried)
            checks.check(f"switch hairpin {'on' if hairpin else 'off'}: vnet matches kernel macvlan and the spec "
                         "in every cell", not failures, "\n  " + "\n  ".join(failures))
    checks.finish(mode, start, made)


if __name__ == "__main__":
    sys.exit(main())
