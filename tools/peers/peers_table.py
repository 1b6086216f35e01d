"""The table of tools/peers: parses the serial output of the Linux boot (its
C and Go benchmarks print `peer linux.NAME cycles=X` and `peer go.NAME
cycles=X`) and of biscotti's bench=sched (`bench sched.NAME cycles=N ns=N`)
and formats them side by side, one row per primitive.

Every figure is per operation, in TSC cycles: under -icount, guest
instructions. A figure that should be there and is not is an error naming
it (a benchmark that crashed or never ran must not leave a blank that reads
as "not measured").
"""

import re


class PeersError(Exception):
    """A run's output lacks what the table needs; the message says what."""


# (primitive, the Linux benchmark, what Linux uses, the Go benchmark, what Go
#  uses, biscotti's benchmark): the rows of the performance issue's table.
# Every 2-CPU figure is a cross-CPU hand-off between threads pinned to CPUs
# 0 and 1; Go's is the pinned variant (gobench/pinned.go), since unpinned
# its runtime keeps both goroutines on one CPU (that figure is a note).
ROWS = (
    ("yield round trip, 1 CPU", "yield_round_trip", "sched_yield", "yield_round_trip", "Gosched",
     "sched.yield_round_trip"),
    ("futex ping-pong, 1 CPU", "futex_ping_pong_1_cpu", "futex", "futex_ping_pong_1_cpu", "chan",
     "sched.futex_ping_pong_1_cpu"),
    ("futex ping-pong, 2 CPUs", "futex_ping_pong_2_cpus", "futex", "futex_ping_pong_2_cpus_pinned",
     "chan, pinned", "sched.futex_ping_pong_2_cpus"),
    ("spawn + join", "spawn_join", "pthread_create+join", "spawn_join", "go+WaitGroup",
     "sched.spawn_join_empty_thread"),
    ("uncontended mutex pair", "mutex_pair", "pthread_mutex", "mutex_pair", "sync.Mutex",
     "sched.mutex_uncontended_lock_unlock"),
)

# (side, benchmark, what it is): figures printed under the table, outside
# the comparison.
NOTES = (
    ("go", "futex_ping_pong_2_cpus",
     "Go, futex ping-pong on 2 CPUs unpinned (GOMAXPROCS=2; the runtime places the goroutines)"),
    ("go", "futex_ping_pong_2_cpus_pinned_futex",
     "Go, futex ping-pong across pinned CPUs 0 and 1 over a raw futex (syscall.Syscall6)"),
)

_PEER = re.compile(r"peer (linux|go)\.(\w+) (?:cycles=(\d+(?:\.\d+)?)|skipped: (.*))$")
_PEER_ERROR = re.compile(r"peer (linux|go) error: (.*)$")
_PEER_INFO = re.compile(r"peer (linux|go) info: (.*)$")
_BISCOTTI = re.compile(r"bench (sched\.\w+) (?:cycles=(\d+) ns=\d+|skipped: (.*))$")

SKIPPED = "skipped"


def _lines(text):
    # Serial output ends lines in CR LF, and a kernel message may share a
    # line with ours when quiet lets one through: search, do not anchor
    # at the start.
    return (line.rstrip("\r") for line in text.split("\n"))


def parse_peers(text):
    """The Linux boot's output -> {"linux": {name: cycles}, "go": {...},
    "info": ["go: what it said", ...]}.

    A skipped benchmark (one that needs two CPUs, on one) maps to SKIPPED. Raises PeersError when the run did
    not reach its end (`peer: done`) or a side reported a failure."""
    figures = {"linux": {}, "go": {}, "info": []}
    done = False
    errors = []
    for line in _lines(text):
        m = _PEER.search(line)
        if m:
            side, name, cycles, skipped = m.groups()
            figures[side][name] = float(cycles) if cycles is not None else SKIPPED
            continue
        if "peer: done" in line:
            done = True
            continue
        m = _PEER_ERROR.search(line)
        if m:
            errors.append("%s: %s" % m.groups())
            continue
        m = _PEER_INFO.search(line)
        if m:
            figures["info"].append("%s: %s" % m.groups())
    if errors:
        raise PeersError("the Linux boot reported: " + "; ".join(errors))
    if not done:
        raise PeersError("the Linux boot did not reach the end of its benchmarks "
                         "(no 'peer: done' line): the kernel or /init stopped early")
    return figures


def parse_biscotti(text):
    """biscotti's bench=sched output -> {benchmark: cycles or SKIPPED}."""
    figures = {}
    for line in _lines(text):
        m = _BISCOTTI.search(line)
        if m:
            name, cycles, skipped = m.groups()
            figures[name] = int(cycles) if cycles is not None else SKIPPED
    return figures


def _cell(value):
    if value == SKIPPED:
        return "—"
    # Large figures as whole instructions with separators, as the README
    # writes them; small ones (a mutex pair) keep a decimal.
    if value >= 100:
        return "{:,}".format(int(round(value)))
    if isinstance(value, int):  # biscotti's own figures are whole
        return str(value)
    return "%.1f" % value


def table(peers, biscotti, linux_label="Linux", go_label="Go"):
    """The markdown table; raises PeersError naming every missing figure."""
    missing = []
    rows = []
    for primitive, linux_name, linux_how, go_name, go_how, bench in ROWS:
        lx = peers["linux"].get(linux_name)
        go = peers["go"].get(go_name)
        bi = biscotti.get(bench)
        for side, value, what in (("Linux", lx, "linux." + linux_name), ("Go", go, "go." + go_name),
                                  ("biscotti", bi, bench)):
            if value is None:
                missing.append("%s (%s)" % (what, side))
        if None in (lx, go, bi):
            continue
        values = [v for v in (lx, go) if v != SKIPPED]
        if bi == SKIPPED or not values:
            lead = "—"
        else:
            # How many times the best peer's figure biscotti's is: above 1,
            # biscotti is ahead.
            lead = "%.2f×" % (min(values) / bi) if bi > 0 else "—"
        rows.append("| %s | %s (%s) | %s (%s) | %s | %s |" %
                    (primitive, _cell(lx), linux_how, _cell(go), go_how, _cell(bi), lead))
    if missing:
        raise PeersError("no figure for " + ", ".join(missing) +
                         ": that benchmark did not print (see the serial logs)")
    head = ["| primitive | %s | %s | biscotti | best peer / biscotti |" % (linux_label, go_label),
            "| --- | --- | --- | --- | --- |"]
    return "\n".join(head + rows) + "\n"


def notes(peers):
    """The lines under the table: NOTES' figures, then what the benchmarks
    printed as info. Raises PeersError naming a missing figure."""
    lines = []
    missing = []
    for side, name, what in NOTES:
        value = peers[side].get(name)
        if value is None:
            missing.append("%s.%s" % (side, name))
        else:
            lines.append("%s: %s" % (what, _cell(value)))
    if missing:
        raise PeersError("no figure for " + ", ".join(missing) + ": that benchmark did not print (see the serial logs)")
    return lines + peers.get("info", [])
