"""The project's macros: conformance suites and libraries share one setup."""

def ringcheck_cc_library(name, **kwargs):
    native.cc_library(name = name, **kwargs)

def conformance_test(name, srcs, deps = [], size = "small", tags = [], **kwargs):
    """A GoogleTest suite run with the ringcheck main (recorder, expectations).

    Every conformance test has a size (and so a timeout): a hang is an ERROR,
    never a stuck CI. The suite binary is also what `ringcheck run` and the
    guest images execute directly.
    """
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
