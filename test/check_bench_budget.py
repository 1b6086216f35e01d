#!/usr/bin/env python3
"""Checks a boot's `bench NAME cycles=C ns=N` lines against
test/bench_budget.txt (next to this script): every budgeted benchmark ran
(a name marked 'unguarded' must run, but its figure is not compared),
none is more than 5% above its budget (a regression) and none more than 5%
below it (an improvement the change must ratchet into the budget). A
budget named NAME@smpN is for boots with N CPUs (the log's `cpus: K found,
N online` line), a plain NAME for boots with 2. Prints one line per
benchmark and exits non-zero with the reasons on a failure."""
import os
import re
import sys

TOLERANCE = 0.05
LINE = re.compile(r"^bench (\S+) cycles=\d+ ns=(\d+)\s*$")
CPUS = re.compile(r"^cpus: \d+ found, (\d+) online")
NAME = re.compile(r"^[^@\s]+(@smp([1-9][0-9]*))?$")
DEFAULT_CPUS = 2  # //test:bench_budget's boot: its budgets carry no @smpN


def read_budget(path):
    budget = {}
    with open(path) as f:
        for number, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) != 2 or not (parts[1] == "unguarded" or (parts[1].isdigit() and int(parts[1]) > 0)):
                sys.exit(f"{path}:{number}: expected 'name budget' (a positive integer, or 'unguarded'), "
                         f"got {raw.strip()!r}")
            m = NAME.match(parts[0])
            if not m or (m.group(2) and int(m.group(2)) == DEFAULT_CPUS):
                sys.exit(f"{path}:{number}: expected NAME or NAME@smpN (N not {DEFAULT_CPUS}: that is a plain NAME), "
                         f"got {parts[0]!r}")
            if parts[0] in budget:
                sys.exit(f"{path}:{number}: {parts[0]} budgeted twice")
            budget[parts[0]] = None if parts[1] == "unguarded" else int(parts[1])
    if not budget:
        sys.exit(f"{path}: no budgets")
    return budget


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check_bench_budget.py SERIAL_LOG")
    budget = read_budget(os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_budget.txt"))
    measured = {}
    cpus = DEFAULT_CPUS
    with open(sys.argv[1], errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\r\n")
            m = CPUS.match(line)
            if m:
                cpus = int(m.group(1))
            m = LINE.match(line)
            if m:
                measured[m.group(1)] = int(m.group(2))
    # This boot's budgets, and its figures under the same names.
    suffix = "" if cpus == DEFAULT_CPUS else f"@smp{cpus}"
    budget = {n: v for n, v in budget.items() if (n.endswith(suffix) if suffix else "@" not in n)}
    if not budget:
        sys.exit(f"no budgets for boots with {cpus} CPUs (NAME@smp{cpus})")
    measured = {n + suffix: v for n, v in measured.items()}
    problems = []
    for name, limit in sorted(budget.items()):
        if name not in measured:
            problems.append(f"{name}: budgeted but did not run")
            continue
        got = measured[name]
        if limit is None:
            print(f"{name}: {got} (unguarded: not repeatable)")
            continue
        change = (got - limit) / limit
        print(f"{name}: {got} (budget {limit}, {change:+.1%})")
        if change > TOLERANCE:
            problems.append(f"{name}: {got} is {change:+.1%} over its budget {limit} (a regression)")
        elif change < -TOLERANCE:
            problems.append(f"{name}: {got} is {change:+.1%} under its budget {limit}: lower the budget to {got}")
    for name in sorted(set(measured) - set(budget)):
        problems.append(f"{name}: ran but has no budget: add '{name} {measured[name]}' to bench_budget.txt")
    if problems:
        print("\n".join(["bench budget: FAILED"] + problems))
        return 1
    guarded = sum(1 for v in budget.values() if v is not None)
    print(f"bench budget: {guarded} figures within {TOLERANCE:.0%} of their budgets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
