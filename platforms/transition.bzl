"""A transition to the kernel platform, so that `bazel build //...` reaches
kernel targets without extra flags. A rule may also fix MAX_CPUS for its
kernel (attribute `max_cpus`, 0 = keep the command line's) and turn
DEBUG_ASSERT on (attribute `debug_asserts`, False = keep the command
line's). The host's sanitizer flags (--config=asan/tsan add -fsanitize=
copts and linkopts) are dropped on the way: the kernel has no sanitizer
runtime, and host tests that read kernel.elf must still build under them."""

# Label()s, so that from another workspace (biscotti_kernel loaded as
# @biscotti) they still name biscotti's settings and platform.
_MAX_CPUS = str(Label("//src/arch:max_cpus"))
_DEBUG_ASSERTS = str(Label("//src/base:debug_asserts"))
_KERNEL_PLATFORM = str(Label("//platforms:kernel"))

_COPT = "//command_line_option:copt"
_LINKOPT = "//command_line_option:linkopt"

def _without_sanitizers(flags):
    return [f for f in flags if not (f.startswith("-fsanitize") or f.startswith("-fno-sanitize"))]

def _to_kernel_impl(settings, attr):
    max_cpus = getattr(attr, "max_cpus", 0)
    return {
        "//command_line_option:platforms": _KERNEL_PLATFORM,
        _MAX_CPUS: max_cpus if max_cpus else settings[_MAX_CPUS],
        _DEBUG_ASSERTS: getattr(attr, "debug_asserts", False) or settings[_DEBUG_ASSERTS],
        _COPT: _without_sanitizers(settings[_COPT]),
        _LINKOPT: _without_sanitizers(settings[_LINKOPT]),
    }

to_kernel = transition(
    implementation = _to_kernel_impl,
    inputs = [_MAX_CPUS, _DEBUG_ASSERTS, _COPT, _LINKOPT],
    outputs = ["//command_line_option:platforms", _MAX_CPUS, _DEBUG_ASSERTS, _COPT, _LINKOPT],
)
