"""fuzz_target(): one libFuzzer target, built two ways from the same code.

  <name>_fuzzer            the libFuzzer binary. Tagged manual so that
                           `bazel build //...` under the default (gcc) config
                           never tries to link libFuzzer; build it with
                           `bazel build --config=fuzz //fuzz/<dir>:<name>_fuzzer`.
  <name>_regression_test   replays corpus/ and reproducers/ through the same
                           LLVMFuzzerTestOneInput with a plain main: runs under
                           `bazel test //...` with any toolchain.

The target's sources go into a library (alwayslink, so LLVMFuzzerTestOneInput
is linked even though only libFuzzer's driver refers to it).
"""

# The libFuzzer binaries (config fuzz / fuzz-fast): libFuzzer's runtime and
# its main.
FUZZ_LINKOPTS = select({
    "//bazel:libfuzzer": ["-fsanitize=fuzzer"],
    "//conditions:default": [],
})

# For binaries with their own main (regression tests, the benchmark, tools):
# libFuzzer cannot be linked (clang links it whole-archive, its main with it),
# but the coverage callbacks the instrumentation calls have weak defaults in
# every sanitizer runtime; UBSan's is the lightest (fuzz-fast has none).
OWN_MAIN_LINKOPTS = select({
    "//bazel:libfuzzer": ["-fsanitize=undefined"],
    "//conditions:default": [],
})

def fuzz_target(name, srcs, deps = [], data = [], size = "medium", **kwargs):
    native.cc_library(
        name = name + "_lib",
        srcs = srcs,
        deps = deps,
        alwayslink = True,
        **kwargs
    )
    native.cc_binary(
        name = name + "_fuzzer",
        deps = [":" + name + "_lib"],
        linkopts = FUZZ_LINKOPTS,
        data = data,
        tags = ["manual", "fuzzer"],
    )
    native.cc_test(
        name = name + "_regression_test",
        size = size,
        deps = [
            ":" + name + "_lib",
            "//fuzz/common:replay_main",
        ],
        linkopts = OWN_MAIN_LINKOPTS,
        data = data + native.glob(["corpus/**", "reproducers/**"]),
        args = [
            native.package_name() + "/corpus",
            native.package_name() + "/reproducers",
        ],
        tags = ["fuzz_regression"],
    )
