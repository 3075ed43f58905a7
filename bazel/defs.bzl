"""The project's macros: conformance suites and libraries share one setup."""

def ringcheck_cc_library(name, **kwargs):
    native.cc_library(name = name, **kwargs)

def conformance_test(name, srcs, deps = [], size = "small", tags = [], **kwargs):
    """A GoogleTest suite run with the ringcheck main (recorder, expectations).

    Every conformance test has a size (and so a timeout): a hang is an ERROR,
    never a stuck CI. The suite binary is also what `ringcheck run` and the
    guest images execute directly.
    """
    # What //suites:rule_coverage_test reads: the sources citing rules and the
    # package's list of rules it cannot show.
    native.filegroup(
        name = name + "_rule_sources",
        srcs = srcs + native.glob(["UNCOVERED.md"]),
        visibility = ["//suites:__pkg__"],
    )
    native.cc_test(
        name = name,
        srcs = srcs,
        size = size,
        deps = deps + [
            "//harness",
            "//harness:main",
            "@gtest",
            "@liburing",
        ],
        data = ["//expectations"],
        tags = tags + ["conformance"],
        **kwargs
    )

def python3_test(name, script, args = [], data = [], size = "small", **kwargs):
    """A test that runs `python3 script args...` (see python3_test.sh)."""
    native.sh_test(
        name = name,
        size = size,
        srcs = ["//bazel:python3_test.sh"],
        args = ["$(location %s)" % script] + args,
        data = [script] + data,
        **kwargs
    )
