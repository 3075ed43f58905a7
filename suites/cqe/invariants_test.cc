// Completion invariants over the whole configuration matrix (io_uring(7):
// one CQE per SQE, user_data returned untouched; io_uring_enter(2):
// IOSQE_IO_LINK, IOSQE_CQE_SKIP_SUCCESS; spec D.2). Whatever the setup
// flags: every request posts exactly one CQE unless CQE_SKIP_SUCCESS
// suppresses a success; res is a count or an -errno in [-4095, -1]; a link
// chain completes in order and a broken one cancels the rest.
#include <memory>
#include <string>

#include "harness/features.h"
#include "harness/fd.h"
#include "harness/matchers.h"
#include "suites/cqe/cqe_helpers.h"

namespace ringcheck {
namespace {

using cqe::ArrivedInOrder;
using cqe::Describe;
using cqe::ExactlyThese;
using cqe::Want;

constexpr uint8_t kLink = IOSQE_IO_LINK;
constexpr uint8_t kSkip = IOSQE_CQE_SKIP_SUCCESS;

// res of a CQE: a count (>= 0) or a negative errno the kernel can return.
::testing::AssertionResult CountOrErrno(const Cqe& c) {
  if (c.res >= -4095) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "res below -4095 " << Describe(c);
}

class CqeInvariants : public RingTest {
 protected:
  void RequireSkip() { REQUIRE_FEATURE("feat_cqe_skip"); }
  // Submits whatever is still queued (NextSqe submits a full SQ itself).
  // Submits until the kernel has taken every queued SQE: a request that
  // fails at submission ends that io_uring_enter's batch (which requests do
  // differs between kernels), and the rest wait for the next enter.
  void SubmitRest() {
    for (int i = 0; i < 8; ++i) {
      ASSERT_GE(ring().Submit(), 0);
      if (io_uring_sq_ready(ring().get()) == 0) break;
    }
    cqe::WaitSqConsumed(ring());
  }
  // Every CQE: res in range, no flag these requests can have.
  void ExpectPlain(const std::vector<Cqe>& got) {
    for (const Cqe& c : got) {
      EXPECT_TRUE(CountOrErrno(c));
      EXPECT_EQ(c.flags, 0u) << "no flag applies to NOP or a plain read " << Describe(c);
    }
  }
};

// D1, D2: NOPs and failing reads, with and without CQE_SKIP_SUCCESS, a
// few SQ-fulls of them: each posts exactly one CQE with its own user_data,
// except the successes with the flag, which post none.
TEST_P(CqeInvariants, OneCqePerRequestUnlessSkipped) {
  RINGCHECK_RULE("D1 D2");
  RequireSkip();
  if (IsSkipped()) return;
  const unsigned n = 4 * std::min(ring().get()->sq.ring_entries, 64u);
  std::vector<Want> want;
  for (unsigned i = 0; i < n; ++i) {
    const uint64_t ud = 1000 + i;
    switch (i % 4) {
      case 0: cqe::QueueNop(ring(), ud); want.push_back({ud, 0}); break;
      case 1: cqe::QueueFailingRead(ring(), ud); want.push_back({ud, -EBADF}); break;
      case 2: cqe::QueueNop(ring(), ud, kSkip); break;
      default: cqe::QueueFailingRead(ring(), ud, kSkip); want.push_back({ud, -EBADF}); break;
    }
    if (HasFatalFailure()) return;
  }
  SubmitRest();
  std::vector<Cqe> got = cqe::ReapAll(ring(), want.size());
  EXPECT_TRUE(ExactlyThese(got, want));
  ExpectPlain(got);
}

// D12 and the range of res: results are counts or -errno values, for
// requests that succeed, fail at issue, and fail at submission.
TEST_P(CqeInvariants, ResultIsCountOrNegativeErrno) {
  RINGCHECK_RULE("D12");
  UniqueFd file = ScratchFile(64);
  ASSERT_TRUE(file.valid());
  char buf[16];
  cqe::QueueNop(ring(), 1);
  io_uring_sqe* sqe = cqe::QueueSqe(ring(), 2, 0);
  ASSERT_NE(sqe, nullptr);
  io_uring_prep_read(sqe, file.get(), buf, sizeof buf, 0);  // IOPOLL rings refuse it
  sqe->user_data = 2;
  cqe::QueueFailingRead(ring(), 3);
  ASSERT_GE(ring().Submit(), 0);
  sqe = cqe::QueueSqe(ring(), 4, 0);
  ASSERT_NE(sqe, nullptr);
  sqe->opcode = 250;  // no such opcode: fails at submission, ends the batch
  ASSERT_GE(ring().Submit(), 0);
  cqe::QueueNop(ring(), 5, 1u << 7);  // no such SQE flag
  SubmitRest();
  std::vector<Cqe> got = cqe::ReapAll(ring(), 5);
  ASSERT_EQ(got.size(), 5u) << Describe(got);
  ExpectPlain(got);
  for (const Cqe& c : got) {
    switch (c.user_data) {
      case 1: EXPECT_RESULT(c.res, 0, "io_uring(7) NOP"); break;
      case 2: EXPECT_LE(c.res, 16) << "a read returns at most what it asked for"; break;
      case 3: EXPECT_RESULT(c.res, -EBADF, "read of fd -1"); break;
      case 4: EXPECT_RESULT(c.res, -EINVAL, "io_uring_enter(2) unknown opcode"); break;
      case 5: EXPECT_RESULT(c.res, -EINVAL, "D12"); break;
      default: ADD_FAILURE() << "a CQE nobody asked for " << Describe(c);
    }
  }
}

// D1 in a chain: a linked chain completes in order, and a success with
// CQE_SKIP_SUCCESS in its middle posts nothing without breaking it.
TEST_P(CqeInvariants, LinkChainCompletesInOrder) {
  RINGCHECK_RULE("D1");
  RequireSkip();
  if (IsSkipped()) return;
  cqe::QueueNop(ring(), 1, kLink);
  cqe::QueueNop(ring(), 2, kLink | kSkip);
  cqe::QueueNop(ring(), 3, kLink);
  cqe::QueueNop(ring(), 4);
  ASSERT_TRUE(cqe::SubmitExpect(ring(), 4));
  std::vector<Cqe> got = cqe::ReapAll(ring(), 3);
  EXPECT_TRUE(ExactlyThese(got, {{1, 0}, {3, 0}, {4, 0}}));
  EXPECT_TRUE(ArrivedInOrder(got, {1, 3, 4}));
  ExpectPlain(got);
}

// D4: a link that fails cancels the rest of its chain; each cancelled
// request posts -ECANCELED, in chain order, its own skip flag cleared.
TEST_P(CqeInvariants, BrokenLinkCancelsTheRest) {
  RINGCHECK_RULE("D4");
  RequireSkip();
  if (IsSkipped()) return;
  cqe::QueueNop(ring(), 1, kLink);
  cqe::QueueFailingRead(ring(), 2, kLink);
  cqe::QueueNop(ring(), 3, kLink | kSkip);
  cqe::QueueNop(ring(), 4, kSkip);
  ASSERT_TRUE(cqe::SubmitExpect(ring(), 4));
  std::vector<Cqe> got = cqe::ReapAll(ring(), 4);
  EXPECT_TRUE(ExactlyThese(got, {{1, 0}, {2, -EBADF}, {3, -ECANCELED}, {4, -ECANCELED}}));
  EXPECT_TRUE(ArrivedInOrder(got, {1, 2, 3, 4}));
  ExpectPlain(got);
}

RINGCHECK_INSTANTIATE_ALL_RINGS(CqeInvariants);

}  // namespace
}  // namespace ringcheck
