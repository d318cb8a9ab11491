"""hqio_check: the harness the tests/check_*.py command-line checks share.

ctest runs each check as `python3 tests/check_X.py HQIO_BINARY`; a check puts
this directory on sys.path from its own __file__ and imports this module:

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from hqio_check import Checks, not_signalled  # noqa: E402

    ck = Checks()
    check = ck.check
    p = ck.run([hqio, "dvh", "quirks"], ok=not_signalled,
               what=lambda rc: f"dvh quirks: killed by signal {-rc}")
    ...
    return ck.finish(f"check_X: {ck.count} checks, {len(ck.failures)} failures")

Exit codes stay the checks' own: 0 pass, 1 fail, 2 usage, SKIP (77) skip.
"""
import subprocess
import sys

SKIP = 77  # ctest's SKIP_RETURN_CODE for the python checks (tests/CMakeLists.txt)


def not_signalled(rc):
    """The program ended by itself (a negative status is a signal)."""
    return rc >= 0


def cli_status(rc):
    """One of the CLI's exit codes: 0 ok, 1 failed, 2 usage (tools/commands.h)."""
    return rc in (0, 1, 2)


def hqio_arg(doc):
    """argv[1], the hqio binary; None after printing the usage (doc) when the
    call is not `check_X.py HQIO_BINARY`."""
    if len(sys.argv) != 2:
        print(doc, file=sys.stderr)
        return None
    return sys.argv[1]


class Checks:
    """A count of the checks made and the messages of those that failed."""

    def __init__(self):
        self.count = 0
        self.failures = []

    def check(self, cond, what):
        self.count += 1
        if not cond:
            self.failures.append(what)

    def run(self, argv, ok=None, what=None, timeout=60, text=True, **kw):
        """Runs argv with its output captured. With ok (a test on the exit
        status) that is one more check, whose message is what(status)."""
        p = subprocess.run(argv, capture_output=True, text=text, timeout=timeout, **kw)
        if ok is not None:
            self.check(ok(p.returncode), what(p.returncode))
        return p

    def finish(self, summary, summary_first=False):
        """Prints a FAIL line a failure and the summary line (before them with
        summary_first); returns the exit code, 1 when any check failed."""
        if summary_first:
            print(summary)
        for f in self.failures:
            print("FAIL:", f)
        if not summary_first:
            print(summary)
        return 1 if self.failures else 0
