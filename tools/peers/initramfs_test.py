"""Tests of initramfs.py: the archive is the newc cpio the kernel unpacks,
checked by reading it back field by field (and by cpio(1) when present)."""

import shutil
import stat
import subprocess
import tempfile
import unittest

import initramfs


def read_newc(archive):
    """[(name, mode, rdev major, rdev minor, data)] up to the trailer."""
    entries, pos = [], 0
    while True:
        assert archive[pos:pos + 6] == b"070701", "bad magic at %d" % pos
        fields = [int(archive[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        namesize, filesize = fields[11], fields[6]
        name_at = pos + 110
        name = archive[name_at:name_at + namesize - 1].decode()
        assert archive[name_at + namesize - 1] == 0
        data_at = name_at + namesize + (-(110 + namesize) % 4)
        data = archive[data_at:data_at + filesize]
        pos = data_at + filesize + (-filesize % 4)
        if name == "TRAILER!!!":
            return entries, pos
        entries.append((name, fields[1], fields[9], fields[10], data))


class InitramfsTest(unittest.TestCase):
    def test_holds_console_and_files(self):
        archive = initramfs.build({"init": b"\x7fELF-init", "gobench": b"go" * 33})
        entries, end = read_newc(archive)
        self.assertEqual([e[0] for e in entries], ["dev", "dev/console", "gobench", "init"])
        self.assertTrue(stat.S_ISDIR(entries[0][1]))
        console = entries[1]
        self.assertTrue(stat.S_ISCHR(console[1]))
        self.assertEqual((console[2], console[3]), (5, 1))
        self.assertEqual(entries[3][4], b"\x7fELF-init")
        self.assertEqual(entries[2][4], b"go" * 33)
        self.assertEqual(stat.S_IMODE(entries[3][1]), 0o755)
        self.assertEqual(len(archive) % 512, 0)
        self.assertTrue(all(b == 0 for b in archive[end:]))

    def test_repeats_byte_for_byte(self):
        files = {"init": b"abc", "gobench": b"defg"}
        self.assertEqual(initramfs.build(files), initramfs.build(dict(reversed(list(files.items())))))

    def test_rejects_absolute_and_empty_paths(self):
        with self.assertRaises(ValueError):
            initramfs.build({"/init": b""})
        with self.assertRaises(ValueError):
            initramfs.build({"": b""})

    @unittest.skipUnless(shutil.which("cpio"), "cpio(1) not installed")
    def test_cpio_lists_it(self):
        archive = initramfs.build({"init": b"x"})
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run(["cpio", "-t"], input=archive, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=d)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.decode().split(), ["dev", "dev/console", "init"])


if __name__ == "__main__":
    unittest.main()
