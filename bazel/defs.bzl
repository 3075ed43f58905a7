"""The project's macros: conformance suites and libraries share one setup."""

# Attributes a suite may set that its guest twin (a cc_binary) takes too.
_TWIN_ATTRS = ["copts", "defines", "local_defines", "includes", "linkopts", "malloc", "nocopts"]

def _links_ibverbs(deps):
    if type(deps) != "list":
        return False  # a select(): the twin stays static unless guest_link says otherwise
    return any(["ibverbs" in str(d) for d in deps])

def guest_binary(name, guest_link = "static", tags = [], **kwargs):
    """A binary for a guest kernel's initramfs.

    static: fully static (libc included), runs on a bare busybox initramfs.
    dynamic: the project's own libraries are linked in, but libc, libstdc++
    and everything else come as shared libraries, which the VM runner copies
    into the initramfs with the dynamic loader. libibverbs needs this: it
    finds its providers (rxe) with dlopen, which a static libc cannot do.
    """
    if guest_link not in ("static", "dynamic"):
        fail("guest_link must be 'static' or 'dynamic', not %r" % guest_link)
    static = guest_link == "static"
    native.cc_binary(
        name = name,
        linkstatic = True,
        features = ["fully_static_link"] if static else [],
        linkopts = kwargs.pop("linkopts", []) + (["-static"] if static else []),
        tags = tags + ["manual", "guest_" + guest_link],
        **kwargs
    )

def conformance_test(name, srcs, deps = [], data = [], size = "small", tags = [], guest_link = None, **kwargs):
    """A GoogleTest suite run with the ringcheck main (recorder, expectations).

    Every conformance test has a size (and so a timeout): a hang is an ERROR,
    never a stuck CI. The suite binary is also what `ringcheck run` executes
    directly; its twin NAME_guest (built only on demand) is what the guest
    images of harness/vm execute. A suite that links libibverbs gets a
    dynamic twin (see guest_binary); guest_link overrides the choice.
    """
    all_deps = deps + [
        "//harness",
        "//harness:main",
        "//harness:probes",
        "@gtest",
        "@liburing",
    ]
    # A suite tagged run_alone says so itself when listed (harness/main.cc),
    # so the runner keeps everything else off the machine while it runs,
    # on the host, in guests and in the bundle alike.
    if "run_alone" in tags:
        all_deps = all_deps + ["//harness:run_alone"]
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
        deps = all_deps,
        data = ["//expectations"] + data,
        tags = tags + ["conformance"],
        **kwargs
    )
    if guest_link == None:
        guest_link = "dynamic" if _links_ibverbs(deps) else "static"
    guest_binary(
        name = name + "_guest",
        guest_link = guest_link,
        srcs = srcs,
        deps = all_deps,
        testonly = True,
        visibility = ["//visibility:public"],
        **{k: v for k, v in kwargs.items() if k in _TWIN_ATTRS}
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
