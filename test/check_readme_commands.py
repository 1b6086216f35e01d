#!/usr/bin/env python3
"""Checks that README.md's table of monitor commands names exactly the
commands the kernel registers.

Reads a serial log of `help` (its "commands:" listing: each command on a
line starting with two spaces, its help at a fixed column or on the next
line) and the workspace's README.md (the rows of the table in "## The
monitor" whose first cell is `NAME ...`), and compares the two sets of
names. Exits non-zero naming each command only one side has."""
import os
import re
import sys

HELP_ROW = re.compile(r"^  ([a-z][a-z0-9_]*)(?: |$)")
README_ROW = re.compile(r"^\| `([a-z][a-z0-9_]*)[^`]*` \|")


def help_names(log):
    names, listing = set(), False
    for line in log.splitlines():
        line = line.rstrip("\r")
        if line == "commands:":
            listing = True
            continue
        if not listing:
            continue
        if m := HELP_ROW.match(line):
            names.add(m[1])
        elif not line.startswith("    "):
            listing = False  # the listing ended (a continuation line is indented further)
    return names


def readme_names(text):
    section = re.search(r"^## The monitor$(.*?)^## ", text, re.S | re.M)
    if not section:
        sys.exit("check_readme_commands: README.md has no '## The monitor' section")
    return {m[1] for line in section[1].splitlines() if (m := README_ROW.match(line))}


def main(log_path):
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.path.join(here, "..", "README.md"),
                  os.path.join(os.environ.get("TEST_SRCDIR", ""), "biscotti", "README.md")]
    readme = next((c for c in candidates if os.path.exists(c)), None)
    if readme is None:
        sys.exit("check_readme_commands: README.md not found beside the test (" + ", ".join(candidates) + ")")
    with open(log_path, errors="replace") as f:
        registered = help_names(f.read())
    with open(readme) as f:
        documented = readme_names(f.read())
    if not registered:
        sys.exit("check_readme_commands: no 'commands:' listing in the serial log")
    problems = [f"registered but not in README.md's command table: {n}" for n in sorted(registered - documented)]
    problems += [f"in README.md's command table but not registered: {n}" for n in sorted(documented - registered)]
    for p in problems:
        print(p)
    if problems:
        sys.exit(1)
    print(f"check_readme_commands: {len(registered)} commands, the same in README.md")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: check_readme_commands.py SERIAL_LOG")
    main(sys.argv[1])
