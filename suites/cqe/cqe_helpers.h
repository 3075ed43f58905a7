// Shared pieces of the CQE suite: the ring configurations flag tests run
// under, readable CQE dumps for failure messages, SQE shorthands, and probes
// for behaviours no opcode or feature bit proves.
#ifndef RINGCHECK_SUITES_CQE_CQE_HELPERS_H_
#define RINGCHECK_SUITES_CQE_CQE_HELPERS_H_

#include <gtest/gtest.h>
#include <liburing.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "harness/configs.h"
#include "harness/cqes.h"
#include "harness/ring.h"
#include "harness/uapi.h"

namespace ringcheck {
namespace cqe {

// The configurations under which a CQE flag can behave differently: plain,
// 32-byte CQEs (cqe32), mixed sizes (cqe_mixed), completions that appear only
// when the submitter enters the kernel (defer_taskrun_single_issuer), and
// submission by a kernel thread (sqpoll).
std::vector<RingConfig> FlagConfigs();

// CQE names and matching come from the harness (harness/cqes.h).
using ::ringcheck::ArrivedInOrder;
using ::ringcheck::Describe;
using ::ringcheck::ExactlyThese;
using ::ringcheck::ReapAll;
using ::ringcheck::Want;
using ::ringcheck::WithUserData;
inline std::string FlagsName(uint32_t flags) { return CqeFlagsName(flags); }

inline bool HasFlag(const Cqe& c, uint32_t flag) { return (c.flags & flag) != 0; }
inline uint16_t BufferId(const Cqe& c) {
  return static_cast<uint16_t>(c.flags >> IORING_CQE_BUFFER_SHIFT);
}

// SQE shorthands: each takes the next SQE of `ring`, fills it and sets
// user_data and the IOSQE_* flags.
void QueueNop(Ring& ring, uint64_t user_data, uint8_t sqe_flags = 0);
// A READ from fd -1: accepted at submission, fails at issue with -EBADF on
// every kernel and every ring type.
void QueueFailingRead(Ring& ring, uint64_t user_data, uint8_t sqe_flags = 0);
io_uring_sqe* QueueSqe(Ring& ring, uint64_t user_data, uint8_t sqe_flags);

// On an SQPOLL ring io_uring_submit() returns how many SQEs the kernel
// thread has not consumed yet, earlier ones included. Waits (bounded) until
// the thread has consumed, issued and completed everything published so
// far (it moves the SQ head after flushing completions), waking it if idle.
// Returns at once on other rings, where submission is synchronous.
void WaitSqConsumed(Ring& ring);

// Submits what is queued and expects `n` SQEs consumed. On SQPOLL rings it
// first waits until the kernel thread consumed earlier submissions, so the
// count is this submission's alone.
::testing::AssertionResult SubmitExpect(Ring& ring, int n);


// Fixture for the IOSQE_CQE_SKIP_SUCCESS tests: a ring of the matrix on a
// kernel with IORING_FEAT_CQE_SKIP, and a plain marker NOP after the requests
// under test, so "no CQE" is seen as "the marker came, nothing else".
class SkipTest : public RingTest {
 protected:
  static constexpr uint64_t kMarker = 99;
  void SetUpRing() override;  // skips unless the kernel has CQE_SKIP
  // What a derived fixture adds, once the ring exists and has CQE_SKIP.
  virtual void SetUpSkipTest() {}
  // Submits the `n` queued SQEs, then the marker NOP on its own (a request
  // that fails at submission ends its batch), and returns every CQE: at
  // least `count`, then whatever else comes before the CQ goes quiet.
  std::vector<Cqe> SubmitWithMarker(int n, size_t count);
};

}  // namespace cqe
}  // namespace ringcheck

// Skips with "unsupported:<what>" when a probe above says no.
#define RINGCHECK_INSTANTIATE_FLAG_RINGS(fixture)                                   \
  INSTANTIATE_TEST_SUITE_P(FlagRings, fixture,                                     \
                           ::testing::ValuesIn(::ringcheck::cqe::FlagConfigs()),   \
                           ::ringcheck::ConfigParamName)

#endif  // RINGCHECK_SUITES_CQE_CQE_HELPERS_H_
