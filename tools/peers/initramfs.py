"""An initramfs for tools/peers: a "newc" cpio archive, the format the
Linux kernel unpacks into its rootfs (Documentation/driver-api/early-
userspace/buffer-format.rst), written here rather than by cpio(1) so that
it needs no root for the console's device node and repeats byte for byte
(every time stamp is 0, the owner root).
"""

import stat

_MAGIC = b"070701"


def _entry(name, mode, data=b"", rdev=(0, 0), ino=0):
    name_bytes = name.encode() + b"\0"
    fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_bytes), 0)
    header = _MAGIC + b"".join(b"%08x" % f for f in fields)
    out = header + name_bytes
    out += b"\0" * (-len(out) % 4)  # the name is padded to 4 bytes
    out += data
    out += b"\0" * (-len(out) % 4)  # and so is the data
    return out


def build(files):
    """The archive holding /dev/console and `files`: {path in the archive:
    bytes}, each an executable. The kernel opens /dev/console for /init's
    standard streams before running it; without the node /init writes
    nowhere."""
    parts = [
        _entry("dev", stat.S_IFDIR | 0o755, ino=1),
        # Character device 5:1 (Documentation/admin-guide/devices.txt).
        _entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1), ino=2),
    ]
    for i, (path, data) in enumerate(sorted(files.items())):
        if path.startswith("/") or not path:
            raise ValueError("initramfs paths are relative and not empty, not %r" % path)
        parts.append(_entry(path, stat.S_IFREG | 0o755, data, ino=3 + i))
    parts.append(_entry("TRAILER!!!", 0))
    archive = b"".join(parts)
    return archive + b"\0" * (-len(archive) % 512)
