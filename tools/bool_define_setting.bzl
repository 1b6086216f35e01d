"""A boolean build setting that becomes a preprocessor define when true:
e.g. `--//src/base:debug_asserts=true` becomes BISCOTTI_DEBUG=1 for every
library that depends on the setting's target (and, defines being
transitive, for everything above it). False defines nothing, so code tests
the define with #ifdef."""

def _bool_define_setting_impl(ctx):
    defines = ["%s=1" % ctx.attr.define] if ctx.build_setting_value else []
    return [CcInfo(compilation_context = cc_common.create_compilation_context(
        defines = depset(defines),
    ))]

bool_define_setting = rule(
    implementation = _bool_define_setting_impl,
    build_setting = config.bool(flag = True),
    attrs = {
        "define": attr.string(mandatory = True),
    },
)
