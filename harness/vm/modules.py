#!/usr/bin/env python3
"""Pick kernel modules and their dependencies out of an unpacked kernel package.

    modules.py MODULES_ROOT OUT_DIR [NAME...]
    modules.py --defaults

MODULES_ROOT is lib/modules/<release> (or usr/lib/modules/<release>) of an
unpacked Debian kernel package, which has no modules.dep (depmod runs at
install time), so dependencies come from each module's .modinfo section.
The named modules and everything they depend on are written to OUT_DIR
uncompressed (busybox insmod cannot read .ko.xz or .ko.zst), and
OUT_DIR/load-order lists them so that each comes after its dependencies.
A name the kernel does not have as a module (built in, or absent) is noted
in OUT_DIR/missing and skipped. Without names, the modules a ringcheck guest
loads (DEFAULTS; --defaults prints them).
"""

import gzip
import lzma
import os
import struct
import subprocess
import sys

SUFFIXES = (".ko", ".ko.xz", ".ko.zst", ".ko.gz")
# Soft-RoCE, the crc32 it asks the crypto API for (crc32_generic;
# crc32_cryptoapi since 6.14), and a dummy netdev to put it on; null_blk
# gives the files suite a block device that completes by polling (IOPOLL).
DEFAULTS = ("rdma_rxe", "ib_uverbs", "crc32_generic", "crc32_cryptoapi", "dummy", "null_blk")


def module_name(filename):
    for s in SUFFIXES:
        if filename.endswith(s):
            return filename[: -len(s)].replace("-", "_")
    return None


def read_module(path):
    if path.endswith(".xz"):
        return lzma.open(path).read()
    if path.endswith(".gz"):
        return gzip.open(path).read()
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], check=True, stdout=subprocess.PIPE).stdout
    with open(path, "rb") as f:
        return f.read()


def modinfo(elf):
    """key -> list of values from the .modinfo section of an ELF64 LE object."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise ValueError("not an ELF64 little-endian module")
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)

    def section(i):
        name, _, _, _, offset, size = struct.unpack_from("<IIQQQQ", elf, shoff + i * shentsize)
        return name, offset, size

    _, stroff, _ = section(shstrndx)
    for i in range(shnum):
        name, offset, size = section(i)
        end = elf.index(b"\0", stroff + name)
        if elf[stroff + name:end] == b".modinfo":
            info = {}
            for entry in elf[offset:offset + size].split(b"\0"):
                if b"=" in entry:
                    k, v = entry.decode("utf-8", "replace").split("=", 1)
                    info.setdefault(k, []).append(v)
            return info
    return {}


def main(argv):
    if argv[1:] == ["--defaults"]:
        print(" ".join(DEFAULTS))
        return 0
    if len(argv) < 3 or argv[1].startswith("-"):
        print(__doc__.strip(), file=sys.stderr)
        return 64
    root, out, wanted = argv[1], argv[2], argv[3:] or list(DEFAULTS)
    files = {}
    for d, _, names in os.walk(root):
        for n in names:
            m = module_name(n)
            if m:
                files[m] = os.path.join(d, n)
    os.makedirs(out, exist_ok=True)
    order, missing, seen = [], [], set()

    def visit(name):
        name = name.replace("-", "_")
        if name in seen:
            return
        seen.add(name)
        if name not in files:
            missing.append(name)
            return
        data = read_module(files[name])
        for dep in ",".join(modinfo(data).get("depends", [""])).split(","):
            if dep:
                visit(dep)
        with open(os.path.join(out, name + ".ko"), "wb") as f:
            f.write(data)
        order.append(name)

    for name in wanted:
        visit(name)
    with open(os.path.join(out, "load-order"), "w") as f:
        f.write("".join(n + "\n" for n in order))
    with open(os.path.join(out, "missing"), "w") as f:
        f.write("".join(n + "\n" for n in missing))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
