#!/usr/bin/env python3
"""Runs inside the terminal under test: puts its tty in raw mode and appends
every byte the terminal sends to OUT, unchanged, until killed.

  record.py OUT [--appcursor] [--bracketed-paste]
  record.py --pty OUT

--pty stands in for a serial line instead: it opens a pseudo-terminal
pair, writes the terminal side's path to OUT.ready, and records what a
program that opened that path as its serial port (`screen PATH 115200`)
writes to it.

--appcursor sets DECCKM (ESC [ ? 1 h, xterm's ctlseqs "Application Cursor
Keys") and --bracketed-paste sets mode 2004 before recording, as a program
that left them on would. When set up, it writes the TERM it runs under to
OUT.ready."""
import os
import sys
import termios
import tty


def record_pty(out):
    master, slave = os.openpty()
    path = os.ttyname(slave)
    # Raw on our side too, so nothing is translated before it is recorded.
    tty.setraw(slave, termios.TCSANOW)
    with open(out, "wb", buffering=0) as f:
        with open(out + ".ready", "w") as ready:
            ready.write(path + "\n")
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the last opener closed the line
                return
            if not data:
                return
            f.write(data)


def main():
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "--pty":
        return record_pty(args[1])
    if not args or args[0].startswith("-"):
        sys.exit("usage: record.py OUT [--appcursor] [--bracketed-paste]")
    out, flags = args[0], args[1:]
    for f in flags:
        if f not in ("--appcursor", "--bracketed-paste"):
            sys.exit(f"record.py: unknown option {f!r}")
    fd = sys.stdin.fileno()
    if not os.isatty(fd):
        sys.exit("record.py: stdin is not a terminal")
    # Raw: no echo, no line discipline, no signals from Ctrl-C/Ctrl-Z, no
    # CR-to-LF, so each byte reaches us as the terminal sent it (as it
    # reaches the kernel through QEMU's serial chardev).
    tty.setraw(fd, termios.TCSANOW)
    modes = ""
    if "--appcursor" in flags:
        modes += "\x1b[?1h"
    if "--bracketed-paste" in flags:
        modes += "\x1b[?2004h"
    os.write(sys.stdout.fileno(), (modes + "recording\r\n").encode())
    with open(out, "wb", buffering=0) as f:
        with open(out + ".ready", "w") as ready:
            ready.write(os.environ.get("TERM", "") + "\n")
        while True:
            data = os.read(fd, 4096)
            if not data:
                return
            f.write(data)


if __name__ == "__main__":
    main()
