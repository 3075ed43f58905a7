// NOP across the whole configuration matrix: the smallest request there is,
// so what it shows is the ring itself (rules N1-N9 of spec/nop.md: one CQE
// per SQE, user_data returned untouched, an unknown opcode fails the request,
// the indexes wrap, a timed wait runs its course).
#include <gtest/gtest.h>
#include <liburing.h>

#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "harness/configs.h"
#include "harness/errno_names.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/uapi.h"

namespace ringcheck {
namespace {

class Nop : public RingTest {
 protected:
  void QueueNop(uint64_t user_data, uint8_t sqe_flags = 0) {
    io_uring_sqe* sqe = ring().NextSqe();
    ASSERT_NE(sqe, nullptr);
    io_uring_prep_nop(sqe);
    sqe->user_data = user_data;
    sqe->flags = sqe_flags;
  }
  unsigned SqEntries() { return ring().get()->sq.ring_entries; }
  bool Sqpoll() { return (ring().get()->flags & IORING_SETUP_SQPOLL) != 0; }
  // Submits what is queued; true if io_uring_submit's count fits the n SQEs
  // just queued (N4). Without SQPOLL it is exactly n. On an SQPOLL ring
  // liburing returns the SQ tail minus the kernel's SQ head at that moment:
  // what the thread has not consumed yet, which may be anything from 0 (it
  // took them all already) to n plus SQEs of an earlier batch whose
  // consumption the thread has not published yet (see WaitSqConsumed). Only
  // an error is wrong there.
  ::testing::AssertionResult SubmitQueued(unsigned n) {
    const int got = ring().Submit();
    if (Sqpoll() ? got >= 0 : got == static_cast<int>(n)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "io_uring_submit gave " << ResultName(got) << " for " << n << " queued SQEs"
           << (Sqpoll() ? " on an SQPOLL ring" : "") << " (rule N4)";
  }
  // An SQPOLL thread posts the CQEs of a batch before it publishes the new
  // SQ head, and liburing's submit on an SQPOLL ring returns what the kernel
  // has not consumed yet: wait for the head (bounded) before counting.
  void WaitSqConsumed() {
    io_uring* r = ring().get();
    if (!(r->flags & IORING_SETUP_SQPOLL)) return;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (io_uring_smp_load_acquire(r->sq.khead) != *r->sq.ktail &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
  }
};

TEST_P(Nop, OneCqePerSqe) {
  RINGCHECK_RULE("N1");
  QueueNop(0x1234);
  ASSERT_TRUE(SubmitQueued(1));
  std::vector<Cqe> cqes = ring().Reap(1);
  ASSERT_EQ(cqes.size(), 1u) << "no CQE for a submitted NOP";
  EXPECT_EQ(cqes[0].user_data, 0x1234u);
  EXPECT_RESULT(cqes[0].res, 0, "N1");
  // Nothing else may follow.
  EXPECT_TRUE(ring().Reap(1, kNoMoreCqes).empty()) << "a second CQE for one NOP";
}

TEST_P(Nop, UserDataComesBackUntouched) {
  RINGCHECK_RULE("N2");
  const std::vector<uint64_t> values = {0, 1, 0x8000000000000000ull, 0xdeadbeefcafef00dull,
                                        0xfffffffffffffffeull};
  for (uint64_t v : values) QueueNop(v);
  ASSERT_TRUE(SubmitQueued(values.size()));
  std::vector<Cqe> cqes = ring().Reap(values.size());
  ASSERT_EQ(cqes.size(), values.size());
  std::multiset<uint64_t> got;
  for (const Cqe& c : cqes) got.insert(c.user_data);
  EXPECT_EQ(got, std::multiset<uint64_t>(values.begin(), values.end()));
}

TEST_P(Nop, BatchOfNGivesNCqes) {
  RINGCHECK_RULE("N3 N1");
  const unsigned n = std::min(SqEntries(), 256u);
  for (unsigned i = 0; i < n; ++i) QueueNop(1000 + i);
  ASSERT_TRUE(SubmitQueued(n));
  std::vector<Cqe> cqes = ring().Reap(n);
  ASSERT_EQ(cqes.size(), n);
  std::set<uint64_t> seen;
  for (const Cqe& c : cqes) {
    EXPECT_RESULT(c.res, 0, "N3");
    EXPECT_TRUE(seen.insert(c.user_data).second) << "user_data " << c.user_data << " twice";
    EXPECT_GE(c.user_data, 1000u);
    EXPECT_LT(c.user_data, 1000u + n);
  }
  EXPECT_TRUE(ring().Reap(1, kNoMoreCqes).empty());
}

TEST_P(Nop, SubmitReturnsTheNumberQueued) {
  RINGCHECK_RULE("N4");
  QueueNop(1);
  QueueNop(2);
  QueueNop(3);
  if (Sqpoll()) {
    // What the thread has not consumed yet: 0 to 3 (see SubmitQueued).
    const int got = ring().Submit();
    EXPECT_TRUE(got >= 0 && got <= 3) << "io_uring_submit gave " << ResultName(got)
                                      << " for 3 SQEs on an SQPOLL ring (rule N4)";
  } else {
    EXPECT_RESULT(ring().Submit(), 3, "N4");
  }
  EXPECT_EQ(ring().Reap(3).size(), 3u);
  WaitSqConsumed();
  EXPECT_RESULT(ring().Submit(), 0, "N4") << " (nothing queued)";
}

// IOSQE_CQE_SKIP_SUCCESS (rule D1): a NOP that succeeds posts nothing.
TEST_P(Nop, CqeSkipSuccessGivesNoCqe) {
  RINGCHECK_RULE("N6 D1");
  REQUIRE_FEATURE("feat_cqe_skip");
  QueueNop(1, IOSQE_CQE_SKIP_SUCCESS);
  QueueNop(2);
  ASSERT_TRUE(SubmitQueued(2));
  std::vector<Cqe> cqes = ring().Reap(2, std::chrono::milliseconds(200));
  ASSERT_EQ(cqes.size(), 1u) << "expected only the CQE of the NOP without CQE_SKIP_SUCCESS";
  EXPECT_EQ(cqes[0].user_data, 2u);
}

// io_uring_enter(2): an opcode the kernel does not know fails the request
// with -EINVAL in its CQE (not the submission).
TEST_P(Nop, UnknownOpcodeCompletesWithEinval) {
  RINGCHECK_RULE("N5");
  io_uring_sqe* sqe = ring().NextSqe();
  ASSERT_NE(sqe, nullptr);
  io_uring_prep_nop(sqe);
  sqe->opcode = 250;  // far past IORING_OP_LAST on any kernel
  sqe->user_data = 77;
  ASSERT_TRUE(SubmitQueued(1));
  std::vector<Cqe> cqes = ring().Reap(1);
  ASSERT_EQ(cqes.size(), 1u);
  EXPECT_EQ(cqes[0].user_data, 77u);
  EXPECT_RESULT(cqes[0].res, -EINVAL, "N5");
}

// Rule D12: SQE flag bits the kernel does not define fail the request.
TEST_P(Nop, UndefinedSqeFlagCompletesWithEinval) {
  RINGCHECK_RULE("N7 D12");
  QueueNop(5, 1u << 7);  // bit 7 is not an IOSQE_* flag on any kernel so far
  ASSERT_TRUE(SubmitQueued(1));
  std::vector<Cqe> cqes = ring().Reap(1);
  ASSERT_EQ(cqes.size(), 1u);
  EXPECT_RESULT(cqes[0].res, -EINVAL, "N7");
}

// The SQ and CQ indexes wrap: many times more requests than entries, in
// batches, all complete exactly once.
TEST_P(Nop, RingsWrapAround) {
  RINGCHECK_RULE("N8");
  const unsigned batch = std::min(SqEntries(), 4096u);
  const unsigned rounds = std::max(8u, 4096u / batch);
  uint64_t next = 1;
  for (unsigned r = 0; r < rounds; ++r) {
    // A whole SQ per round: the previous round's SQEs must be free again,
    // which an SQPOLL thread publishes after their CQEs.
    WaitSqConsumed();
    for (unsigned i = 0; i < batch; ++i) QueueNop(next++);
    ASSERT_TRUE(SubmitQueued(batch)) << "round " << r;
    std::vector<Cqe> cqes = ring().Reap(batch);
    ASSERT_EQ(cqes.size(), batch) << "round " << r;
    std::set<uint64_t> seen;
    for (const Cqe& c : cqes) {
      ASSERT_RESULT(c.res, 0, "N8");
      ASSERT_GE(c.user_data, next - batch);
      ASSERT_LT(c.user_data, next);
      ASSERT_TRUE(seen.insert(c.user_data).second);
    }
  }
  // The kernel's SQ head caught up with everything submitted (an SQPOLL
  // thread publishes it after posting the CQEs).
  WaitSqConsumed();
  io_uring* r = ring().get();
  EXPECT_EQ(*r->sq.khead, *r->sq.ktail);
  EXPECT_EQ(*r->cq.khead, *r->cq.ktail);
}

RINGCHECK_INSTANTIATE_ALL_RINGS(Nop);

// N9 (io_uring_enter(2), IORING_ENTER_EXT_ARG): a wait for completions ends
// when they arrive or when its timeout expires, not before. Many short waits on an
// SQPOLL ring, whose thread keeps going to sleep (sq_thread_idle) and being
// woken, give a premature -ETIME its chance: Debian 5.10 answered about one
// wait in 2000 with -ETIME after 0 ms of a 5 s timeout (6.1 and later, none).
TEST(NopWait, TimedWaitOnSqpollRingRunsItsCourse) {
  RINGCHECK_RULE("N9");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("sqpoll"));
  io_uring* r = ring->get();
  constexpr int kRounds = 4000, kBatch = 4;
  int waits = 0, early = 0;
  long shortest_ms = -1;
  for (int round = 0; round < kRounds; ++round) {
    for (int i = 0; i < kBatch; ++i) {
      io_uring_sqe* sqe = ring->NextSqe();
      ASSERT_NE(sqe, nullptr) << "round " << round;
      io_uring_prep_nop(sqe);
    }
    // On an SQPOLL ring this counts what the thread has not consumed yet,
    // which may include the previous round's SQEs: only errors matter here.
    ASSERT_GE(ring->Submit(), 0) << "round " << round;
    for (int got = 0; got < kBatch;) {
      __kernel_timespec ts = {5, 0};
      io_uring_cqe* cqe = nullptr;
      const auto start = std::chrono::steady_clock::now();
      int ret = io_uring_wait_cqe_timeout(r, &cqe, &ts);
      const long ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start).count();
      ++waits;
      if (ret == -ETIME && ms < 4000) {
        ++early;
        if (shortest_ms < 0 || ms < shortest_ms) shortest_ms = ms;
        continue;
      }
      ASSERT_RESULT(ret, 0, "N9") << " (the NOPs complete within 5 s), round " << round;
      io_uring_cqe_seen(r, cqe);
      ++got;
    }
  }
  EXPECT_EQ(early, 0) << early << " of " << waits << " waits with a 5 s timeout returned -ETIME, "
                      << "the quickest after " << shortest_ms
                      << " ms (rule N9: a timed wait ends at its timeout)";
}

}  // namespace
}  // namespace ringcheck
