"""ringcheck_bundle: the standalone tarball (harness/bundle) from built files."""

def ringcheck_bundle(name, suites, probe, runner, expectations, spec, sysroot = "@guest_userland//:sysroot.tar", **kwargs):
    """Packs the probe, the runner and every suite's guest twin with the
    expectations, the rules and the POSIX ./run into NAME.tar.gz (version
    "dev": Bazel has no stamp here; ./ringcheck bundle names the real one).

    suites: labels of conformance tests; each brings its LABEL_guest twin.
    sysroot: the declared guest userland (bazel/guest_inputs.bzl), where the
    runtime of a dynamic twin (lib/) comes from: nothing from the machine's /usr.
    """
    srcs = [probe, runner, expectations, spec, sysroot, "run", "README", "dynamic_suite.sh"]
    suite_args = []
    for label in suites:
        twin = label + "_guest"
        srcs.append(twin)
        suite_args.append("--suite %s %s $(location %s)" % (label.split(":")[-1], label, twin))
    native.genrule(
        name = name,
        srcs = srcs,
        outs = [name + ".tar.gz"],
        tools = [
            "bundle.sh",
            "//harness/vm:sysroot.sh",
        ],
        cmd = " ".join([
            "args=();",
            "for f in $(locations %s); do args+=(--expectations $$f); done;" % expectations,
            "for f in $(locations %s); do args+=(--spec $$f); done;" % spec,
            "$(location bundle.sh) pack $$PWD/$@ dev unknown --sysroot $(location %s)" % sysroot,
            "--probe $(location %s) --runner $(location %s)" % (probe, runner),
            "\"$${args[@]}\"",
        ] + suite_args),
        testonly = True,
        **kwargs
    )
