#!/usr/bin/env python3
"""Checks the paste boot test's serial log: every pasted `echo` command was
answered, each exactly once and in the order pasted, only after the long
command that was running when the paste arrived had reported, and no input
was reported lost. Exits non-zero with the first discrepancy."""
import re
import sys

COUNT = 300
# The answer line (the echo command's output), not the prompt line that
# echoes the typed command: that one starts with "biscotti> ".
ANSWER = re.compile(r"^paste (\d{3}) of 300: the quick brown fox jumps over the lazy dog$")
LONG_DONE = re.compile(r"^[0-9]+ passed, 0 failed, [0-9]+ skipped$")


def main():
    lines = open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()
    done_at = next((i for i, l in enumerate(lines) if LONG_DONE.match(l)), None)
    if done_at is None:
        sys.exit("the long command (test) never reported a clean summary")
    got = []
    for i, line in enumerate(lines):
        if "input lost" in line:
            sys.exit(f"line {i + 1}: {line}")
        m = ANSWER.match(line)
        if not m:
            continue
        if i < done_at:
            sys.exit(f"line {i + 1}: answer {m.group(1)} came before the long command finished")
        got.append(int(m.group(1)))
    want = list(range(1, COUNT + 1))
    if got != want:
        for k, (g, w) in enumerate(zip(got, want)):
            if g != w:
                sys.exit(f"answer #{k + 1} is {g:03d}, expected {w:03d} ({len(got)} answers in all)")
        sys.exit(f"{len(got)} answers, expected {COUNT}")
    print(f"all {COUNT} pasted commands answered in order")


main()
