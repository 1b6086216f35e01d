"""An integer build setting that becomes a preprocessor define: e.g.
`--//src/arch:max_cpus=N` becomes BISCOTTI_MAX_CPUS=N for every library
that depends on the setting's target. The bounds are checked at analysis
time, so a bad value is a clear build error rather than a broken kernel."""

def _int_define_setting_impl(ctx):
    v = ctx.build_setting_value
    if v < ctx.attr.min or v > ctx.attr.max:
        fail("%s must be between %d and %d, not %d" % (ctx.label, ctx.attr.min, ctx.attr.max, v))
    return [CcInfo(compilation_context = cc_common.create_compilation_context(
        defines = depset(["%s=%d" % (ctx.attr.define, v)]),
    ))]

int_define_setting = rule(
    implementation = _int_define_setting_impl,
    build_setting = config.int(flag = True),
    attrs = {
        "define": attr.string(mandatory = True),
        "min": attr.int(mandatory = True),
        "max": attr.int(mandatory = True),
    },
)
