// CQ overflow (spec D.3: D14, D15, D18; io_uring_setup(2) IORING_FEAT_NODROP,
// io_uring_enter(2) IORING_SQ_CQ_OVERFLOW and -EBUSY): with NODROP a
// completion that finds the CQ full waits on a kernel list, in order, and
// is flushed into the CQ once there is room; IORING_SQ_CQ_OVERFLOW says the
// list is not empty. Kernels without NODROP drop such CQEs (D13) and SKIP
// here; what only older kernels do is listed in UNCOVERED.md.
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "harness/features.h"
#include "harness/fd.h"
#include "harness/matchers.h"
#include "suites/cqe/cqe_helpers.h"

namespace ringcheck {
namespace {

using cqe::Describe;

class CqOverflow : public RingTest {
 protected:
  void SetUpRing() override {
    REQUIRE_FEATURE("feat_nodrop");
  }
  unsigned CqEntries() { return ring().get()->cq.ring_entries; }
  bool OverflowFlag() {
    return (IO_URING_READ_ONCE(*ring().get()->sq.kflags) & IORING_SQ_CQ_OVERFLOW) != 0;
  }
  unsigned DroppedCount() { return IO_URING_READ_ONCE(*ring().get()->cq.koverflow); }
  unsigned CqReady() { return io_uring_cq_ready(ring().get()); }

  // Submits NOPs with user_data next_.. until the CQ is full and `backlog`
  // more completions wait on the overflow list; reaps nothing.
  void Overflow(unsigned backlog) {
    const unsigned n = CqEntries() + backlog;
    for (unsigned i = 0; i < n; ++i) cqe::QueueNop(ring(), next_++);
    ASSERT_GE(ring().Submit(), 0);
    cqe::WaitSqConsumed(ring());
    ASSERT_EQ(CqReady(), CqEntries()) << "the CQ is full";
  }
  // Reaps everything (entering the kernel, which flushes the backlog) and
  // expects user_data from..next_-1, each once, in order, with res 0.
  void ExpectAllInOrderFrom(uint64_t from, const char* rule) {
    std::vector<Cqe> got = cqe::ReapAll(ring(), next_ - from);
    ASSERT_EQ(got.size(), next_ - from) << "CQEs were lost (rule " << rule << ")";
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].user_data, from + i)
          << "CQE " << i << " out of order (rule " << rule << "): " << Describe(got[i]);
      ASSERT_RESULT(got[i].res, 0, rule);
    }
  }

  uint64_t next_ = 0;
};

// D14: with NODROP, twice as many completions as the CQ holds all arrive,
// each once and in submission order, and none is counted as dropped.
TEST_P(CqOverflow, BacklogLosesNothingAndKeepsOrder) {
  RINGCHECK_RULE("D14");
  Overflow(CqEntries());
  if (HasFatalFailure()) return;
  ExpectAllInOrderFrom(0, "D14");
  EXPECT_EQ(DroppedCount(), 0u) << "cq.overflow counts dropped CQEs (rule D14)";
}

