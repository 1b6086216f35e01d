#!/usr/bin/env python3
"""Writes the README's "Reliability" section (between <!-- reliability:begin -->
and <!-- reliability:end -->) from the logs of the last test runs, so its
figures are read, never typed:

  tools/bazel run //:reliability_table [-- --testlogs DIR]... [--sanitizer-logs DIR]
                                       [--readme FILE | --stdout]

--testlogs (default: the checkout's bazel-testlogs) holds one directory per
test with test.log, test.xml and the undeclared outputs (the boot tests'
serial.log, zipped as test.outputs/outputs.zip or not); a cached result's
logs are there too. Given more than once, a test's logs come from the first
directory that has them (another checkout's run, say). --sanitizer-logs (default: $TMPDIR or /tmp) holds
biscotti-asan.log and biscotti-tsan.log, which tools/all_configs.sh writes.

A test or log that is not there is reported as "not run", never guessed.
The totals are counted from the logs: a crash is a sanitizer report, a
panic, an exception or a triple fault; a leak is a LeakSanitizer report or a
fault-injection counter that did not return to its baseline; a hang is a
timeout (Bazel's, the boot harness's or libFuzzer's per-input one)."""
import argparse
import os
import re
import sys
import zipfile

BEGIN = "<!-- reliability:begin -->"
END = "<!-- reliability:end -->"
COMMAND = "tools/bazel run //:reliability_table"

# The rows every run should have: a missing one reads "not run". Fuzz
# targets and torture runs found in the logs beyond these are added.
FUZZ_TARGETS = [
    "src/arch:acpi_fuzz",
    "src/arch:multiboot2_fuzz",
    "src/mm:e820_fuzz",
    "src/mm:pgdir_walk_fuzz",
    "src/monitor:cmdline_fuzz",
    "src/monitor:line_editor_fuzz",
    "src/prof:symbols_fuzz",
    "tools/profile:dump_parser_fuzz",
]
SANITIZERS = [
    ("ASan+UBSan", "asan", "tools/bazel test --config=asan //src/... //tools/profile/..."),
    ("TSan", "tsan", "tools/bazel test --config=tsan //:tsan_tests"),
]
FAULT_INJECTION = ["test:fail_inject_smp4", "test:fail_inject_all_smp2", "test:fail_inject_debug_smp2"]
TORTURE = ["test:torture_smp1", "test:torture_smp2", "test:torture_smp4", "test:torture_smp8"]
# README, "Hostile boots".
BOOT_MATRIX = [
    ("MADT with a zero-length entry", "test:acpi_madt_zero_length_entry"),
    ("MADT whose last entry is cut short", "test:acpi_madt_truncated_entry"),
    ("MADT cut inside its fixed part", "test:acpi_madt_truncated_fixed_part"),
    ("a second MADT listing 300 CPUs", "test:acpi_madt_300_cpus"),
    ("no ACPI", "test:acpi_off_boots_one_cpu"),
    ("5 MiB: GRUB cannot load the kernel", "test:grub_cannot_load_the_kernel"),
    ("10 MiB", "test:ktests_10m"),
    ("12 MiB", "test:ktests_12m"),
    ("16 MiB", "test:ktests_16m_skip_what_does_not_fit"),
    ("24 MiB", "test:ktests_24m"),
    ("12 GiB", "test:mm_12G_max"),
    ("64 CPUs, the scheduler's tests", "test:sched_max_smp64"),
    ("64 CPUs, the whole suite (manual)", "test:ktests_max_smp64"),
    ("100 CPUs, MAX_CPUS 64", "test:smp100_parks_cpus_past_64"),
    ("255 CPUs, MAX_CPUS 256", "test:smp255_max_cpus_256"),
    ("Nehalem", "test:ktests_nehalem_smp2"),
    ("core2duo", "test:ktests_core2duo_smp2"),
    ("EPYC", "test:ktests_epyc_smp2"),
    ("Opteron_G1", "test:ktests_opteron_g1_smp2"),
    ("q35, 8 CPUs", "test:ktests_q35_smp8"),
    ("a boot module", "test:boot_module_is_carved_out"),
]

NOT_RUN = "not run"

# What a log says went wrong (any of them is counted, pass or fail). A boot
# test's crash words are looked for only in boot logs: a fuzzer's log
# quotes the inputs it made.
CRASH = re.compile(r"ERROR: AddressSanitizer|runtime error:|WARNING: ThreadSanitizer|ERROR: libFuzzer: "
                   r"(?:deadly signal|out-of-memory|fuzz target exited)")
BOOT_CRASH = re.compile(r"PANIC|EXCEPTION|got 'reset'")
LEAK = re.compile(r"ERROR: LeakSanitizer")
HANG = re.compile(r"^-- Test timed out at|timed out after [0-9]+s \(hung kernel\)|ERROR: libFuzzer: timeout", re.M)

