"""debian_packages: unpack packages from any Debian suite into a repository.

The packages come through a private apt configuration (bazel/debian_fetch.sh),
so the machine's own apt sources and state are never touched. Pinning a
version (name=version) keeps the repository reproducible; Bazel caches the
result until the rule's attributes change.
"""

def _debian_packages_impl(ctx):
    script = ctx.path(ctx.attr._fetch)
    result = ctx.execute(
        ["bash", str(script), "apt", ctx.attr.suite, "root"] + ctx.attr.packages,
        timeout = 600,
        quiet = True,
    )
    if result.return_code != 0:
        fail("could not fetch %s from Debian %s: %s" % (
            ", ".join(ctx.attr.packages),
            ctx.attr.suite,
            result.stderr,
        ))
    versions = ctx.execute(["sh", "-c", "for d in apt/debs/*.deb; do dpkg-deb -f \"$d\" Package Version | paste -sd' '; done"])
    ctx.file("VERSIONS", versions.stdout)
    ctx.delete("apt/cache")
    ctx.symlink(ctx.attr.build_file, "BUILD.bazel")
    ctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % ctx.name)

debian_packages = repository_rule(
    implementation = _debian_packages_impl,
    attrs = {
        "build_file": attr.label(mandatory = True, allow_single_file = True),
        "packages": attr.string_list(mandatory = True),
        "suite": attr.string(mandatory = True),
        "_fetch": attr.label(default = "//bazel:debian_fetch.sh", allow_single_file = True),
    },
    environ = ["RINGCHECK_DEBIAN_MIRROR"],
)
