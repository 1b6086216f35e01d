"""The two C++ toolchain configurations of biscotti, both pinned LLVM:

  host    x86_64 Linux, C++20, for host tests, benchmarks and tools;
  kernel  x86_64 freestanding: only Clang's builtin headers, no SSE/x87,
          no red zone, kernel code model, linked by ld.lld.

Kernel code-generation flags live here, as one named feature
(`kernel_codegen`), never as copts in BUILD files.
"""

load("@bazel_tools//tools/build_defs/cc:action_names.bzl", "ACTION_NAMES")
load(
    "@bazel_tools//tools/cpp:cc_toolchain_config_lib.bzl",
    "feature",
    "flag_group",
    "flag_set",
    "tool_path",
    "variable_with_value",
    "with_feature_set",
)
load("@llvm_toolchain//:defs.bzl", "BUILTIN_INCLUDE_DIR", "HOST_INCLUDE_DIRS", "TOOL_PATHS")

_C_COMPILE = [ACTION_NAMES.c_compile]
_CXX_COMPILE = [
    ACTION_NAMES.cpp_compile,
    ACTION_NAMES.cpp_header_parsing,
    ACTION_NAMES.cpp_module_compile,
    ACTION_NAMES.linkstamp_compile,
]
_ASM = [ACTION_NAMES.assemble, ACTION_NAMES.preprocess_assemble]
_ALL_COMPILE = _C_COMPILE + _CXX_COMPILE + _ASM
_LINK = [
    ACTION_NAMES.cpp_link_executable,
    ACTION_NAMES.cpp_link_dynamic_library,
    ACTION_NAMES.cpp_link_nodeps_dynamic_library,
]

# Flags that make outputs independent of time and of the checkout path.
_REPRODUCIBLE = [
    "-no-canonical-prefixes",
    "-Wno-builtin-macro-redefined",
    "-D__DATE__=\"redacted\"",
    "-D__TIMESTAMP__=\"redacted\"",
    "-D__TIME__=\"redacted\"",
    "-fdebug-compilation-dir=.",
]

_WARNINGS = ["-Wall", "-Wextra", "-Wthread-safety", "-Wno-unused-parameter"]

def _flags(name, actions, flags, enabled = True, with_features = []):
    return feature(
        name = name,
        enabled = enabled,
        flag_sets = [flag_set(
            actions = actions,
            flag_groups = [flag_group(flags = flags)],
            with_features = with_features,
        )],
    )

def _tool_paths():
    return [
        tool_path(name = "gcc", path = TOOL_PATHS["clang"]),
        tool_path(name = "cpp", path = TOOL_PATHS["clang"]),
        tool_path(name = "ld", path = TOOL_PATHS["ld.lld"]),
        tool_path(name = "ar", path = TOOL_PATHS["llvm-ar"]),
        tool_path(name = "nm", path = TOOL_PATHS["llvm-nm"]),
        tool_path(name = "objcopy", path = TOOL_PATHS["llvm-objcopy"]),
        tool_path(name = "objdump", path = TOOL_PATHS["llvm-objdump"]),
        tool_path(name = "strip", path = TOOL_PATHS["llvm-strip"]),
        tool_path(name = "gcov", path = "/bin/false"),
        tool_path(name = "dwp", path = "/bin/false"),
    ]

def _common_features(ctx):
    return [
        _flags("reproducible", _ALL_COMPILE, _REPRODUCIBLE),
        _flags("cxx20", _CXX_COMPILE, ["-std=c++20"]),
        _flags("warnings", _C_COMPILE + _CXX_COMPILE, _WARNINGS),
        _flags("werror", _C_COMPILE + _CXX_COMPILE, ["-Werror"], enabled = ctx.attr.werror),
        # Deterministic archives: no timestamps, uids or modes (the D flag).
        feature(
            name = "archiver_flags",
            enabled = True,
            flag_sets = [flag_set(
                actions = [ACTION_NAMES.cpp_link_static_library],
                flag_groups = [
                    flag_group(flags = ["rcsD", "%{output_execpath}"], expand_if_available = "output_execpath"),
                    flag_group(
                        iterate_over = "libraries_to_link",
                        flag_groups = [
                            flag_group(
                                flags = ["%{libraries_to_link.name}"],
                                expand_if_equal = variable_with_value(name = "libraries_to_link.type", value = "object_file"),
                            ),
                            flag_group(
                                flags = ["%{libraries_to_link.object_files}"],
                                iterate_over = "libraries_to_link.object_files",
                                expand_if_equal = variable_with_value(name = "libraries_to_link.type", value = "object_file_group"),
                            ),
                        ],
                        expand_if_available = "libraries_to_link",
                    ),
                ],
            )],
        ),
        feature(name = "dbg"),
        feature(name = "opt"),
        feature(name = "fastbuild"),
    ]

