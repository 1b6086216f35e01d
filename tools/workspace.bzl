"""For a workspace that builds kernels on biscotti (docs/first_kernel.md).
Its WORKSPACE names biscotti's checkout once, then calls this:

  local_repository(name = "biscotti", path = "/path/to/biscotti")
  load("@biscotti//tools:workspace.bzl", "biscotti_dependencies")
  biscotti_dependencies(path = "/path/to/biscotti")

It defines, offline, the repositories biscotti's BUILD files name (the
rules_cc, rules_java, remote_coverage_tools and platforms stand-ins, and the
pinned LLVM) and registers biscotti's host and kernel toolchains. Its
.bazelrc must also `import` biscotti's (see the guide)."""

load("//toolchain:llvm_repository.bzl", "llvm_repository")

def biscotti_dependencies(path):
    """Defines biscotti's offline dependencies and registers its toolchains.

    Args:
      path: the biscotti checkout, as given to local_repository(name = "biscotti").
    """
    if not path:
        fail("biscotti_dependencies: path must name the biscotti checkout")
    for repo in ["rules_cc", "rules_java", "remote_coverage_tools", "platforms"]:
        native.local_repository(name = repo, path = path + "/third_party/" + repo)
    llvm_repository(name = "llvm_toolchain", version = "14.0.6")
    native.register_toolchains(
        "@biscotti//toolchain:host_cc_toolchain",
        "@biscotti//toolchain:kernel_cc_toolchain",
    )
