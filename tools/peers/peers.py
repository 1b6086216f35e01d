"""Peers in one command (issue 17, item 5): boots Debian's Linux kernel with
an initramfs holding a static C benchmark (/init, linux_bench.c) and a Go
benchmark (/gobench, gobench/), then biscotti's bench=sched, in the same
QEMU with the same flags (-icount shift=0,sleep=off, -cpu max, -smp 2,
256 MiB: tools/qemu.sh's with --icount), and prints the table of guest
instructions per operation side by side. Under it, two Go figures outside
the comparison: its ping-pong on 2 CPUs unpinned (the runtime keeps it on
one CPU; the table's Go figure is the pinned, cross-CPU one) and over a raw
futex between the pinned threads, and what the benchmarks said as info.

  tools/bazel run //tools/peers -- [--smp N] [--icount | --no-icount]
                                   [--kernel VMLINUZ] [--timeout S] [--logs DIR]

  --smp N        CPUs of both boots (1 to 8, default 2; on 1 the 2-CPU row
                 shows "—")
  --icount       time = guest instructions (the default; figures are then
                 guest instructions). --no-icount measures host TSC cycles,
                 which vary run to run
  --kernel PATH  a vmlinuz to boot instead of linux-image-amd64's
  --timeout S    give up on a boot after S seconds (default 1200)
  --logs DIR     keep both serial logs there (default: a temporary
                 directory, kept only when something failed)

The Linux kernel is linux-image-amd64's: an installed one's /boot/vmlinuz,
else the package is fetched with `apt-get download` (no installation, no
root) into ~/.cache/biscotti-peers, and its vmlinuz (12 MB) is unpacked
there with dpkg-deb and tar; the .deb is then removed.
Exit status: 0 the table was printed; 1 a boot or a benchmark failed or
printed no figure; 2 a usage error or something missing (a package, a
tool).
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import initramfs
import peers_table

HERE = os.path.dirname(os.path.abspath(__file__))


class Missing(Exception):
    """Something the run needs is not on this machine; says how to get it."""


def note(msg):
    print("peers: " + msg, file=sys.stderr, flush=True)


def need_tool(name, package):
    path = shutil.which(name)
    if not path:
        raise Missing("%s not found: install Debian's %s" % (name, package))
    return path


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "biscotti-peers")


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def image_package():
    """The versioned package linux-image-amd64 depends on, e.g.
    linux-image-6.1.0-57-amd64, and its version, as apt sees them."""
    need_tool("apt-cache", "apt")
    r = run(["apt-cache", "depends", "linux-image-amd64"])
    m = re.search(r"Depends: (linux-image-[\w.+-]+-amd64)", r.stdout)
    if r.returncode != 0 or not m:
        raise Missing("apt knows no linux-image-amd64 (apt-cache depends said: %s); "
                      "run apt-get update, or pass --kernel VMLINUZ" % (r.stderr.strip() or r.stdout.strip()))
    return m.group(1)


def find_kernel():
    """(path of vmlinuz, its label for the table)."""
    pkg = image_package()
    release = pkg[len("linux-image-"):]
    installed = "/boot/vmlinuz-" + release
    r = run(["dpkg-query", "-W", "-f=${Status} ${Version}", pkg])
    if r.returncode == 0 and r.stdout.startswith("install ok installed") and os.access(installed, os.R_OK):
        return installed, "Linux " + r.stdout.split()[-1]
    cache = cache_dir()
    os.makedirs(cache, exist_ok=True)
    # Unpacked before: <cache>/<package>_<version>/boot/vmlinuz-<release>.
    unpacked = sorted(glob.glob(os.path.join(cache, pkg + "_*", "boot", "vmlinuz-" + release)))
    if unpacked:
        vmlinuz = unpacked[-1]
        return vmlinuz, "Linux " + os.path.basename(os.path.dirname(os.path.dirname(vmlinuz))).split("_")[1]
    need_tool("apt-get", "apt")
    need_tool("dpkg-deb", "dpkg")
    need_tool("tar", "tar")
    note("fetching %s with apt-get download into %s" % (pkg, cache))
    r = run(["apt-get", "download", pkg], cwd=cache)
    debs = sorted(glob.glob(os.path.join(cache, pkg + "_*.deb")))
    if r.returncode != 0 or not debs:
        raise Missing("apt-get download %s failed: %s; or pass --kernel VMLINUZ" % (pkg, r.stderr.strip()))
    deb = debs[-1]
    version = os.path.basename(deb).split("_")[1]
    root = os.path.join(cache, "%s_%s" % (pkg, version))
    os.makedirs(root, exist_ok=True)
    # Only the kernel image: the package's modules are 400 MB unpacked.
    member = "./boot/vmlinuz-" + release
    unpack = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
    r = run(["tar", "-x", "-C", root, member], stdin=unpack.stdout)
    unpack.stdout.close()
    vmlinuz = os.path.join(root, member)
    if unpack.wait() != 0 or r.returncode != 0 or not os.path.exists(vmlinuz):
        raise Missing("unpacking %s from %s failed: %s" % (member, deb, r.stderr.strip()))
    os.remove(deb)
    return os.path.normpath(vmlinuz), "Linux " + version


def build_c(out):
    cc = shutil.which("clang-14") or shutil.which("cc")
    if not cc:
        raise Missing("no C compiler: install clang-14 (tools/bazel installs it)")
    r = run([cc, "-static", "-O2", "-pthread", "-o", out, os.path.join(HERE, "linux_bench.c")])
    if r.returncode != 0:
        raise Missing("building the static C benchmark failed (a static link needs libc6-dev's libc.a):\n" + r.stderr)


def build_go(work, out):
    go = need_tool("go", "golang-go (tools/bazel installs it)")
    src = os.path.join(work, "gobench")
    shutil.copytree(os.path.join(HERE, "gobench"), src)
    env = dict(os.environ, CGO_ENABLED="0", GOOS="linux", GOARCH="amd64", GOPROXY="off", GOFLAGS="-mod=mod",
               GOCACHE=os.path.join(cache_dir(), "go-build"), GO111MODULE="on")
    r = run([go, "build", "-trimpath", "-o", out, "."], cwd=src, env=env)
    if r.returncode != 0:
        raise Missing("building the Go benchmark failed:\n" + r.stderr)
    v = run([go, "version"], env=env).stdout
    m = re.search(r"go(\d+\.\d+(?:\.\d+)?)", v)
    return "Go " + (m.group(1) if m else "?")


def qemu_flags(smp, icount):
    # tools/qemu.sh's own, for --icount --smp N --cpu max (its defaults:
    # machine pc, 256 MiB).
    flags = ["-machine", "pc", "-cpu", "max", "-smp", str(smp), "-m", "256M", "-display", "none", "-no-reboot"]
    if icount:
        flags += ["-icount", "shift=0,sleep=off"]
    return flags


def boot_linux(vmlinuz, initrd, args, log):
    qemu = need_tool("qemu-system-x86_64", "qemu-system-x86 (tools/bazel installs it)")
    # panic=-1: a kernel panic (/init crashing) reboots at once, which
    # -no-reboot turns into QEMU exiting, instead of a hang. maxcpus=1:
    # under -icount Linux 6.1's boot-time bring-up of CPU 1 never ends (the
    # AP spins in wait_for_master_cpu; seen with QEMU 7.2), so /init brings
    # the other CPUs online through sysfs, which works.
    cmd = [qemu] + qemu_flags(args.smp, args.icount) + [
        "-serial", "file:" + log, "-kernel", vmlinuz, "-initrd", initrd,
        "-append", "console=ttyS0 quiet panic=-1 maxcpus=1"]
    note("booting Linux (-smp %d%s)" % (args.smp, ", -icount" if args.icount else ""))
    try:
        r = run(cmd, timeout=args.timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise peers_table.PeersError("the Linux boot did not end within %d s (see %s)" % (args.timeout, log))
    if r.returncode != 0:
        raise peers_table.PeersError("QEMU failed booting Linux (status %d): %s" % (r.returncode, r.stderr.strip()))
    with open(log, errors="replace") as f:
        return f.read()


def boot_biscotti(args, log):
    # tools/qemu.sh, as `tools/bazel run //:qemu -- --icount --smp N --cpu
    # max --cmdline bench=...` would run it: the same flags by construction.
    benches = ",".join(row[-1] for row in peers_table.ROWS)  # biscotti's benchmark
    cmd = [args.qemu_sh, "--iso", args.iso, "--smp", str(args.smp), "--cpu", "max", "--cmdline", "bench=" + benches,
           "--timeout", str(args.timeout)]
    if args.icount:
        cmd.append("--icount")
    note("booting biscotti with bench=" + benches)
    with open(log, "w") as f:
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise peers_table.PeersError("biscotti's bench boot failed (tools/qemu.sh status %d): %s (see %s)" %
                                     (r.returncode, r.stderr.strip(), log))
    with open(log, errors="replace") as f:
        return f.read()


def parse_args(argv):
    p = argparse.ArgumentParser(prog="peers", description="Linux, Go and biscotti side by side in one QEMU")
    p.add_argument("--smp", type=int, default=2)
    p.add_argument("--icount", dest="icount", action="store_true", default=True)
    p.add_argument("--no-icount", dest="icount", action="store_false")
    p.add_argument("--kernel")
    p.add_argument("--timeout", type=int, default=1200)
    p.add_argument("--logs")
    # Set by the //tools/peers target.
    p.add_argument("--iso", required=True)
    p.add_argument("--qemu-sh", required=True)
    args = p.parse_args(argv)
    if not 1 <= args.smp <= 8:
        p.error("--smp takes 1 to 8, not %d" % args.smp)
    if args.timeout < 1:
        p.error("--timeout takes a whole number of seconds > 0, not %d" % args.timeout)
    if args.kernel and not os.path.isfile(args.kernel):
        p.error("--kernel: no file %s" % args.kernel)
    for path in (args.iso, args.qemu_sh):
        if not os.path.isfile(path):
            p.error("%s does not exist: run this with tools/bazel run //tools/peers" % path)
    # bazel run starts us in the runfiles tree; the user's paths are
    # relative to where they typed the command.
    where = os.environ.get("BUILD_WORKING_DIRECTORY", os.getcwd())
    for name in ("kernel", "logs"):
        v = getattr(args, name)
        if v:
            setattr(args, name, os.path.join(where, v))
    args.iso, args.qemu_sh = os.path.abspath(args.iso), os.path.abspath(args.qemu_sh)
    return args


def main(argv):
    args = parse_args(argv)
    work = tempfile.mkdtemp(prefix="peers-")
    logs = args.logs or work
    os.makedirs(logs, exist_ok=True)
    ok = False
    try:
        if args.kernel:
            vmlinuz, linux_label = args.kernel, "Linux"
        else:
            vmlinuz, linux_label = find_kernel()
        build_c(os.path.join(work, "init"))
        go_label = build_go(work, os.path.join(work, "gobench.bin"))
        files = {}
        for name, path in (("init", "init"), ("gobench", "gobench.bin")):
            with open(os.path.join(work, path), "rb") as f:
                files[name] = f.read()
        initrd = os.path.join(work, "initramfs.cpio")
        with open(initrd, "wb") as f:
            f.write(initramfs.build(files))

        linux_log = os.path.join(logs, "linux-serial.log")
        biscotti_log = os.path.join(logs, "biscotti-serial.log")
        peers = peers_table.parse_peers(boot_linux(vmlinuz, initrd, args, linux_log))
        biscotti = peers_table.parse_biscotti(boot_biscotti(args, biscotti_log))
        unit = "guest instructions" if args.icount else "host TSC cycles (no -icount: they vary)"
        cpus = "1 CPU" if args.smp == 1 else "%d CPUs" % args.smp
        print("Per operation, in %s; %s, -cpu max, medians of seven samples:\n" % (unit, cpus))
        print(peers_table.table(peers, biscotti, linux_label, go_label))
        for line in peers_table.notes(peers):
            print(line)
        ok = True
        return 0
    except Missing as e:
        note(str(e))
        return 2
    except peers_table.PeersError as e:
        note(str(e))
        note("serial logs kept in " + logs)
        return 1
    finally:
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            note("work files (benchmarks, initramfs) kept in " + work)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
