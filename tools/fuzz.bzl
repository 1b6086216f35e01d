"""libFuzzer targets run as tests (README, "Tests").

    fuzz_test(name, srcs, deps, corpus, max_total_time = 30)

builds `srcs` (which define LLVMFuzzerTestOneInput) and every dependency
with -fsanitize=fuzzer-no-link,address,undefined through a transition, so
the parser under test is coverage-instrumented too (per-target copts would
instrument only the harness), and links with -fsanitize=fuzzer (libFuzzer
supplies main). The test copies the seed `corpus` files into a scratch
corpus and fuzzes for `max_total_time` seconds; it fails on any crash,
sanitizer report, leak, input slower than 5 s or use of more than 2 GiB,
and ends with one line that tools/reliability_table.py reads:
    fuzz: //src/mm:e820_fuzz 385012 executions in 30 s, corpus 702 inputs, crashes 0, leaks 0, timeouts 0
The failing input is written to $TEST_UNDECLARED_OUTPUTS_DIR (Bazel zips
it into bazel-testlogs/<package>/<name>/test.outputs/outputs.zip); commit
it into the target's corpus directory so it stays a regression input.

Fuzz tests are host-only and tagged "fuzz":
    bazel test //... --test_tag_filters=fuzz
and a longer run of one target:
    bazel test //src/arch:multiboot2_fuzz --test_arg=-max_total_time=600 \
        --test_timeout=900
(the last -max_total_time wins)."""

load("@rules_cc//cc:defs.bzl", "cc_binary")

_COPT = "//command_line_option:copt"
_LINKOPT = "//command_line_option:linkopt"

def _without_sanitizers(flags):
    return [f for f in flags if not (f.startswith("-fsanitize") or f.startswith("-fno-sanitize"))]

def _to_fuzz_impl(settings, attr):
    return {
        # -fno-sanitize-ignorelist: clang's default ignorelist is an input
        # Bazel does not know about (see .bazelrc, config asan).
        _COPT: _without_sanitizers(settings[_COPT]) + [
            "-fsanitize=fuzzer-no-link,address,undefined",
            "-fno-sanitize-recover=all",
            "-fno-sanitize-ignorelist",
        ],
        # The toolchain links with clang, not clang++: ask for UBSan's C++
        # runtime explicitly.
        _LINKOPT: _without_sanitizers(settings[_LINKOPT]) + [
            "-fsanitize=fuzzer,address,undefined",
            "-fsanitize-link-c++-runtime",
        ],
    }

_to_fuzz = transition(
    implementation = _to_fuzz_impl,
    inputs = [_COPT, _LINKOPT],
    outputs = [_COPT, _LINKOPT],
)

_SCRIPT = """#!/bin/bash
set -euo pipefail
# libFuzzer adds what it finds to the first corpus directory; the seeds in
# runfiles are read-only, so it works on a copy.
corpus="$(mktemp -d "${{TEST_TMPDIR:-/tmp}}/corpus.XXXXXX")"
for f in {seeds}; do cp "$f" "$corpus/$(basename "$f")"; done
artifacts="${{TEST_UNDECLARED_OUTPUTS_DIR:-$corpus}}/"
out="$(mktemp "${{TEST_TMPDIR:-/tmp}}/fuzz.XXXXXX")"
start=$SECONDS
# -timeout: an input slower than 5 s is a hang; -rss_limit_mb: 2 GiB is an
# out-of-memory crash (libFuzzer exits 70 for a timeout, 77 for a leak and
# the sanitizer's 1 for a crash: each fails the test).
status=0
{binary} -max_total_time={time} -timeout=5 -rss_limit_mb=2048 -detect_leaks=1 \\
  -print_final_stats=1 -artifact_prefix="$artifacts" "$@" "$corpus" 2>&1 | tee "$out" || status=$?
# One parseable line for tools/reliability_table.py, also after a finding
# (libFuzzer stops at the first; its final stats are printed either way).
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -1)
count() {{ if grep -qE "$1" "$out"; then echo 1; else echo 0; fi; }}
leaks=$(count 'ERROR: LeakSanitizer')
timeouts=$(count 'ERROR: libFuzzer: timeout')
crashes=0
if [ "$status" != 0 ] && [ "$leaks" = 0 ] && [ "$timeouts" = 0 ]; then crashes=1; fi
echo "fuzz: {label} ${{runs:-0}} executions in $((SECONDS - start)) s, corpus $(ls "$corpus" | wc -l) inputs," \\
  "crashes $crashes, leaks $leaks, timeouts $timeouts"
exit "$status"
"""

def _single(attr):
    # A transitioned label attribute is a list in Bazel 4.
    return attr[0] if type(attr) == "list" else attr

def _fuzz_test_impl(ctx):
    binary = _single(ctx.attr.binary)[DefaultInfo].files_to_run.executable
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(
        output = script,
        is_executable = True,
        content = _SCRIPT.format(
            seeds = " ".join(["'{}'".format(f.short_path) for f in ctx.files.corpus]),
            binary = "'{}'".format(binary.short_path),
            time = ctx.attr.max_total_time,
            label = "//{}:{}".format(ctx.label.package, ctx.label.name),
        ),
    )
    runfiles = ctx.runfiles(files = [binary] + ctx.files.corpus)
    runfiles = runfiles.merge(_single(ctx.attr.binary)[DefaultInfo].default_runfiles)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

_fuzz_test = rule(
    implementation = _fuzz_test_impl,
    test = True,
    attrs = {
        "binary": attr.label(cfg = _to_fuzz, mandatory = True, executable = True),
        "corpus": attr.label_list(allow_files = True, allow_empty = False),
        "max_total_time": attr.int(mandatory = True),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)

def fuzz_test(name, srcs, deps, corpus, max_total_time = 30, tags = [], **kwargs):
    """A libFuzzer harness run for `max_total_time` seconds as a test."""
    host_only = ["@platforms//os:linux"]
    cc_binary(
        name = name + "_bin",
        srcs = srcs,
        deps = deps,
        testonly = True,
        # Only the transition above links it: a plain build has no main().
        tags = ["manual"],
        target_compatible_with = host_only,
    )
    _fuzz_test(
        name = name,
        binary = ":" + name + "_bin",
        corpus = corpus,
        max_total_time = max_total_time,
        # libFuzzer stops itself after max_total_time; the margin covers
        # start-up and a loaded machine.
        timeout = "short" if max_total_time <= 30 else "moderate" if max_total_time <= 200 else "long",
        tags = ["fuzz"] + tags,
        target_compatible_with = host_only,
        **kwargs
    )
