"""The ring of last inputs a fuzz guest writes into qemu's ivshmem device
(layout: fuzz/common/oracle.h, LogInputStart). The host maps the same file,
so what the guest wrote is there after a panic."""

import struct

SIZE = 1 << 20
SLOT = 16384
SLOTS = SIZE // SLOT - 1
MAGIC = b"RCFZSHM1"


def create(path):
    with open(path, "wb") as f:
        f.truncate(SIZE)


def counters(path):
    """(inputs started, inputs finished), (0, 0) before the guest wrote any."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return 0, 0
    if len(head) < 24 or head[:8] != MAGIC:
        return 0, 0
    return struct.unpack_from("<QQ", head, 8)


def last_inputs(path, count=8):
    """The last `count` inputs started, newest first: dicts with seq,
    target, data, truncated."""
    try:
        with open(path, "rb") as f:
            mem = f.read()
    except OSError:
        return []
    if mem[:8] != MAGIC:
        return []
    out = []
    for i in range(1, SLOTS + 1):
        slot = mem[i * SLOT:(i + 1) * SLOT]
        seq, size = struct.unpack_from("<QI", slot, 0)
        if seq == 0:
            continue
        target = slot[12:24].split(b"\0")[0].decode("ascii", "replace")
        data = slot[24:24 + min(size, SLOT - 24)]
        out.append({"seq": seq, "target": target, "data": data, "truncated": size > SLOT - 24})
    out.sort(key=lambda x: -x["seq"])
    return out[:count]
