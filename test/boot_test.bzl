"""boot_test: one QEMU boot of an ISO with a configuration and kernel
arguments, checked by test/boot_test.sh."""

def _literal(s):
    # args undergo make-variable expansion (a literal $ is written $$) and
    # Bourne-shell tokenization (so quote, escaping embedded single quotes).
    return "'" + s.replace("$", "$$").replace("'", "'\\''") + "'"

def boot_test(name, iso = "//:kernel.iso", smp = 1, mem = "128M", cpu = "qemu64", machine = "pc",
              cmdline = "", expect_exit = "pass", expect = [], reject = [], input = "", input_file = None, icount = False,
              timeout_s = 60, size = "small", check = None, check_data = [], extra_qemu_args = [],
              extra_qemu_data = [], tags = [], **kwargs):
    """extra_qemu_args: more QEMU arguments, one word each, e.g.
    ["-acpitable", "file=$(location :t.bin)"]; $(location) may name
    extra_qemu_data, which the test then carries."""
    args = [
        "--iso", "$(location %s)" % iso,
        "--smp", str(smp),
        "--mem", mem,
        "--cpu", cpu,
        "--machine", machine,
        "--timeout", str(timeout_s),
        "--expect-exit", expect_exit,
    ]
    if cmdline:
        args += ["--cmdline", _literal(cmdline)]
    if icount:
        args.append("--icount")
    if input:
        args += ["--input", _literal(input)]
    data = [iso]
    if input_file:
        args += ["--input-file", "$(location %s)" % input_file]
        data.append(input_file)
    for e in expect:
        args += ["--expect", _literal(e)]
    for r in reject:
        args += ["--reject", _literal(r)]
    for a in extra_qemu_args:
        args += ["--qemu-arg", _literal(a).replace("$$(location", "$(location")]
    data += extra_qemu_data
    if check:
        args += ["--check", "$(location %s)" % check]
        data.append(check)
        data += check_data  # files the check reads beside itself
    native.sh_test(
        name = name,
        srcs = [Label("//test:boot_test.sh")],
        args = args,
        data = data,
        size = size,
        tags = ["boot"] + tags,
        **kwargs
    )
