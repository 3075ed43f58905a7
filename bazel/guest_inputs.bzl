"""guest_userland: every userland file a guest initramfs carries, as a
declared input (remote execution needs no worker /usr).

Debian packages (the suite of this machine's build, bookworm, so the verbs
suite's dynamic twin finds the libraries it was linked against) fetched
through the private apt configuration of bazel/debian_fetch.sh, unpacked,
and packed into one tarball with their symlinks as they are:

  @guest_userland//:sysroot.tar  the unpacked packages (initramfs.sh --sysroot)
  @guest_userland//:busybox      the static busybox (busybox-static)
  @guest_userland//:VERSIONS     package and version, one a line

harness/vm/initramfs.sh takes the dynamic loader, libc, libstdc++,
libibverbs and libnl, the rxe provider and iproute2's rdma tool from the
sysroot (harness/vm/sysroot.sh), never from the machine's /usr; its image,
//harness/vm:base_initramfs, is what both the Bazel guest tests and
./ringcheck vm boot. harness/bundle/bundle.sh takes the bundle's runtime
(lib/) from the same sysroot. //harness/vm:initramfs_inputs_test and
//harness/bundle:bundle_inputs_test check that every file of the initramfs,
of what ./ringcheck vm boots and of the bundle is one of these inputs, a
built target or a module of the kernel package.

The fuzzing guests (./ringcheck fuzz --kernel K, fuzz/vm/fuzz_vm.py) take
their busybox and the fuzzers' libraries (libc, libm, libstdc++, libgcc_s)
from here too, resolved by the same harness/vm/sysroot.sh;
//fuzz/vm:guest_inputs_test checks what they boot.
"""

def _guest_userland_impl(ctx):
    script = ctx.path(ctx.attr._fetch)
    result = ctx.execute(
        ["bash", str(script), "apt", ctx.attr.suite, "root"] + ctx.attr.packages,
        timeout = 900,
        quiet = True,
    )
    if result.return_code != 0:
        fail("could not fetch %s from Debian %s: %s" % (", ".join(ctx.attr.packages), ctx.attr.suite, result.stderr))
    versions = ctx.execute(["sh", "-c", "for d in apt/debs/*.deb; do dpkg-deb -f \"$d\" Package Version | paste -sd' '; done"])
    ctx.file("VERSIONS", versions.stdout)
    packed = ctx.execute(["sh", "-c", " && ".join([
        "cp root/bin/busybox busybox",
        "tar -C root --owner=0 --group=0 --numeric-owner --mtime=@0 --sort=name -cf sysroot.tar .",
        "rm -rf root apt/cache apt/debs",
    ])])
    if packed.return_code != 0:
        fail("could not pack the guest userland: " + packed.stderr)
    ctx.file("BUILD.bazel", """package(default_visibility = ["//visibility:public"])

exports_files(["sysroot.tar", "busybox", "VERSIONS"])
""")
    ctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % ctx.name)

guest_userland = repository_rule(
    implementation = _guest_userland_impl,
    attrs = {
        "packages": attr.string_list(mandatory = True),
        "suite": attr.string(mandatory = True),
        "_fetch": attr.label(default = "//bazel:debian_fetch.sh", allow_single_file = True),
    },
    environ = ["RINGCHECK_DEBIAN_MIRROR"],
)
