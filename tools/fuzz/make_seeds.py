#!/usr/bin/env python3
"""Builds the seeds of the fuzz targets whose input is not a capture as is,
from the real captures in testdata/boot (nothing hand-made):

    python3 tools/fuzz/make_seeds.py [KERNEL_ELF]   # rewrites */fuzz_corpus/*/seed-*

(KERNEL_ELF, e.g. bazel-bin/kernel.elf, remakes the symbols seeds; without
it they are kept.)

ACPI (src/arch/acpi_fuzz.cc): the RSDP copy and the RSDT and every table it
lists, placed at the physical addresses the capture records. The DSDT and
FACS (reached through the FADT, not parsed by acpi.h) are left out to keep
the seeds small. Each capture also gives an ACPI 2.0 variant: a 36-byte
RSDP pointing to an XSDT (8-byte entries) appended after the tables, so the
XSDT path has a valid seed too (QEMU's SeaBIOS ships only an RSDT).

Input layout (acpi_fuzz.cc): 36 bytes RSDP, 8 bytes window base (LE),
1 byte flags (bit 0: fix checksums, bit 1: RSDP is 36 bytes), 3 bytes pad,
then the window's bytes.

e820 (src/mm/e820_fuzz.cc): each capture's multiboot2 memory map entries
(24 bytes each) after two carve-outs, the first MiB and a 2 MiB kernel
image at 1 MiB, as the kernel passes them.

cmdline (src/monitor/cmdline_fuzz.cc): the command line in each capture's
multiboot2 tag 1, and every literal `cmdline = "..."` of test/BUILD.bazel.

line_editor (src/monitor/line_editor_fuzz.cc): the `run="..."` scripts
of those command lines typed at the prompt, one command a line, ended by
CR, LF or CR LF in turn, with one typo erased by backspace, and again with
Tab, arrow keys, history recall and Ctrl-C.

dump (tools/profile/dump_parser_fuzz.cc): no serial log of a real dump is
checked in, so the good capture of tools/profile/dump_parser_test.cc
(kGood), as is, with CRLF line ends, with kernel output interleaved, and
after an earlier capture cut short.

pgdir_walk (src/mm/pgdir_walk_fuzz.cc): no capture applies; operation
sequences shaped like the kernel's own mappings (a 1 GiB direct map, 2 MiB
kernel image pages, 4 KiB pages beside them, then unmaps and lookups).

symbols (src/prof/symbols_fuzz.cc): the kernel's own section headers,
.symtab and .strtab, in a compact ELF file (ELF header, section headers,
the two tables; no section contents) with the first 16, 128 and 400 of its
symbols, the string table cut to the names they use."""
import glob
import json
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "src/arch/fuzz_corpus/acpi")
OUT_CMDLINE = os.path.join(ROOT, "src/monitor/fuzz_corpus/cmdline")
OUT_SYMBOLS = os.path.join(ROOT, "src/prof/fuzz_corpus/symbols")
OUT_DUMP = os.path.join(ROOT, "tools/profile/fuzz_corpus/dump")
OUT_PGDIR = os.path.join(ROOT, "src/mm/fuzz_corpus/pgdir_walk")
OUT_LINE = os.path.join(ROOT, "src/monitor/fuzz_corpus/line_editor")
OUT_E820 = os.path.join(ROOT, "src/mm/fuzz_corpus/e820")


def fix_sum(b, at, start, end):
    b[at] = 0
    b[at] = (-sum(b[start:end])) & 0xFF


def clean(out):
    os.makedirs(out, exist_ok=True)
    for old in glob.glob(os.path.join(out, "seed-*")):
        os.remove(old)


def mb2_memory_map(mbi):
    """The memory map entries of a multiboot2 structure ([mb2] 3.6.8)."""
    off = 8
    while off + 8 <= len(mbi):
        tag, size = struct.unpack_from("<II", mbi, off)
        if tag == 0:
            break
        if tag == 6:
            entry_size = struct.unpack_from("<I", mbi, off + 8)[0]
            return [mbi[o : o + 24] for o in range(off + 16, off + size, entry_size)]
        off += (size + 7) & ~7
    raise ValueError("no memory map")


def mb2_tag(mbi, want):
    off = 8
    while off + 8 <= len(mbi):
        tag, size = struct.unpack_from("<II", mbi, off)
        if tag == want:
            return mbi[off + 8 : off + size]
        if tag == 0:
            break
        off += (size + 7) & ~7
    raise ValueError("no tag %d" % want)


