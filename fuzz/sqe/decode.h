// Decodes a fuzz input into a program: SQE records and submit points.
//
// Input format: 16-byte records. Byte 0 says what the record is:
//   b0 % 8 in 0..5  an SQE; b1 picks the opcode among those allowed (or, past
//                   them, a denied one), b2 the SQE flags, b3.. the fields
//   b0 % 8 == 6     submit what is queued
//   b0 % 8 == 7     submit and wait for up to b1 % 8 + 1 CQEs, at most 100 us if b2
//                   is odd (0 if even: only what is ready); the wait ends
//                   sooner when the input's requests owe fewer CQEs (none:
//                   only what is ready) or none came for 20 us (Submit in
//                   sqe_fuzzer.cc)
#ifndef RINGCHECK_FUZZ_SQE_DECODE_H_
#define RINGCHECK_FUZZ_SQE_DECODE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz/sqe/kit_pool.h"
#include "fuzz/sqe/opcodes.h"

namespace ringcheck::fuzz {

constexpr size_t kRecordSize = 16;

struct Step {
  enum Kind : uint8_t { kSqe, kSubmit, kWait } kind;
  uint8_t wait_nr;
  uint16_t wait_us;
  bool denied;            // an opcode the restrictions forbid
  const OpDesc* desc;     // null for denied opcodes
  int record;             // index among SQE records (scratch, user_data)
  rcfuzz::SqeSpec spec;
};

struct Program {
  int nsteps = 0;
  int nsqes = 0;
  Step steps[rcfuzz::kMaxRecords];
};

// `allowed`: opcodes the ring accepts (OpTable order, filtered by the probe);
// `denied`: opcodes the kernel knows but the restrictions forbid.
void DecodeProgram(const uint8_t* data, size_t size, const std::vector<const OpDesc*>& allowed,
                   const std::vector<uint8_t>& denied, uint64_t ud_base, Program* out);

// The user_data tags the decoder hands out: ud_base | record index. Poll
// updates may rename a request to its user_data with kUdAlias set.
constexpr uint64_t kUdAlias = 1ull << 15;
constexpr uint64_t kUdIndexMask = 0x7fff;

}  // namespace ringcheck::fuzz

#endif  // RINGCHECK_FUZZ_SQE_DECODE_H_
