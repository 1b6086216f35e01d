"""biscotti_kernel: a kernel built on biscotti. It links the application's
sources with the runtime (//src/kernel:runtime), which starts the
application's `kernel::app_main` as a thread once it is up
(src/kernel/app.h), and makes:

  <name>.elf          the kernel image (built for the kernel platform)
  <name>.iso          a GRUB ISO booting it with `cmdline`
  <name>_qemu         `bazel run` boots it (tools/qemu.sh's flags pass through)
  <name>_boot_test    boots it under QEMU and checks the run: exit status
                      `expect_exit`, serial log lines `expect` (regexes)

Usage (examples/hello/BUILD.bazel):

  load("//tools:biscotti_kernel.bzl", "biscotti_kernel")
  biscotti_kernel(
      name = "hello",
      srcs = ["hello.cc"],
      expect = ["hello from biscotti"],
  )

From another workspace, load it as "@biscotti//tools:biscotti_kernel.bzl"
(docs/first_kernel.md). Labels here are Label()s, so they name this
repository's targets from either side.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary")
load("//test:boot_test.bzl", "boot_test")
load("//tools:kernel_rules.bzl", "fixed_cmdline", "kernel_elf", "kernel_iso")

_RUNTIME = Label("//src/kernel:runtime")
_LINKER_SCRIPT = Label("//src/kernel:kernel.ld")
_KERNEL_ONLY = Label("@platforms//os:none")
_QEMU_SH = Label("//tools:qemu.sh")

def biscotti_kernel(
        name,
        srcs,
        deps = [],
        cmdline = "console=ttyS0",
        smp = 2,
        mem = "128M",
        expect = [],
        reject = [],
        expect_exit = "pass",
        timeout_s = 120,
        copts = [],
        visibility = None):
    """A kernel from the application's `srcs` and `deps` plus the runtime.

    Args:
      name: the kernel's name; the targets above are named after it.
      srcs: the application's sources; one of them defines kernel::app_main.
      deps: libraries they use (the runtime's own come with it).
      cmdline: the kernel command line baked into <name>.iso.
      smp, mem: the QEMU machine of <name>_boot_test.
      expect, reject: regexes the boot test's serial log must (not) match.
      expect_exit: the boot test's expected ending: pass, fail or reset.
      timeout_s: the boot test's limit in seconds (a hang fails by then).
      copts: extra compiler flags for `srcs`.
      visibility: of the .elf and .iso.
    """
    if not srcs:
        fail("biscotti_kernel %s: srcs is empty; one source must define kernel::app_main" % name)
    binary = name + "_binary"
    cc_binary(
        name = binary,
        srcs = srcs,
        copts = copts,
        additional_linker_inputs = [_LINKER_SCRIPT],
        linkopts = ["-Wl,-T,$(location %s)" % _LINKER_SCRIPT],
        target_compatible_with = [_KERNEL_ONLY],
        deps = [_RUNTIME] + deps,
        visibility = ["//visibility:private"],
    )
    kernel_elf(
        name = name + ".elf",
        binary = ":" + binary,
        visibility = visibility,
    )
    fixed_cmdline(
        name = name + "_cmdline",
        value = cmdline,
        visibility = ["//visibility:private"],
    )
    kernel_iso(
        name = name + ".iso",
        cmdline = ":%s_cmdline" % name,
        kernel = ":%s.elf" % name,
        visibility = visibility,
    )
    native.sh_binary(
        name = name + "_qemu",
        srcs = [_QEMU_SH],
        args = ["--iso", "$(location :%s.iso)" % name, "--smp", str(smp), "--mem", mem],
        data = [":%s.iso" % name],
    )
    boot_test(
        name = name + "_boot_test",
        iso = ":%s.iso" % name,
        smp = smp,
        mem = mem,
        expect = expect,
        reject = reject,
        expect_exit = expect_exit,
        timeout_s = timeout_s,
        size = "medium" if timeout_s > 60 else "small",
    )
