#!/usr/bin/env python3
"""Checks the banner's usable-memory figure against the boot memory map.

Reads a serial log, takes the raw e820 entries and the carve-outs the kernel
printed, recomputes usable memory independently of src/mm/e820 (usable
ranges shrunk to 4 KiB pages, minus every non-usable range and every
carve-out widened to whole pages), and compares it with the
"memory: N bytes usable" line. Exits non-zero with an explanation on a
mismatch."""
import re
import sys

PAGE = 4096
ENTRY = re.compile(r"^e820: \[(0x[0-9a-f]+), (0x[0-9a-f]+)\) type (\d+)$")
CARVE = re.compile(r"^carve-out: \[(0x[0-9a-f]+), (0x[0-9a-f]+)\) (.*)$")
USABLE = re.compile(r"^memory: (\d+) bytes usable")


def subtract(ranges, start, end):
    out = []
    for s, e in ranges:
        if end <= s or start >= e:
            out.append((s, e))
            continue
        if s < start:
            out.append((s, start))
        if end < e:
            out.append((end, e))
    return out


def main(path):
    entries, carves, reported = [], [], None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip("\r\n")
            if m := ENTRY.match(line):
                entries.append((int(m[1], 16), int(m[2], 16), int(m[3])))
            elif m := CARVE.match(line):
                carves.append((int(m[1], 16), int(m[2], 16)))
            elif m := USABLE.match(line):
                reported = int(m[1])
    if not entries or reported is None:
        sys.exit("check_usable_memory: the log has no e820 entries or no usable-memory line")
    # Usable bytes are those in a usable entry and in no other kind of entry,
    # taken in whole pages.
    usable = [((s + PAGE - 1) // PAGE * PAGE, e // PAGE * PAGE) for s, e, t in entries if t == 1]
    usable = [(s, e) for s, e in usable if e > s]
    for s, e, t in entries:
        if t != 1:
            usable = subtract(usable, s // PAGE * PAGE, (e + PAGE - 1) // PAGE * PAGE)
    for s, e in carves:
        usable = subtract(usable, s // PAGE * PAGE, (e + PAGE - 1) // PAGE * PAGE)
    # Overlapping usable entries would be counted twice: merge first.
    merged = []
    for s, e in sorted(usable):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    expected = sum(e - s for s, e in merged)
    if expected != reported:
        sys.exit(f"usable memory: banner says {reported} bytes, the map gives {expected} "
                 f"({len(entries)} entries, {len(carves)} carve-outs)")
    print(f"usable memory {reported} bytes matches the map ({len(entries)} entries, {len(carves)} carve-outs)")


if __name__ == "__main__":
    main(sys.argv[1])