def _host_features(ctx):
    return _common_features(ctx) + [
        _flags("host_codegen", _ALL_COMPILE, ["-fno-omit-frame-pointer", "-g"]),
        _flags("host_opt_level", _ALL_COMPILE, ["-O1"], with_features = [with_feature_set(not_features = ["opt", "dbg"])]),
        _flags("host_opt", _ALL_COMPILE, ["-O2", "-DNDEBUG"], with_features = [with_feature_set(features = ["opt"])]),
        _flags("host_dbg", _ALL_COMPILE, ["-O0", "-DBISCOTTI_DEBUG=1"], with_features = [with_feature_set(features = ["dbg"])]),
        _flags("host_link", _LINK, ["-fuse-ld=lld", "-Wl,--build-id=none", "-no-canonical-prefixes", "-lstdc++", "-lm", "-pthread"]),
    ]

def _kernel_features(ctx):
    codegen = [
        "--target=x86_64-unknown-none-elf",
        "-ffreestanding",
        "-nostdinc",
        "-isystem",
        BUILTIN_INCLUDE_DIR,
        "-fno-exceptions",
        "-fno-rtti",
        "-fno-threadsafe-statics",
        "-fno-asynchronous-unwind-tables",
        "-fno-unwind-tables",
        "-fno-stack-protector",
        "-mno-red-zone",
        # Eight-byte stack alignment, as Linux builds x86-64 (its
        # -mpreferred-stack-boundary=3, clang's -mstack-alignment=8): kernel
        # code has no SSE, so nothing needs more, and a function that does
        # (an AVX2 routine, simd_function.h) realigns its own frame. Saves
        # the padding push and pop of every frame that calls out with an
        # odd number of saved registers (two instructions a yield).
        "-mstack-alignment=8",
        "-mcmodel=kernel",
        "-fno-pic",
        "-fno-pie",
        "-fno-omit-frame-pointer",
        "-mno-sse",
        "-mno-sse2",
        "-mno-mmx",
        "-mno-80387",
        "-mno-avx",
        "-ffunction-sections",
        "-fdata-sections",
        "-O2",
        "-DBISCOTTI_KERNEL=1",
    ]
    return _common_features(ctx) + [
        _flags("kernel_codegen", _ALL_COMPILE, codegen),
        # DWARF for gdb (tools/gdb/biscotti.py reads the thread list and the
        # per-CPU blocks by type). -g does not change the generated code;
        # kernel_elf strips it from the image that boots and keeps the
        # unstripped link as <name>.debug.elf. Paths in it stay relative
        # ("reproducible" above), so builds from two checkouts match.
        _flags("kernel_debug_info", _ALL_COMPILE, ["-g"]),
        # Bazel's own (legacy) feature of this name links with -Wl,-S under
        # --strip=sometimes (fastbuild), which would drop that DWARF at the
        # link; kernel_elf strips instead, so this one adds nothing.
        feature(name = "strip_debug_symbols"),
        _flags("kernel_link", _LINK, [
            "--target=x86_64-unknown-none-elf",
            "-fuse-ld=lld",
            "-nostdlib",
            "-static",
            "-no-canonical-prefixes",
            "-Wl,--build-id=sha1",
            "-Wl,-z,max-page-size=4096",
            "-Wl,--no-undefined",
            "-Wl,--gc-sections",
        ]),
    ]

def _cc_toolchain_config_impl(ctx):
    kernel = ctx.attr.flavor == "kernel"
    return cc_common.create_cc_toolchain_config_info(
        ctx = ctx,
        toolchain_identifier = "biscotti-" + ctx.attr.flavor,
        host_system_name = "x86_64-unknown-linux-gnu",
        target_system_name = "x86_64-unknown-none-elf" if kernel else "x86_64-unknown-linux-gnu",
        target_cpu = "k8",
        target_libc = "none" if kernel else "glibc",
        compiler = "clang",
        abi_version = "none" if kernel else "local",
        abi_libc_version = "none" if kernel else "local",
        tool_paths = _tool_paths(),
        features = _kernel_features(ctx) if kernel else _host_features(ctx),
        cxx_builtin_include_directories = [BUILTIN_INCLUDE_DIR] if kernel else HOST_INCLUDE_DIRS + [BUILTIN_INCLUDE_DIR],
    )

cc_toolchain_config = rule(
    implementation = _cc_toolchain_config_impl,
    attrs = {
        "flavor": attr.string(mandatory = True, values = ["host", "kernel"]),
        "werror": attr.bool(default = True),
    },
    provides = [CcToolchainConfigInfo],
)
