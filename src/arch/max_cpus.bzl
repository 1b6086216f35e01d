"""MAX_CPUS as a build setting: `--//src/arch:max_cpus=N` (1..256) becomes
the BISCOTTI_MAX_CPUS define for every library that depends on it."""

def _max_cpus_impl(ctx):
    v = ctx.build_setting_value
    if v < 1 or v > 256:
        fail("//src/arch:max_cpus must be between 1 and 256, not %d" % v)
    return [CcInfo(compilation_context = cc_common.create_compilation_context(
        defines = depset(["BISCOTTI_MAX_CPUS=%d" % v]),
    ))]

max_cpus_setting = rule(
    implementation = _max_cpus_impl,
    build_setting = config.int(flag = True),
)
