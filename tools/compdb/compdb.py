#!/usr/bin/env python3
"""Writes compile_commands.json for clangd and clang-tidy from Bazel's own
action graph: every C++ compile action of the targets (`bazel aquery`), with
its real flags, kernel and host alike.

  tools/compdb/compdb.py [--out FILE] [--bazel PATH] [TARGET...]

Default targets: //... (the kernel is reached through its transition, so
kernel sources get the kernel's flags). Paths are rewritten so that the
commands work from the workspace root: `external/R` becomes the output base's
copy of repository R and `bazel-out/` the execution root's, and each file is
named by its absolute path in the workspace, which is how clangd looks it up.
A file compiled in two configurations (src/base in the kernel and in host
tests) keeps the kernel's command. The generated headers the commands
include are built first (unless --no-build), so that clangd finds them."""

import argparse
import json
import os
import subprocess
import sys


def run(cmd, cwd):
    try:
        return subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.PIPE, text=True).stdout
    except FileNotFoundError:
        sys.exit("compdb: cannot run %s" % cmd[0])
    except subprocess.CalledProcessError as e:
        sys.exit("compdb: `%s` failed with status %d" % (" ".join(cmd), e.returncode))


def rewrite(arg, output_base, execroot):
    for prefix, target in (("external/", output_base + "/external/"), ("bazel-out/", execroot + "/bazel-out/")):
        if arg.startswith(prefix):
            return target + arg[len(prefix):]
        # Flags that carry a path: -iquote and -isystem take it as the next
        # argument (handled above); -I, -MF and friends may join it.
        for flag in ("-I", "-isystem", "-iquote", "-frandom-seed="):
            if arg.startswith(flag + prefix):
                return flag + target + arg[len(flag) + len(prefix):]
    return arg


def source_of(args):
    """The file a compile action compiles: the argument after -c."""
    for i, a in enumerate(args):
        if a == "-c" and i + 1 < len(args):
            return args[i + 1]
    return None


def is_kernel(args):
    return any(a.startswith("--target=") and a.endswith("-none-elf") for a in args)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", help="where to write (default: compile_commands.json in the workspace root)")
    p.add_argument("--bazel", help="the Bazel launcher (default: tools/bazel in the workspace)")
    p.add_argument("--no-build", action="store_true", help="do not build the generated headers first")
    p.add_argument("--bazel-arg", action="append", default=[],
                   help="an extra argument for every Bazel command (e.g. --output_user_root=DIR is a startup "
                        "option: give those with --startup-arg)")
    p.add_argument("--startup-arg", action="append", default=[], help="a Bazel startup option")
    p.add_argument("targets", nargs="*", default=["//..."])
    a = p.parse_args()

    workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY") or os.getcwd()
    if not os.path.isfile(os.path.join(workspace, "WORKSPACE")):
        sys.exit("compdb: %s is not a Bazel workspace (run it from the workspace root)" % workspace)
    bazel = [a.bazel or os.path.join(workspace, "tools", "bazel")] + a.startup_arg
    universe = " + ".join(a.targets)

    output_base = run(bazel + ["info", "output_base"] + a.bazel_arg, workspace).strip()
    execroot = run(bazel + ["info", "execution_root"] + a.bazel_arg, workspace).strip()
    if not a.no_build:
        generated = run(bazel + ["query", "kind(genrule, deps(%s))" % universe, "--output=label"], workspace).split()
        if generated:
            run(bazel + ["build"] + a.bazel_arg + generated, workspace)
    graph = json.loads(run(bazel + ["aquery", 'mnemonic("CppCompile", deps(%s))' % universe, "--output=jsonproto"]
                           + a.bazel_arg, workspace))

    entries = {}
    for action in graph.get("actions", []):
        args = action.get("arguments", [])
        src = source_of(args)
        if src is None:
            continue
        path = os.path.join(output_base, src) if src.startswith("external/") else os.path.join(workspace, src)
        if path in entries and not is_kernel(args):
            continue  # the kernel's command wins for a file compiled twice
        entries[path] = {
            "directory": workspace,
            "file": path,
            "arguments": [rewrite(x, output_base, execroot) for x in args],
        }
    if not entries:
        sys.exit("compdb: no C++ compile actions under %s" % universe)
    out = a.out or os.path.join(workspace, "compile_commands.json")
    with open(out, "w") as f:
        json.dump(sorted(entries.values(), key=lambda e: e["file"]), f, indent=1)
        f.write("\n")
    kernel = sum(1 for e in entries.values() if is_kernel(e["arguments"]))
    print("compdb: %d files (%d with the kernel's flags, %d the host's) in %s" %
          (len(entries), kernel, len(entries) - kernel, out))


if __name__ == "__main__":
    main()
