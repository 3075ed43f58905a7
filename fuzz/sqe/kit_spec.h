// The SQE as the sqe fuzzer decodes it: every field either a raw value or a
// reference into the per-run pool (an fd, a buffer, this record's scratch
// memory), so the same record can be replayed in another process. Depends on
// libc and liburing only: reproducers embed this file verbatim.
#ifndef RINGCHECK_FUZZ_SQE_KIT_SPEC_H_
#define RINGCHECK_FUZZ_SQE_KIT_SPEC_H_

#include <liburing.h>

#include <cstdint>
#include <cstring>

namespace rcfuzz {

enum RefKind : uint8_t {
  kRaw = 0,      // the value itself
  kFd = 1,       // pool fd number `index`
  kBuf = 2,      // address of pool buffer `index` plus `offset`
  kScratch = 3,  // address of this record's scratch memory plus `offset`
  kAddrWord = 4, // 8-byte word `index` of the pool's loopback socket addresses
};

struct Ref {
  uint8_t kind;
  uint8_t index;
  uint32_t offset;
  uint64_t raw;
};

inline Ref Raw(uint64_t v) { return Ref{kRaw, 0, 0, v}; }
inline Ref FdRef(uint8_t i) { return Ref{kFd, i, 0, 0}; }
inline Ref BufRef(uint8_t i, uint32_t off) { return Ref{kBuf, i, off, 0}; }
inline Ref ScratchRef(uint32_t off) { return Ref{kScratch, 0, off, 0}; }

// One store into the record's scratch memory before the SQE is submitted:
// `size` bytes of `value` (little endian), or the 8-byte address/fd `ref`.
struct ScratchWrite {
  uint16_t offset;
  uint8_t size;    // 1..8
  uint8_t is_ref;  // value comes from `ref`
  Ref ref;
};

constexpr int kMaxWrites = 20;
constexpr uint32_t kScratchPerRecord = 512;

struct SqeSpec {
  uint8_t opcode;
  uint8_t flags;
  uint16_t ioprio;
  Ref fd;
  Ref off;     // also addr2
  Ref addr;    // also splice_off_in
  Ref len;     // a length, or an fd (RENAMEAT/LINKAT new dirfd)
  uint32_t op_flags;  // rw_flags, poll32_events, timeout_flags, ...
  uint64_t user_data;
  uint16_t buf;       // buf_index or buf_group
  uint16_t personality;
  Ref file;    // splice_fd_in / file_index / addr_len
  Ref addr3;
  uint8_t nwrites;
  ScratchWrite writes[kMaxWrites];
};

// Where refs point in this process.
struct RefBase {
  const int* fds;
  char* const* bufs;
  char* scratch;  // this record's scratch
  const uint64_t* addr_words;  // listener then UDP sockaddr_in, 2 words each
};

inline uint64_t Resolve(const Ref& r, const RefBase& b) {
  switch (r.kind) {
    case kFd: return static_cast<uint64_t>(static_cast<int64_t>(b.fds[r.index]));
    case kBuf: return reinterpret_cast<uint64_t>(b.bufs[r.index] + r.offset);
    case kScratch: return reinterpret_cast<uint64_t>(b.scratch + r.offset);
    case kAddrWord: return b.addr_words[r.index];
    default: return r.raw;
  }
}

inline void Materialize(const SqeSpec& s, const RefBase& b, io_uring_sqe* sqe) {
  for (int i = 0; i < s.nwrites; ++i) {
    const ScratchWrite& w = s.writes[i];
    uint64_t v = Resolve(w.ref, b);
    std::memcpy(b.scratch + w.offset, &v, w.size);
  }
  std::memset(sqe, 0, sizeof *sqe);
  sqe->opcode = s.opcode;
  sqe->flags = s.flags;
  sqe->ioprio = s.ioprio;
  sqe->fd = static_cast<int32_t>(Resolve(s.fd, b));
  sqe->off = Resolve(s.off, b);
  sqe->addr = Resolve(s.addr, b);
  sqe->len = static_cast<uint32_t>(Resolve(s.len, b));
  sqe->rw_flags = static_cast<__kernel_rwf_t>(s.op_flags);
  sqe->user_data = s.user_data;
  sqe->buf_index = s.buf;
  sqe->personality = s.personality;
  sqe->file_index = static_cast<uint32_t>(Resolve(s.file, b));
  sqe->addr3 = Resolve(s.addr3, b);
}

}  // namespace rcfuzz

#endif  // RINGCHECK_FUZZ_SQE_KIT_SPEC_H_
