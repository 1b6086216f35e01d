"""A transition to the kernel platform, so that `bazel build //...` reaches
kernel targets without extra flags."""

def _to_kernel_impl(settings, attr):
    return {"//command_line_option:platforms": "//platforms:kernel"}

to_kernel = transition(
    implementation = _to_kernel_impl,
    inputs = [],
    outputs = ["//command_line_option:platforms"],
)