FUZZ_LINE = re.compile(r"^fuzz: \S+ (\d+) executions in (\d+) s, corpus (\d+) inputs, "
                       r"crashes (\d+), leaks (\d+), timeouts (\d+)$", re.M)
LIBFUZZER_DONE = re.compile(r"^Done (\d+) runs in (\d+) second", re.M)
INJECTED = re.compile(r"^fail_inject: (\d+) CPUs, \d+ operations, \d+ reservations granted; "
                      r"injected page (\d+) heap (\d+) reserve (\d+); handled page (\d+) heap (\d+) reserve (\d+)$",
                      re.M)
AFTER_LOAD = re.compile(r"^fail_inject: after the load: pages (\d+) \(baseline (\d+)\), heap live objects (\d+) "
                        r"\(baseline (\d+)\), (\d+) of (\d+) classes at baseline, reservations (\d+), rt credit (-?\d+), "
                        r"budget (-?\d+) \(baseline (-?\d+)\)", re.M)
ATTEMPTS = re.compile(r"^faults injected \(fail\.\*, inside fault scopes\): page \d+ of (\d+) at \d+/1000, "
                      r"heap \d+ of (\d+) at \d+/1000, reserve \d+ of (\d+) at \d+/1000$", re.M)
TORTURE_LINE = re.compile(r"^torture: (\d+) CPUs(?:, ([0-9]+(?:\.[0-9]+)?) s\b)?", re.M)
SUMMARY_LINE = re.compile(r"^(//\S+)\s+(?:\(cached\) )?(PASSED|FAILED|TIMEOUT|FLAKY|NO STATUS|INCOMPLETE)\b", re.M)
XML_COUNTS = re.compile(r"<testsuite\b[^>]*?\bfailures=\"(\d+)\"[^>]*?\berrors=\"(\d+)\"")


class Totals:
    def __init__(self):
        self.crashes = self.leaks = self.hangs = self.failures = 0
        self.not_run = []

    def count(self, label, run):
        """Counts one test's findings; a failure none of them explains is
        counted as another failure."""
        if run is None:
            self.not_run.append("//" + label)
            return
        found = run.crashes + run.leaks + run.hangs
        self.crashes += run.crashes
        self.leaks += run.leaks
        self.hangs += run.hangs
        if run.status != "pass" and found == 0:
            self.failures += 1


class Run:
    """One test's result and text (test.log, then the serial log)."""

    def __init__(self, status, text, boot):
        self.status = status
        self.text = text
        self.crashes = 1 if CRASH.search(text) or (boot and BOOT_CRASH.search(text)) else 0
        self.leaks = 1 if LEAK.search(text) else 0
        self.hangs = 1 if HANG.search(text) or status == "timeout" else 0