// D14: while the overflow list is not empty, a new completion queues behind
// it even when the CQ has room again: order is kept. The late completion is
// a pipe read armed before the overflow and woken by a write, so nothing is
// submitted while the backlog exists (that is refused on 5.5-5.12, D16).
// Before the test enters the kernel (which flushes the backlog), it gives
// the read up to kNoMoreCqes to complete on its own: a kernel that posts it
// into a free CQ slot ahead of the backlog (Debian 5.10's io_uring, where a
// pipe read completes from an io-wq worker) then shows that every time,
// instead of only when the worker beats the test's flush.
TEST_P(CqOverflow, NewCompletionsQueueBehindBacklog) {
  RINGCHECK_RULE("D14");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  const uint64_t late = CqEntries() + 4;  // the user_data after Overflow(4)'s
  char byte = 0;
  io_uring_sqe* sqe = cqe::QueueSqe(ring(), late, 0);
  ASSERT_NE(sqe, nullptr);
  io_uring_prep_read(sqe, r.get(), &byte, 1, 0);
  sqe->user_data = late;
  ASSERT_TRUE(cqe::SubmitExpect(ring(), 1));
  cqe::WaitSqConsumed(ring());
  Overflow(4);
  if (HasFatalFailure()) return;
  ASSERT_EQ(next_, late);
  // Make room without entering the kernel (no flush), then complete the read.
  std::vector<Cqe> first = ring().Reap(2);
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(first[0].user_data, 0u);
  ASSERT_EQ(first[1].user_data, 1u);
  const unsigned tail_before = io_uring_smp_load_acquire(ring().get()->cq.ktail);
  ASSERT_EQ(write(w.get(), "x", 1), 1);
  const auto until = std::chrono::steady_clock::now() + kNoMoreCqes;
  while (io_uring_smp_load_acquire(ring().get()->cq.ktail) == tail_before &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::yield();
  }
  std::vector<Cqe> got = cqe::ReapAll(ring(), late - 2 + 1);
  ASSERT_EQ(got.size(), late - 2 + 1) << "CQEs were lost (rule D14) " << Describe(got);
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].user_data, 2 + i)
        << "CQE " << i << " out of order (rule D14): " << Describe(got[i]);
  }
  EXPECT_RESULT(got.back().res, 1, "D14 the read");
}

// D15: IORING_SQ_CQ_OVERFLOW is set while completions wait on the list.
TEST_P(CqOverflow, OverflowFlagSetWhileBacklogExists) {
  RINGCHECK_RULE("D15");
  ASSERT_FALSE(OverflowFlag()) << "set before any overflow";
  Overflow(2);
  if (HasFatalFailure()) return;
  EXPECT_TRUE(OverflowFlag()) << "IORING_SQ_CQ_OVERFLOW with 2 CQEs on the list (rule D15)";
}

// D15: a flush that leaves part of the backlog keeps the flag; the flush
// that empties the list clears it.
TEST_P(CqOverflow, OverflowFlagClearedOnlyByCompleteFlush) {
  RINGCHECK_RULE("D15");
  const unsigned half = CqEntries() / 2;
  Overflow(CqEntries());
  if (HasFatalFailure()) return;
  ASSERT_EQ(ring().Reap(half).size(), half);  // room for half the backlog
  ASSERT_EQ(io_uring_get_events(ring().get()), 0);  // GETEVENTS flushes what fits
  EXPECT_EQ(CqReady(), CqEntries()) << "the flush filled the room it had";
  EXPECT_TRUE(OverflowFlag()) << "half the backlog is still listed (rule D15)";
  ExpectAllInOrderFrom(half, "D15");
  EXPECT_FALSE(OverflowFlag()) << "the backlog is flushed and reaped (rule D15)";
}

// D18: with the CQ full and a backlog, submitting is not refused with
// -EBUSY (kernels 5.5-5.12 did that, D16): it returns the count, and the new
// completion queues behind the backlog.
TEST_P(CqOverflow, SubmitWithFullCqAndBacklogReturnsCount) {
  RINGCHECK_RULE("D18");
  Overflow(2);
  if (HasFatalFailure()) return;
  cqe::QueueNop(ring(), next_++);
  EXPECT_TRUE(cqe::SubmitExpect(ring(), 1)) << "rule D18";
  cqe::WaitSqConsumed(ring());
  ExpectAllInOrderFrom(0, "D18");
}

// D18: a GETEVENTS wait with the CQ full and a backlog it cannot flush
// returns 0, not -EBUSY (kernels up to 6.1 could, D17).
TEST_P(CqOverflow, WaitWithFullCqAndBacklogReturnsZero) {
  RINGCHECK_RULE("D18");
  Overflow(2);
  if (HasFatalFailure()) return;
  EXPECT_RESULT(io_uring_enter(ring().get()->ring_fd, 0, 1, IORING_ENTER_GETEVENTS, nullptr), 0,
                "D18");
  EXPECT_TRUE(OverflowFlag()) << "nothing could be flushed";
  ExpectAllInOrderFrom(0, "D18");
}

RINGCHECK_INSTANTIATE_FLAG_RINGS(CqOverflow);

}  // namespace
}  // namespace ringcheck
