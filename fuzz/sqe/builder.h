// Builds one SQE spec from a 16-byte record: the value domains of
// opcodes.h (domains.cc) and the per-opcode arrangement of fields (decode.cc).
#ifndef RINGCHECK_FUZZ_SQE_BUILDER_H_
#define RINGCHECK_FUZZ_SQE_BUILDER_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>

#include "fuzz/sqe/decode.h"
#include "fuzz/sqe/kit_pool.h"
#include "fuzz/sqe/opcodes.h"

namespace ringcheck::fuzz::build {

using rcfuzz::BufRef;
using rcfuzz::FdRef;
using rcfuzz::kBufSize;
using rcfuzz::Raw;
using rcfuzz::Ref;
using rcfuzz::ScratchRef;

constexpr uint64_t kLens[] = {0, 1, 7, 8, 64, 511, 512, 4095, 4096, 4097, 8192, 16383, 16384,
                              16385, 65536, 0x7ffff000, 0xffffffff};
constexpr uint64_t kOffs[] = {0, 1, 511, 512, 4095, 4096, 4097, 65535, 65536, 65537, 1 << 20,
                              8 << 20, (8 << 20) + 1, 1ull << 40, LLONG_MAX, ~0ull, ~0ull - 1};
constexpr uint32_t kBufOffs[] = {0, 1, 63, 64, 4095, 4096, 8191, 8192, 16320, 16383, 16384};
constexpr uint64_t kBadAddrs[] = {0, 1, 0xffff888000000000ull, 0x7ffffffff000ull};

template <typename T, size_t N>
inline T At(const T (&t)[N], unsigned v) { return t[v % N]; }

// Random subset of `bits` (one per set bit of v), sometimes raw garbage.
inline uint32_t Subset(uint16_t v, std::initializer_list<uint32_t> bits) {
  if ((v & 0x3f) == 0x3f) return 0xffffffffu << (v >> 11);
  uint32_t out = 0;
  unsigned i = 0;
  for (uint32_t b : bits) {
    if (v & (1u << (i++ % 16))) out |= b;
  }
  return out;
}

class Builder {
 public:
  Builder(const uint8_t* r, int record, uint64_t ud_base, rcfuzz::SqeSpec* s)
      : r_(r), record_(record), ud_base_(ud_base), s_(s) {}

  uint16_t V16(int at) const { return static_cast<uint16_t>(r_[at] | (r_[at + 1] << 8)); }
  uint8_t V8(int at) const { return r_[at]; }

  void Write(uint16_t off, uint8_t size, uint64_t value) {
    if (s_->nwrites < rcfuzz::kMaxWrites) s_->writes[s_->nwrites++] = {off, size, 0, Raw(value)};
  }
  void WriteRef(uint16_t off, uint8_t size, Ref ref) {
    if (s_->nwrites < rcfuzz::kMaxWrites) s_->writes[s_->nwrites++] = {off, size, 1, ref};
  }
  void WriteName(uint16_t off, const char* name) {
    uint64_t v = 0;
    std::memcpy(&v, name, std::min<size_t>(std::strlen(name), 7));
    Write(off, 8, v);
  }

  // A pool fd of kind `kinds`, or now and then any pool fd or no fd at all.
  Ref Fd(uint32_t kinds, uint8_t v) {
    if ((v & 0xf0) == 0xf0) return Raw(v & 1 ? ~0ull : 9999);  // -1, or not open
    int matches[rcfuzz::kPoolFdCount], n = 0;
    for (int i = 0; i < rcfuzz::kPoolFdCount; ++i) {
      if (kinds == 0 || (rcfuzz::kPoolFdKinds[i] & kinds) == kinds) matches[n++] = i;
    }
    if ((v & 0xe0) == 0xe0 || n == 0) return FdRef(static_cast<uint8_t>(v % rcfuzz::kPoolFdCount));
    return FdRef(static_cast<uint8_t>(matches[v % n]));
  }

  Ref Buffer(uint16_t v) {
    if ((v & 0x7f) == 0x7f) return Raw(At(kBadAddrs, v >> 8));
    return BufRef(static_cast<uint8_t>(v % 4), At(kBufOffs, v >> 4));
  }

  uint64_t Len(uint16_t v) {
    if (v & 0x8000) return v & 0x7fff;
    return At(kLens, v);
  }

  Ref Target(uint8_t v) {
    switch (v >> 6) {
      case 0: case 1: return Raw(ud_base_ | (v % (record_ + 1)));  // an earlier (or this) request
      case 2: return Raw(ud_base_ | ((record_ + 1 + v % 4) & kUdIndexMask));  // a later one
      default: return Raw(v & 1 ? 0 : 0x5eedull << 32);                       // nobody
    }
  }

  // Fills the fields of one SQE record; scratch layout is per domain.
  void Fill(const OpDesc& d);

 private:
  Ref Field(D dom, int at);
  void Iovecs(uint16_t off, unsigned count, int at);
  void Sockaddr(uint16_t off, uint8_t v);

  const uint8_t* r_;
  int record_;
  uint64_t ud_base_;
  rcfuzz::SqeSpec* s_;
};

}  // namespace ringcheck::fuzz::build

#endif  // RINGCHECK_FUZZ_SQE_BUILDER_H_
