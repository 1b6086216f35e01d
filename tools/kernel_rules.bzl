"""Rules for the bootable artefacts: kernel.elf (built for the kernel
platform through a transition, debug info stripped), its unstripped twin
kernel.debug.elf (for gdb), kernel.iso (GRUB, multiboot2), and the kernel
command-line build setting."""

load("@llvm_toolchain//:defs.bzl", "TOOL_PATHS")
load("//platforms:transition.bzl", "to_kernel")

CmdlineInfo = provider(fields = ["value"])

# The linked kernel with its DWARF, which kernel_debug_elf exposes.
KernelDebugInfo = provider(fields = ["unstripped"])

def _cmdline_setting_impl(ctx):
    return [CmdlineInfo(value = ctx.build_setting_value)]

cmdline_setting = rule(
    implementation = _cmdline_setting_impl,
    build_setting = config.string(flag = True),
)

def _fixed_cmdline_impl(ctx):
    return [CmdlineInfo(value = ctx.attr.value)]

# A command line fixed in the BUILD file (biscotti_kernel's `cmdline`),
# where cmdline_setting is one set from Bazel's command line.
fixed_cmdline = rule(
    implementation = _fixed_cmdline_impl,
    attrs = {"value": attr.string(mandatory = True)},
)

def _single(attr):
    # A transitioned label attribute is a list in Bazel 4.
    return attr[0] if type(attr) == "list" else attr

def _kernel_elf_impl(ctx):
    binary = _single(ctx.attr.binary)[DefaultInfo].files_to_run.executable
    out = ctx.actions.declare_file(ctx.label.name)
    # The image that boots carries no DWARF (a smaller ISO; symbols stay for
    # backtraces and the profiler). Stripping leaves every loaded byte and
    # the build-id note as linked, so gdb can load kernel.debug.elf against
    # this very image.
    ctx.actions.run(
        executable = TOOL_PATHS["llvm-objcopy"],
        arguments = ["--strip-debug", binary.path, out.path],
        inputs = [binary],
        outputs = [out],
        mnemonic = "KernelElf",
        progress_message = "Stripping debug info into %s" % out.short_path,
    )
    return [
        DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out])),
        KernelDebugInfo(unstripped = binary),
    ]

kernel_elf = rule(
    implementation = _kernel_elf_impl,
    attrs = {
        "binary": attr.label(cfg = to_kernel, mandatory = True),
        # Overrides --//src/arch:max_cpus for this kernel (0 keeps it).
        "max_cpus": attr.int(default = 0),
        # True turns DEBUG_ASSERT on for this kernel, as
        # --//src/base:debug_asserts=true does for the whole build.
        "debug_asserts": attr.bool(default = False),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)

def _kernel_debug_elf_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name)
    src = ctx.attr.kernel[KernelDebugInfo].unstripped
    ctx.actions.run_shell(
        inputs = [src],
        outputs = [out],
        command = "cp '{}' '{}' && chmod 0644 '{}'".format(src.path, out.path, out.path),
        mnemonic = "KernelDebugElf",
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

# The unstripped kernel of a kernel_elf target: what gdb loads.
kernel_debug_elf = rule(
    implementation = _kernel_debug_elf_impl,
    attrs = {
        "kernel": attr.label(mandatory = True, providers = [KernelDebugInfo]),
    },
)

def _kernel_iso_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name)
    cmdline = ctx.attr.cmdline[CmdlineInfo].value
    ctx.actions.run(
        executable = ctx.executable._make_iso,
        arguments = [ctx.file.kernel.path, out.path, cmdline, ctx.attr.source_date_epoch, ctx.attr.loader] +
                    [m.path for m in ctx.files.modules],
        inputs = [ctx.file.kernel] + ctx.files.modules,
        outputs = [out],
        mnemonic = "KernelIso",
        progress_message = "Making bootable ISO %s" % out.short_path,
        # grub-mkrescue and xorriso come from the host system (installed by
        # tools/bazel) and are found on the strict action PATH.
        use_default_shell_env = True,
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

kernel_iso = rule(
    implementation = _kernel_iso_impl,
    attrs = {
        "kernel": attr.label(allow_single_file = True, mandatory = True),
        "cmdline": attr.label(mandatory = True, providers = [CmdlineInfo]),
        # Every timestamp in the ISO is pinned to this (SOURCE_DATE_EPOCH).
        "source_date_epoch": attr.string(default = "1767225600"),
        # GRUB's loader command; "multiboot" exists only to test that the
        # kernel refuses a multiboot1 start with a clear message.
        "loader": attr.string(default = "multiboot2", values = ["multiboot2", "multiboot"]),
        # Files GRUB loads beside the kernel (`module2`, in this order), each
        # named by its file name; the kernel carves them out of free memory.
        "modules": attr.label_list(allow_files = True),
        "_make_iso": attr.label(default = "//tools:make_iso", executable = True, cfg = "exec"),
    },
)