def read_text(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace").replace("\r", "")


def serial_log(outputs):
    """The boot test's serial.log among its undeclared outputs, if any."""
    plain = os.path.join(outputs, "serial.log")
    if os.path.isfile(plain):
        return read_text(plain)
    archive = os.path.join(outputs, "outputs.zip")
    if os.path.isfile(archive):
        with zipfile.ZipFile(archive) as z:
            if "serial.log" in z.namelist():
                return z.read("serial.log").decode("utf-8", "replace").replace("\r", "")
    return ""


def read_run(testlogs, label):
    """label is 'package:name'; the first of the testlogs directories with a
    result for it decides; None when none has."""
    for top in testlogs:
        run = read_run_in(top, label)
        if run is not None:
            return run
    return None


def read_run_in(top, label):
    package, name = label.split(":")
    d = os.path.join(top, package, name)
    log, xml = os.path.join(d, "test.log"), os.path.join(d, "test.xml")
    if not (os.path.isfile(log) and os.path.isfile(xml)):
        return None
    text = read_text(log)
    counts = XML_COUNTS.search(read_text(xml))
    if counts is None:
        return None
    if "-- Test timed out at" in text:
        status = "timeout"
    elif counts.group(1) == "0" and counts.group(2) == "0":
        status = "pass"
    else:
        status = "fail"
    serial = serial_log(os.path.join(d, "test.outputs"))
    return Run(status, text + "\n" + serial, boot=not name.endswith("_fuzz"))


def discover(testlogs, suffix_re, text_re=None):
    """Labels of the tests under the testlogs directories whose name matches
    suffix_re (and whose test.log or serial log matches text_re), sorted."""
    found = set()
    for top in testlogs:
        for root, _, files in os.walk(top):
            if "test.log" not in files:
                continue
            package, name = os.path.split(os.path.relpath(root, top))
            if re.search(suffix_re, name):
                found.add(package + ":" + name)
    if text_re is not None:
        runs = {label: read_run(testlogs, label) for label in found}
        found = {label for label, run in runs.items() if run is not None and text_re.search(run.text)}
    return sorted(found)


def num(n):
    return f"{int(n):,}"


def result(run):
    return NOT_RUN if run is None else {"pass": "pass", "fail": "**FAIL**", "timeout": "**TIMEOUT**"}[run.status]


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def fuzz_section(testlogs, totals):
    # tools/fuzz holds fuzz_test's own test target, not a parser's.
    found = [l for l in discover(testlogs, r"_fuzz$") if l not in FUZZ_TARGETS and not l.startswith("tools/fuzz:")]
    labels = FUZZ_TARGETS + found
    rows, executions, seconds = [], 0, 0
    for label in labels:
        run = read_run(testlogs, label)
        totals.count(label, run)
        cells = ["`//%s`" % label, NOT_RUN, NOT_RUN, NOT_RUN]
        if run is not None:
            ours, theirs = FUZZ_LINE.findall(run.text), LIBFUZZER_DONE.findall(run.text)
            if ours:
                runs, secs, corpus = ours[-1][0:3]
                cells[1:4] = [num(runs), secs + " s", num(corpus)]
            elif theirs:  # a log from before the fuzz: line (no corpus count)
                runs, secs = theirs[-1]
                cells[1:4] = [num(runs), secs + " s", "not printed"]
            else:
                runs, secs = 0, 0
                cells[1:4] = ["not printed"] * 3
            executions += int(runs)
            seconds += int(secs)
        findings = "—" if run is None else "%d / %d / %d" % (run.crashes, run.leaks, run.hangs)
        rows.append(cells + [findings, result(run)])
    out = table(["fuzz target", "executions", "time", "corpus", "crashes / leaks / timeouts", "result"], rows)
    ran = sum(1 for l in labels if read_run(testlogs, l) is not None)
    out.append("")
    out.append("%d of %d targets fuzzed: %s executions in %s s." % (ran, len(labels), num(executions), num(seconds)))
    return out


def sanitizer_section(log_dir, totals):
    rows = []
    for name, config, command in SANITIZERS:
        path = os.path.join(log_dir, "biscotti-%s.log" % config)
        if not os.path.isfile(path):
            totals.not_run.append(name)
            rows.append([name, "`%s`" % command, NOT_RUN, NOT_RUN, NOT_RUN, NOT_RUN])
            continue
        text = read_text(path)
        results = dict(SUMMARY_LINE.findall(text))  # the last line per test wins
        passed = sum(1 for r in results.values() if r == "PASSED")
        timeouts = sum(1 for r in results.values() if r == "TIMEOUT")
        failed = len(results) - passed
        crashes, leaks = len(CRASH.findall(text)), len(LEAK.findall(text))
        totals.crashes += crashes
        totals.leaks += leaks
        totals.hangs += timeouts
        # A failure no report or timeout explains (or no test at all: the
        # build failed) is another failure.
        totals.failures += max(0, failed - timeouts - crashes - leaks) if results else 1
        tests = num(len(results)) if results else "none (the build failed)"
        rows.append([name, "`%s`" % command, tests, num(passed), num(failed), num(crashes + leaks)])
    return table(["sanitizers", "command", "tests", "passed", "failed", "sanitizer reports"], rows)


def fault_section(testlogs, totals):
    rows, injected_sum, handled_sum = [], 0, 0
    for label in FAULT_INJECTION:
        run = read_run(testlogs, label)
        name = "`%s`" % label.split(":")[1]
        if run is None:
            totals.count(label, run)
            rows.append([name] + [NOT_RUN] * 5)
            continue
        inj, after, attempts = INJECTED.search(run.text), AFTER_LOAD.search(run.text), ATTEMPTS.search(run.text)
        cpus = injected = handled = off = "not printed"
        if inj:
            cpus = inj.group(1)
            i, h = [int(x) for x in inj.group(2, 3, 4)], [int(x) for x in inj.group(5, 6, 7)]
            injected = " / ".join(num(x) for x in i)
            if attempts:
                injected += " of " + " / ".join(num(x) for x in attempts.groups())
            handled = " / ".join(num(x) for x in h)
            injected_sum += sum(i)
            handled_sum += sum(h)
        if after:
            g = [int(x) for x in after.groups()]
            pages, objects, classes, reservations, credit, budget = (g[0] - g[1], g[2] - g[3], g[5] - g[4], g[6], g[7],
                                                                     g[8] - g[9])
            leaked = [what for what, n in [("pages", pages), ("heap objects", objects), ("size classes", classes),
                                           ("reservations", reservations), ("rt credit", credit),
                                           ("budget", budget)] if n != 0]
            run.leaks += len(leaked)
            off = ", ".join(leaked) if leaked else "none"
        totals.count(label, run)
        rows.append([name, cpus, injected, handled, off, result(run)])
    out = table(["fault injection", "CPUs", "injected: page / heap / reserve", "handled", "counters off baseline",
                 "result"], rows)
    out.append("")
    out.append("%s faults injected, %s handled." % (num(injected_sum), num(handled_sum)))
    return out


def torture_section(testlogs, totals):
    labels = TORTURE + [l for l in discover(testlogs, r"", TORTURE_LINE) if l not in TORTURE]
    rows, cpu_seconds, untimed = [], 0.0, 0
    for label in labels:
        run = read_run(testlogs, label)
        totals.count(label, run)
        name = "`%s`" % label.split(":")[1]
        if run is None:
            rows.append([name, NOT_RUN, NOT_RUN, NOT_RUN, NOT_RUN])
            continue
        lines = TORTURE_LINE.findall(run.text)
        cpus = sorted({int(c) for c, _ in lines})
        timed = [(int(c), float(s)) for c, s in lines if s]
        duration = "not printed"
        if timed:
            duration = " + ".join("%g s" % s for _, s in timed)
            cpu_seconds += sum(c * s for c, s in timed)
        untimed += len(lines) - len(timed)
        rows.append([name, ", ".join(str(c) for c in cpus) or "not printed", num(len(lines)), duration, result(run)])
    out = table(["torture", "CPUs", "runs", "duration", "result"], rows)
    out.append("")
    out.append("Torture: %s CPU-seconds (duration × CPUs) in the runs whose line prints a duration; %d runs print "
               "none." % (num(round(cpu_seconds)), untimed))
    return out


def matrix_section(testlogs, totals):
    rows = []
    for case, label in BOOT_MATRIX:
        run = read_run(testlogs, label)
        totals.count(label, run)
        rows.append([case, "`%s`" % label.split(":")[1], result(run)])
    return table(["boot matrix case", "boot test", "result"], rows)


def section(testlogs, sanitizer_logs):
    totals = Totals()
    parts = [
        "Written by `%s` from the logs of the last test runs (bazel-testlogs, cached results included, and the "
        "sanitizer logs of `tools/bazel run //:all_configs`); a row without a log says \"not run\"." % COMMAND,
        "",
    ]
    parts += fuzz_section(testlogs, totals) + [""]
    parts += sanitizer_section(sanitizer_logs, totals) + [""]
    parts += fault_section(testlogs, totals) + [""]
    parts += torture_section(testlogs, totals) + [""]
    parts += matrix_section(testlogs, totals) + [""]
    line = "**Totals: crashes %d, leaks %d, hangs %d**, other failures %d" % (totals.crashes, totals.leaks,
                                                                            totals.hangs, totals.failures)
    line += "; not run: %s." % (", ".join(totals.not_run) if totals.not_run else "none")
    parts.append(line)
    return "\n".join(parts) + "\n"


def replace_section(readme, text):
    with open(readme) as f:
        old = f.read()
    if old.count(BEGIN) != 1 or old.count(END) != 1 or old.index(BEGIN) > old.index(END):
        sys.exit("reliability_table: %s needs one %s line before one %s line" % (readme, BEGIN, END))
    head, rest = old.split(BEGIN)
    _, tail = rest.split(END)
    new = head + BEGIN + "\n" + text + END + tail
    with open(readme, "w") as f:
        f.write(new)


def main():
    workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY", os.getcwd())
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--testlogs", action="append",
                        help="repeatable: a test's logs are read from the first directory that has them")
    parser.add_argument("--sanitizer-logs", default=os.environ.get("TMPDIR", "/tmp"))
    parser.add_argument("--readme", default=os.path.join(workspace, "README.md"))
    parser.add_argument("--stdout", action="store_true", help="print the section instead of writing the README")
    args = parser.parse_args()
    args.testlogs = args.testlogs or [os.path.join(workspace, "bazel-testlogs")]
    for top in args.testlogs:
        if not os.path.isdir(top):
            sys.exit("reliability_table: no test logs at %s (run tools/bazel test first, or pass --testlogs)" % top)
    if not os.path.isdir(args.sanitizer_logs):
        sys.exit("reliability_table: --sanitizer-logs %s is not a directory" % args.sanitizer_logs)
    text = section(args.testlogs, args.sanitizer_logs)
    if args.stdout:
        sys.stdout.write(text)
    else:
        replace_section(args.readme, text)
        print("reliability_table: wrote the Reliability section of %s" % args.readme)


if __name__ == "__main__":
    main()
