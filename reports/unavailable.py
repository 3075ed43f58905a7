#!/usr/bin/env python3
"""unavailable.py CAPABILITIES_JSON: one sentence saying why io_uring cannot
be used here, from the probe's snapshot (setup_error, the sysctls)."""

import json
import sys


def why(caps):
    err = str(caps.get("setup_error", "?"))
    disabled, group = caps.get("io_uring_disabled", -1), caps.get("io_uring_group", -1)
    if err == "-ENOSYS":
        cause = "the kernel has no io_uring (CONFIG_IO_URING=n) or a seccomp filter hides it"
    elif err == "-EPERM" and disabled == 2:
        cause = "kernel.io_uring_disabled is 2, which disables io_uring for everyone"
    elif err == "-EPERM" and disabled == 1:
        cause = ("kernel.io_uring_disabled is 1 and this user has neither CAP_SYS_ADMIN nor "
                 f"the group kernel.io_uring_group ({group})")
    elif err == "-EPERM":
        cause = "something refuses the caller rings (a seccomp filter or an LSM)"
    else:
        cause = "see capabilities.json"
    return f"io_uring_setup fails with {err}: {cause}"


def main(argv):
    if len(argv) != 2:
        print("usage: unavailable.py CAPABILITIES_JSON", file=sys.stderr)
        return 64
    try:
        with open(argv[1], encoding="utf-8", errors="replace") as f:
            caps = json.load(f)
    except (OSError, ValueError) as e:
        print(f"unavailable.py: {argv[1]} cannot be read: {e}", file=sys.stderr)
        return 3
    print(why(caps))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
