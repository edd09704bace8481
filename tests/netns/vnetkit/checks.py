"""Checks: the one record of what a test asserted.

A test makes one Checks, records every named check in it, either as a
result (check) or as a function that asserts (run), and ends with exit() or
finish(): a summary line, the names of the failures, exit status 1 on any
failure and 0 otherwise. A failed check never stops the others.
"""
import sys
import time
import traceback

from .fixture import CommandError, leftovers


class Checks:
    def __init__(self):
        self.failures = []
        self.ran = 0

    def check(self, name, ok, detail=""):
        """Records one result; detail says why when ok is false. Returns ok."""
        self.ran += 1
        if not ok:
            self.failures.append(name)
        print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + str(detail)}", flush=True)
        return ok

    def run(self, name, fn, *args):
        """Runs fn(*args) as the check name: it fails by raising (an
        AssertionError or a failed command; any other exception is a bug in
        the test, a failure too, printed with its trace). Returns whether it passed."""
        self.ran += 1
        print(f"--- {name}", flush=True)
        start = time.time()
        try:
            fn(*args)
        except (AssertionError, CommandError) as e:
            self.failures.append(name)
            print(f"FAIL {name}: {e}", flush=True)
        except Exception:  # pylint: disable=broad-except
            self.failures.append(name)
            print(f"FAIL {name}:\n{traceback.format_exc()}", flush=True)
        else:
            print(f"ok   {name} ({time.time() - start:.1f}s)", flush=True)
            return True
        return False

    def run_cases(self, topo, setup, cases, env):
        """Inside topo (a fixture.Topology), setup(env), then every case(env)
        as a check named after the function; a setup or a teardown that
        raises is a failure too."""
        try:
            with topo:
                setup(env)
                for case in cases:
                    self.run(case.__name__, case, env)
        except Exception:  # pylint: disable=broad-except
            self.fail("setup/teardown", traceback.format_exc())

    def fail(self, name, why):
        self.ran += 1
        self.failures.append(name)
        print(f"FAIL {name}: {why}", flush=True)

    def status(self):
        """Prints the summary; 1 if anything failed, else 0."""
        print(f"{self.ran - len(self.failures)} passed, {len(self.failures)} failed", flush=True)
        if self.failures:
            print(f"FAILED: {', '.join(self.failures)}", flush=True)
            return 1
        print("PASS", flush=True)
        return 0

    def exit(self):
        sys.exit(self.status())

    def finish(self, title, start, topos):
        """Fails on anything the topologies (fixture.Topology, already
        exited) left behind, namespaces or pins; prints the time taken since
        start and the summary, and exits 0 or 1."""
        left = leftovers([n for t in topos for n in t.namespaces], [f for t in topos for f in t.fabrics])
        if left:
            self.fail("cleanup", f"left behind: {', '.join(left)}")
        print(f"{title}: {time.time() - start:.1f}s")
        self.exit()