def cmdline_seeds():
    clean(OUT_CMDLINE)
    lines = set()
    for path in glob.glob(os.path.join(ROOT, "testdata/boot/*.mb2.bin")):
        lines.add(mb2_tag(open(path, "rb").read(), 1).rstrip(b"\0").decode())
    build = open(os.path.join(ROOT, "test/BUILD.bazel")).read()
    for m in re.finditer(r'(?:cmdline|ALL_KTESTS) = "((?:[^"\\]|\\.)*)"', build):
        if not m.group(1).startswith("//"):  # a label, not a command line
            lines.add(m.group(1).encode().decode("unicode_escape"))
    for i, line in enumerate(sorted(lines)):
        open(os.path.join(OUT_CMDLINE, "seed-%02d" % i), "w").write(line)
    clean(OUT_LINE)
    scripts = set()
    for line in lines:
        for m in re.finditer(r'run=(?:"([^"]*)"|(\S+))', line):
            scripts.add(m.group(1) or m.group(2))
    scripts = sorted(scripts)
    ends = ["\r", "\n", "\r\n"]
    for i, script in enumerate(scripts):
        typed = ""
        for j, command in enumerate(c.strip() for c in script.split(";")):
            if j == 0 and command:
                command = command[0] + "x\b" + command[1:]  # a typo, erased
            typed += command + ends[j % 3]
        open(os.path.join(OUT_LINE, "seed-%02d" % i), "w", newline="").write(typed)
        # The same with the keys people use: Tab after two letters, Left and
        # Right (CSI and SS3), Ctrl-P to recall the last line, Ctrl-C.
        keys = typed[:2] + "\t\x1b[D\x1bOC" + typed[2:] + "\x10\r\x10\x1b[A\x03"
        open(os.path.join(OUT_LINE, "seed-%02d-keys" % i), "w", newline="").write(keys)


def e820_seeds():
    clean(OUT_E820)
    for path in sorted(glob.glob(os.path.join(ROOT, "testdata/boot/*.mb2.bin"))):
        cfg = os.path.basename(path)[: -len(".mb2.bin")]
        seed = bytearray([2])
        seed += struct.pack("<QQ", 0, 1 << 20)
        seed += struct.pack("<QQ", 1 << 20, 3 << 20)
        for e in mb2_memory_map(open(path, "rb").read()):
            seed += e
        open(os.path.join(OUT_E820, "seed-" + cfg), "wb").write(bytes(seed))


def symbols_seeds(kernel_elf):
    clean(OUT_SYMBOLS)
    elf = open(kernel_elf, "rb").read()
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", elf, 0x3A)
    shdrs = [bytearray(elf[shoff + i * shentsize : shoff + (i + 1) * shentsize]) for i in range(shnum)]
    types = [struct.unpack_from("<I", h, 4)[0] for h in shdrs]
    symi = types.index(2)  # SHT_SYMTAB
    stri = struct.unpack_from("<I", shdrs[symi], 40)[0]  # sh_link
    def content(h):
        off, size = struct.unpack_from("<QQ", h, 24)
        return elf[off : off + size]
    symtab, strtab = content(shdrs[symi]), content(shdrs[stri])
    nsyms = len(symtab) // 24
    for keep in (16, 128, 400):  # all ~1,600 make a slow 110 KB seed
        syms = bytearray()
        names = bytearray(b"\0")
        for i in range(min(keep, nsyms)):
            sym = bytearray(symtab[i * 24 : (i + 1) * 24])
            name, = struct.unpack_from("<I", sym, 0)
            if name:
                end = strtab.index(b"\0", name)
                struct.pack_into("<I", sym, 0, len(names))
                names += strtab[name : end + 1]
            syms += sym
        header = bytearray(elf[:64])
        table_off = 64
        sym_off = table_off + shnum * shentsize
        str_off = sym_off + len(syms)
        struct.pack_into("<Q", header, 0x28, table_off)
        out = []
        for i, h in enumerate(shdrs):
            h = bytearray(h)
            if i == symi:
                struct.pack_into("<QQ", h, 24, sym_off, len(syms))
            elif i == stri:
                struct.pack_into("<QQ", h, 24, str_off, len(names))
            else:
                struct.pack_into("<Q", h, 24, 0)  # contents not included
            out.append(bytes(h))
        blob = bytes(header) + b"".join(out) + bytes(syms) + bytes(names)
        open(os.path.join(OUT_SYMBOLS, "seed-kernel-%d" % keep), "wb").write(blob)


def dump_seeds():
    clean(OUT_DUMP)
    test = open(os.path.join(ROOT, "tools/profile/dump_parser_test.cc")).read()
    body = re.search(r"const char kGood\[\] =(.*?);", test, re.S).group(1)
    good = "".join(m.encode().decode("unicode_escape") for m in re.findall(r'"((?:[^"\\]|\\.)*)"', body))
    lines = good.splitlines(keepends=True)
    variants = {
        "good": good,
        "crlf": good.replace("\n", "\r\n"),
        "interleaved": "".join(l + ("cpu 1: other output\n" if i % 2 else "") for i, l in enumerate(lines)),
        "cut-then-good": "".join(lines[1:3]) + good,
    }
    # A PMU profile with the LBR on (the optional `lbr` part of a sample).
    lbr_body = re.search(r"const char kGoodLbr\[\] =(.*?);", test, re.S).group(1)
    variants["lbr"] = "".join(
        m.encode().decode("unicode_escape") for m in re.findall(r'"((?:[^"\\]|\\.)*)"', lbr_body))
    for name, text in variants.items():
        open(os.path.join(OUT_DUMP, "seed-" + name), "w", newline="").write(text)


