#!/usr/bin/env python3
"""Writes the malformed MADTs the hostile boot tests hand QEMU through
`-acpitable file=...` (test/BUILD.bazel, "Hostile boots").

QEMU appends such a table to its RSDT after its own tables, rewrites the
header's length to the file's size and recomputes the checksum
(hw/acpi/core.c, acpi_table_install), so what reaches the kernel is a
well-formed table whose *contents* are bad: a bad checksum or a header
length that disagrees with the table cannot be produced this way (the host
tests in src/arch/acpi_test.cc cover those).

Usage: make_hostile_acpi.py OUT_DIR"""
import os
import struct
import sys


def header(length, revision=4):
    # [acpi] 5.2.6: signature, length, revision, checksum, OEM id, OEM
    # table id, OEM revision, creator id, creator revision.
    return struct.pack("<4sIBB6s8sI4sI", b"APIC", length, revision, 0, b"BISCOT", b"HOSTILE ", 1,
                       b"BISC", 1)


def table(body):
    t = bytearray(header(36 + len(body)) + body)
    t[9] = (-sum(t)) & 0xFF  # QEMU recomputes it anyway
    return bytes(t)


def madt(entries):
    # [acpi] 5.2.12: the local APIC address and the flags (PCAT_COMPAT),
    # then the entries.
    return table(struct.pack("<II", 0xFEE00000, 1) + b"".join(entries))


def lapic(uid, apic_id, enabled=True):  # [acpi] 5.2.12.2, type 0
    return struct.pack("<BBBBI", 0, 8, uid, apic_id, 1 if enabled else 0)


def x2apic(apic_id):  # [acpi] 5.2.12.12, type 9
    return struct.pack("<BBHIII", 9, 16, 0, apic_id, 1, apic_id)


TABLES = {
    # An entry of length 0 after a good one: a parser that trusts it loops
    # forever on the same offset.
    "madt_zero_length_entry.bin": madt([lapic(0, 0), b"\x00\x00" + bytes(6)]),
    # The last entry claims 8 bytes, 4 are left: a MADT cut short.
    "madt_truncated_entry.bin": madt([lapic(0, 0), lapic(1, 1)[:4]]),
    # 40 bytes: the header and half of the 8-byte fixed part.
    "madt_truncated_fixed_part.bin": table(bytes(4)),
    # 300 enabled processors (x2APIC entries, as ids above 254 need): more
    # than MAX_CPUS (at most 256) and than any -smp under QEMU's TCG.
    "madt_300_cpus.bin": madt([x2apic(i) for i in range(300)]),
}


def main():
    out = sys.argv[1]
    for name, data in TABLES.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
