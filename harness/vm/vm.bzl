"""Guest-kernel tests: one initramfs for every kernel, one test per kernel."""

def guest_initramfs(
        name,
        suites,
        probe,
        runner,
        init,
        expectations,
        busybox = "@guest_userland//:busybox",
        sysroot = "@guest_userland//:sysroot.tar",
        **kwargs):
    """The base initramfs (initramfs.sh base) with every suite's guest twin.

    suites: labels of conformance tests; each brings its LABEL_guest twin.
    busybox, sysroot: the declared userland (bazel/guest_inputs.bzl): no
    file of the image comes from the machine's /usr.
    """
    srcs = [probe, runner, init, expectations, busybox, sysroot]
    suite_args = []
    for label in suites:
        twin = label + "_guest"
        srcs.append(twin)
        suite_args.append("--suite %s %s $(location %s)" % (label.split(":")[-1], label, twin))
    native.genrule(
        name = name,
        srcs = srcs,
        outs = [name + ".cpio"],
        tools = [
            "//harness/vm:initramfs.sh",
            "//harness/vm:sysroot.sh",
        ],
        cmd = " ".join([
            "expectations=();",
            "for f in $(locations %s); do expectations+=(--expectations $$f); done;" % expectations,
            "$(location //harness/vm:initramfs.sh) base $@",
            "--sysroot $(location %s) --busybox $(location %s)" % (sysroot, busybox),
            "--init $(location %s) --probe $(location %s) --runner $(location %s)" % (init, probe, runner),
            "\"$${expectations[@]}\"",
        ] + suite_args),
        testonly = True,
        **kwargs
    )

def vm_test(name, kernel_repo, initramfs, suites, **kwargs):
    """Boots @kernel_repo under qemu with initramfs; passes when the guest ran
    to the end and no test FAILed or ERRORed (XFAIL is fine)."""
    native.sh_test(
        name = name,
        srcs = ["//harness/vm:vm_test.sh"],
        args = [
            "$(rootpath %s//:vmlinuz)" % kernel_repo,
            "$(rootpath %s//:modules.cpio)" % kernel_repo,
            "$(rootpath %s//:kernel.json)" % kernel_repo,
            "$(rootpath %s)" % initramfs,
        ] + [label.split(":")[-1] for label in suites],
        data = [
            kernel_repo + "//:vmlinuz",
            kernel_repo + "//:modules.cpio",
            kernel_repo + "//:kernel.json",
            initramfs,
            "//harness/vm:runner",
            "//reports:tools",
        ],
        **kwargs
    )