def pgdir_seeds():
    clean(OUT_PGDIR)
    K4, M2, G1 = 0, 1, 2

    def op(kind, size, region, off_pages, pa_pages=0, flags=0x3):
        # kind: 0 map, 1 unmap, 2 translate; offsets are in 1 KiB units.
        b = bytes([kind | size << 2, region]) + struct.pack("<I", off_pages * 4)
        if kind == 0:
            b += struct.pack("<IH", pa_pages, flags)
        return b

    seqs = {
        "direct-map": [op(0, G1, 2, 0, 0), op(0, G1, 2, 1 << 18, 1 << 18), op(2, 0, 2, 12345)],
        "kernel-image": [op(0, M2, 3, 0x80000 + 512 * i, 0x200 + 512 * i) for i in range(4)]
        + [op(0, K4, 3, 0x80000 + 2048 + i, 0x1000 + i) for i in range(8)]
        + [op(1, K4, 3, 0x80000 + 2048 + 3), op(2, 0, 3, 0x80000 + 2048 + 3), op(1, M2, 3, 0x80000 + 512)],
        "conflicts": [op(0, K4, 1, 1, 1), op(0, M2, 1, 0, 512), op(1, K4, 1, 1), op(0, M2, 1, 0, 512),
                      op(0, G1, 0, 1 << 18, 1 << 18), op(0, K4, 0, (1 << 18) + 5, 7), op(1, K4, 0, (1 << 18) + 5)],
    }
    for name, ops in seqs.items():
        budget = 0xFF if name != "conflicts" else 6
        open(os.path.join(OUT_PGDIR, "seed-" + name), "wb").write(bytes([budget]) + b"".join(ops))


def main():
    pgdir_seeds()
    dump_seeds()
    if len(sys.argv) > 1:
        symbols_seeds(sys.argv[1])
    cmdline_seeds()
    e820_seeds()
    clean(OUT)
    for path in sorted(glob.glob(os.path.join(ROOT, "testdata/boot/*.json"))):
        cfg = os.path.basename(path)[: -len(".json")]
        acpi = json.load(open(path))["acpi"]
        boot = os.path.join(ROOT, "testdata/boot")
        rsdp = open(os.path.join(boot, acpi["RSDP"]["file"]), "rb").read()
        rsdt_addr = acpi["RSDP"]["decoded"]["rsdt_address"]
        entries = acpi["RSDT"]["decoded"]["entries"]
        tables = {}  # phys -> bytes
        for sig, t in acpi.items():
            if sig != "RSDP" and t.get("phys_addr") in entries + [rsdt_addr]:
                tables[t["phys_addr"]] = open(os.path.join(boot, t["file"]), "rb").read()
        assert set(tables) == set(entries + [rsdt_addr]), cfg
        base = min(tables)
        end = max(a + len(b) for a, b in tables.items())
        window = bytearray(end - base)
        for a, b in tables.items():
            window[a - base : a - base + len(b)] = b
        header = bytearray(48)
        header[0:20] = rsdp[:20]
        struct.pack_into("<Q", header, 36, base)
        header[44] = 0
        open(os.path.join(OUT, "seed-" + cfg), "wb").write(bytes(header + window))

        # ACPI 2.0 variant: XSDT after the tables, 8-byte aligned.
        xsdt_addr = (end + 7) & ~7
        xsdt = bytearray(acpi_header(b"XSDT", 36 + 8 * len(entries)))
        for e in entries:
            xsdt += struct.pack("<Q", e)
        fix_sum(xsdt, 9, 0, len(xsdt))
        window2 = window + bytearray(xsdt_addr - end) + xsdt
        rsdp2 = bytearray(rsdp[:20] + bytes(16))
        rsdp2[15] = 2  # revision
        struct.pack_into("<I", rsdp2, 20, 36)  # length
        struct.pack_into("<Q", rsdp2, 24, xsdt_addr)
        fix_sum(rsdp2, 8, 0, 20)
        fix_sum(rsdp2, 32, 0, 36)
        header2 = bytearray(48)
        header2[0:36] = rsdp2
        struct.pack_into("<Q", header2, 36, base)
        header2[44] = 2
        open(os.path.join(OUT, "seed-" + cfg + "-xsdt"), "wb").write(bytes(header2 + window2))


def acpi_header(sig, length):
    # [acpi] 5.2.6: signature, length, revision, checksum, OEM id/table
    # id/revision, creator id/revision.
    return struct.pack("<4sIBB6s8sI4sI", sig, length, 1, 0, b"BOCHS ", b"BXPC    ", 1, b"BXPC", 1)


if __name__ == "__main__":
    main()
