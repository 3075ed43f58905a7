// IORING_OP_FUTEX_WAIT, FUTEX_WAKE and FUTEX_WAITV (io_uring_prep_futex_wait(3),
// io_uring_prep_futex_wake(3), io_uring_prep_futex_waitv(3);
// io_uring/futex.c io_futex_prep, io_futexv_prep, io_futex_wait,
// io_futex_wake, io_futex_cancel). Spec rules I103-I113.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/control/control_util.h"

namespace ringcheck {
namespace {

using control::ExactlyThese;
using control::Sqe;
using control::SubmitExpect;

constexpr uint32_t kU32 = FUTEX2_SIZE_U32 | FUTEX2_PRIVATE;
constexpr uint64_t kAny = FUTEX_BITSET_MATCH_ANY;

class Futex : public control::ControlTest {
 protected:
  void SetUp() override {
    ControlTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    REQUIRE_FEATURE("op_futex_wait");
    REQUIRE_FEATURE("op_futex_wake");
  }
  io_uring_sqe* Wait(uint64_t ud, uint32_t* word, uint64_t val, uint64_t mask = kAny,
                     uint32_t fflags = kU32) {
    io_uring_sqe* sqe = Sqe(r(), ud);
    io_uring_prep_futex_wait(sqe, word, val, mask, fflags, 0);
    sqe->user_data = ud;
    return sqe;
  }
  io_uring_sqe* Wake(uint64_t ud, uint32_t* word, uint64_t n, uint64_t mask = kAny) {
    io_uring_sqe* sqe = Sqe(r(), ud);
    io_uring_prep_futex_wake(sqe, word, n, mask, kU32, 0);
    sqe->user_data = ud;
    return sqe;
  }
  uint32_t word_ = 0;
  uint32_t other_ = 0;
};

// I103: a FUTEX_WAIT whose value matches waits until a FUTEX_WAKE: the wait
// posts 0, the wake the number of waiters it woke.
TEST_P(Futex, WaitUntilWoken) {
  RINGCHECK_RULE("I103");
  Wait(1, &word_, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(Quiet()) << "the wait completed without a wake (rule I103)";
  Wake(2, &word_, 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, 0}, {2, 1}}));
}

// I104: a FUTEX_WAIT whose value does not match completes at once, -EAGAIN.
TEST_P(Futex, MismatchedValueEagain) {
  RINGCHECK_RULE("I104");
  word_ = 5;
  Wait(1, &word_, 4);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EAGAIN}}));
}

// I105: a FUTEX_WAKE with nobody waiting posts 0.
TEST_P(Futex, WakeWithoutWaitersIsZero) {
  RINGCHECK_RULE("I105");
  Wake(2, &word_, 10);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, 0}}));
}

// I106: FUTEX_WAKE wakes at most its count (sqe->addr2) and posts how many.
TEST_P(Futex, WakeCountBoundsWakeups) {
  RINGCHECK_RULE("I106");
  for (uint64_t ud = 1; ud <= 3; ++ud) Wait(ud, &word_, 0);
  ASSERT_TRUE(SubmitExpect(r(), 3));
  Wake(10, &word_, 2);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  auto got = ReapAllN(3);
  EXPECT_EQ(control::One(got, 10).res, 2) << control::Describe(got) << " (rule I106)";
  EXPECT_EQ(got.size(), 3u) << "exactly two waits completed (rule I106): " << control::Describe(got);
  Wake(11, &word_, 5);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  auto rest = ReapAllN(2);
  EXPECT_EQ(control::One(rest, 11).res, 1) << control::Describe(rest);
}

// I107: the masks must intersect: a wake with a disjoint mask wakes nobody
// (posts 0), one with an overlapping mask wakes the waiter.
TEST_P(Futex, MasksMustIntersect) {
  RINGCHECK_RULE("I107");
  Wait(1, &word_, 0, 0x1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  Wake(2, &word_, 1, 0x2);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(1), {{2, 0}})) << "rule I107";
  Wake(3, &word_, 1, 0x3);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, 0}, {3, 1}}));
}

// I107: a wake on another address wakes nobody.
TEST_P(Futex, OtherAddressDoesNotWake) {
  RINGCHECK_RULE("I107");
  Wait(1, &word_, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  Wake(2, &other_, 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(1), {{2, 0}}));
  Wake(3, &word_, 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, 0}, {3, 1}}));
}

// I108: a plain futex(2) FUTEX_WAKE_PRIVATE wakes an io_uring waiter.
TEST_P(Futex, SyscallWakeWakesRingWaiter) {
  RINGCHECK_RULE("I108");
  Wait(1, &word_, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(Quiet());
  long woke = syscall(SYS_futex, &word_, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  EXPECT_EQ(woke, 1) << "rule I108";
  EXPECT_TRUE(ExactlyThese(ReapAllN(1), {{1, 0}}));
}

// I109: only 32-bit futexes are supported: FUTEX2_SIZE_U8, U16 and U64 are
// -EINVAL, as are unknown futex2 flags and a value that does not fit.
TEST_P(Futex, SizesOtherThanU32Einval) {
  RINGCHECK_RULE("I109");
  // Each refused at prep, which ends its submission: one at a time.
  uint64_t big = 0;
  const uint32_t sizes[] = {FUTEX2_SIZE_U8, FUTEX2_SIZE_U16, FUTEX2_SIZE_U64};
  for (uint32_t size : sizes) {
    Wait(size + 1, reinterpret_cast<uint32_t*>(&big), 0, kAny, size | FUTEX2_PRIVATE);
    ASSERT_TRUE(SubmitExpect(r(), 1));
    EXPECT_TRUE(ExactlyThese(ReapN(1), {{size + 1, -EINVAL}})) << "size " << size;
  }
}

TEST_P(Futex, UnknownFlagEinval) {
  RINGCHECK_RULE("I109");
  Wait(1, &word_, 0, kAny, kU32 | 0x1000);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EINVAL}}));
}

TEST_P(Futex, ValueTooWideEinval) {
  RINGCHECK_RULE("I109");
  Wait(1, &word_, 1ULL << 40);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EINVAL}}));
}

// I110: ASYNC_CANCEL of a FUTEX_WAIT: the wait posts -ECANCELED and the
// cancel posts 1, not 0: io_futex_cancel answers with the number of requests
// it removed, and io_try_cancel passes any answer other than -ENOENT on.
TEST_P(Futex, CancelledWaitAndCancelCountsOne) {
  RINGCHECK_RULE("I110");
  REQUIRE_FEATURE("op_async_cancel");
  Wait(1, &word_, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  io_uring_sqe* c = Sqe(r(), 2);
  io_uring_prep_cancel64(c, 1, 0);
  c->user_data = 2;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, -ECANCELED}, {2, 1}}));
}

// I111: FUTEX_WAITV waits on several words and posts the index of the one
// that was woken.
TEST_P(Futex, WaitvPostsIndexOfWokenWord) {
  RINGCHECK_RULE("I111");
  REQUIRE_FEATURE("op_futex_waitv");
  static futex_waitv vec[2];
  vec[0] = {0, reinterpret_cast<uintptr_t>(&word_), kU32, 0};
  vec[1] = {0, reinterpret_cast<uintptr_t>(&other_), kU32, 0};
  io_uring_sqe* sqe = Sqe(r(), 1);
  io_uring_prep_futex_waitv(sqe, vec, 2, 0);
  sqe->user_data = 1;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(Quiet());
  Wake(2, &other_, 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, 1}, {2, 1}})) << "rule I111";
}

// I112: FUTEX_WAITV with a mismatched value in any entry is -EAGAIN.
TEST_P(Futex, WaitvMismatchEagain) {
  RINGCHECK_RULE("I112");
  REQUIRE_FEATURE("op_futex_waitv");
  static futex_waitv vec[2];
  other_ = 3;
  vec[0] = {0, reinterpret_cast<uintptr_t>(&word_), kU32, 0};
  vec[1] = {0, reinterpret_cast<uintptr_t>(&other_), kU32, 0};
  io_uring_sqe* sqe = Sqe(r(), 1);
  io_uring_prep_futex_waitv(sqe, vec, 2, 0);
  sqe->user_data = 1;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EAGAIN}}));
}

// I113: FUTEX_WAITV with no entries or more than FUTEX_WAITV_MAX is -EINVAL.
TEST_P(Futex, WaitvCountOutOfRangeEinval) {
  RINGCHECK_RULE("I113");
  REQUIRE_FEATURE("op_futex_waitv");
  static futex_waitv vec[1];
  vec[0] = {0, reinterpret_cast<uintptr_t>(&word_), kU32, 0};
  io_uring_sqe* sqe = Sqe(r(), 1);
  io_uring_prep_futex_waitv(sqe, vec, 0, 0);
  sqe->user_data = 1;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EINVAL}}));
  sqe = Sqe(r(), 2);
  io_uring_prep_futex_waitv(sqe, vec, FUTEX_WAITV_MAX + 1, 0);
  sqe->user_data = 2;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, -EINVAL}}));
}

RINGCHECK_INSTANTIATE_DELIVERY_RINGS(Futex);

}  // namespace
}  // namespace ringcheck
