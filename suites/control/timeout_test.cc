// IORING_OP_TIMEOUT and IORING_OP_TIMEOUT_REMOVE (io_uring_prep_timeout(3),
// io_uring_prep_timeout_remove(3), io_uring_prep_timeout_update(3);
// io_uring/timeout.c __io_timeout_prep, io_timeout, io_timeout_fn,
// io_flush_timeouts, io_timeout_remove_prep, io_timeout_remove).
// Spec rules I21-I44.
#include <time.h>

#include <thread>

#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/control/control_util.h"

namespace ringcheck {
namespace {

using control::ExactlyThese;
using control::kMs;
using control::NowNs;
using control::Sqe;
using control::SubmitExpect;

constexpr long long kLong = 30;  // seconds: a timeout that must not fire during a test

class Timeout : public control::ControlTest {
 protected:
  void SetUp() override {
    ControlTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    REQUIRE_FEATURE("op_timeout");
  }
  io_uring_sqe* QueueTimeout(uint64_t ud, __kernel_timespec* ts, unsigned count, unsigned flags,
                             uint8_t sqe_flags = 0) {
    io_uring_sqe* sqe = Sqe(r(), ud, sqe_flags);
    io_uring_prep_timeout(sqe, ts, count, flags);
    sqe->user_data = ud;
    sqe->flags = sqe_flags;
    return sqe;
  }
  io_uring_sqe* QueueRemove(uint64_t ud, uint64_t target, unsigned flags = 0) {
    io_uring_sqe* sqe = Sqe(r(), ud);
    io_uring_prep_timeout_remove(sqe, target, flags);
    sqe->user_data = ud;
    return sqe;
  }
  io_uring_sqe* QueueUpdate(uint64_t ud, __kernel_timespec* ts, uint64_t target, unsigned flags) {
    io_uring_sqe* sqe = Sqe(r(), ud);
    io_uring_prep_timeout_update(sqe, ts, target, flags);
    sqe->user_data = ud;
    return sqe;
  }
  // Submits one timeout of `ms` with `flags` and checks it completes -ETIME
  // no earlier than `ms` after submission, within kOwed.
  void ExpectFiresAfter(__kernel_timespec* ts, unsigned flags, int64_t ms, const char* rule) {
    int64_t t0 = NowNs();
    QueueTimeout(1, ts, 0, flags);
    ASSERT_TRUE(SubmitExpect(r(), 1));
    auto got = ReapN(1);
    int64_t elapsed = NowNs() - t0;
    EXPECT_TRUE(ExactlyThese(got, {{1, -ETIME}})) << "rule " << rule;
    EXPECT_GE(elapsed, ms * kMs) << "the timeout fired early (rule " << rule << ")";
  }
  static __kernel_timespec Abs(clockid_t clock, int64_t plus_ms) {
    timespec now;
    clock_gettime(clock, &now);
    int64_t ns = static_cast<int64_t>(now.tv_sec) * 1000000000LL + now.tv_nsec + plus_ms * kMs;
    return {ns / 1000000000LL, ns % 1000000000LL};
  }
};

// I21: a relative timeout completes with -ETIME, not before its time.
TEST_P(Timeout, RelativeFiresWithEtimeNotEarly) {
  RINGCHECK_RULE("I21");
  __kernel_timespec ts = {0, 50 * kMs};
  ExpectFiresAfter(&ts, 0, 50, "I21");
}

// I21: a zero relative timeout fires at once with -ETIME.
TEST_P(Timeout, ZeroRelativeFiresAtOnce) {
  RINGCHECK_RULE("I21");
  __kernel_timespec ts = {0, 0};
  ExpectFiresAfter(&ts, 0, 0, "I21");
}

// I22: IORING_TIMEOUT_ABS takes an absolute CLOCK_MONOTONIC time.
TEST_P(Timeout, AbsoluteMonotonic) {
  RINGCHECK_RULE("I22");
  int64_t t0 = NowNs();
  __kernel_timespec ts = Abs(CLOCK_MONOTONIC, 50);
  QueueTimeout(1, &ts, 0, IORING_TIMEOUT_ABS);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  auto got = ReapN(1);
  EXPECT_TRUE(ExactlyThese(got, {{1, -ETIME}}));
  EXPECT_GE(NowNs() - t0, 50 * kMs) << "rule I22";
}

// I22: an absolute time in the past fires at once.
TEST_P(Timeout, AbsoluteInThePastFiresAtOnce) {
  RINGCHECK_RULE("I22");
  __kernel_timespec ts = Abs(CLOCK_MONOTONIC, -1000);
  QueueTimeout(1, &ts, 0, IORING_TIMEOUT_ABS);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -ETIME}}));
}

// I23: IORING_TIMEOUT_BOOTTIME measures on CLOCK_BOOTTIME, relative and
// absolute.
TEST_P(Timeout, BoottimeRelative) {
  RINGCHECK_RULE("I23");
  __kernel_timespec ts = {0, 40 * kMs};
  ExpectFiresAfter(&ts, IORING_TIMEOUT_BOOTTIME, 40, "I23");
}

TEST_P(Timeout, BoottimeAbsolute) {
  RINGCHECK_RULE("I23");
  int64_t t0 = NowNs();
  __kernel_timespec ts = Abs(CLOCK_BOOTTIME, 40);
  QueueTimeout(1, &ts, 0, IORING_TIMEOUT_ABS | IORING_TIMEOUT_BOOTTIME);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -ETIME}}));
  EXPECT_GE(NowNs() - t0, 40 * kMs) << "rule I23";
}

// I23: IORING_TIMEOUT_REALTIME measures on CLOCK_REALTIME.
TEST_P(Timeout, RealtimeAbsolute) {
  RINGCHECK_RULE("I23");
  int64_t t0 = NowNs();
  __kernel_timespec ts = Abs(CLOCK_REALTIME, 40);
  QueueTimeout(1, &ts, 0, IORING_TIMEOUT_ABS | IORING_TIMEOUT_REALTIME);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -ETIME}}));
  EXPECT_GE(NowNs() - t0, 40 * kMs) << "rule I23";
}

// I24: both clock flags at once are refused with -EINVAL.
TEST_P(Timeout, TwoClocksEinval) {
  RINGCHECK_RULE("I24");
  __kernel_timespec ts = {0, kMs};
  QueueTimeout(1, &ts, 0, IORING_TIMEOUT_BOOTTIME | IORING_TIMEOUT_REALTIME);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EINVAL}}));
}

// I25: prep checks: len other than 1, an unknown flag, a negative time are
// -EINVAL; an unreadable timespec is -EFAULT.
TEST_P(Timeout, LenOtherThanOneEinval) {
  RINGCHECK_RULE("I25");
  __kernel_timespec ts = {0, kMs};
  QueueTimeout(1, &ts, 0, 0)->len = 2;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EINVAL}}));
}

TEST_P(Timeout, UnknownFlagEinval) {
  RINGCHECK_RULE("I25");
  __kernel_timespec ts = {0, kMs};
  QueueTimeout(1, &ts, 0, 1U << 20);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EINVAL}}));
}

TEST_P(Timeout, NegativeTimeEinval) {
  RINGCHECK_RULE("I25");
  __kernel_timespec ts = {-1, 0};
  QueueTimeout(1, &ts, 0, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  // -EINVAL comes from prep, posted before io_uring_enter returns; a kernel
  // that takes the timeout posts nothing, which 2 s show well enough.
  EXPECT_TRUE(ExactlyThese(ReapN(1, std::chrono::seconds(2)), {{1, -EINVAL}}));
}

TEST_P(Timeout, UnreadableTimespecEfault) {
  RINGCHECK_RULE("I25");
  QueueTimeout(1, reinterpret_cast<__kernel_timespec*>(8), 0, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EFAULT}}));
}

// I26: a timeout with count `off` completes with 0 once `off` other CQEs
// were posted after it was queued, long before its time.
TEST_P(Timeout, CountCompletesWithZero) {
  RINGCHECK_RULE("I26");
  __kernel_timespec ts = {kLong, 0};
  QueueTimeout(1, &ts, 2, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  Sqe(r(), 2);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, 0}}));
  EXPECT_TRUE(Quiet()) << "the timeout completed after one of its two events (rule I26)";
  Sqe(r(), 3);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{3, 0}, {1, 0}}));
}

// I27: a count timeout whose time runs out first completes with -ETIME.
TEST_P(Timeout, CountNotReachedFiresEtime) {
  RINGCHECK_RULE("I27");
  __kernel_timespec ts = {0, 30 * kMs};
  int64_t t0 = NowNs();
  QueueTimeout(1, &ts, 5, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  Sqe(r(), 2);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{2, 0}, {1, -ETIME}}));
  EXPECT_GE(NowNs() - t0, 30 * kMs) << "rule I27";
}

// I28: CQEs of fired timeouts do not count towards another timeout's count.
TEST_P(Timeout, FiredTimeoutsDoNotCount) {
  RINGCHECK_RULE("I28");
  __kernel_timespec ts_short = {0, 10 * kMs};
  __kernel_timespec ts_long = {kLong, 0};
  QueueTimeout(1, &ts_long, 1, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  QueueTimeout(2, &ts_short, 0, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, -ETIME}}));
  EXPECT_TRUE(Quiet()) << "a fired timeout's CQE satisfied a count (rule I28)";
  Sqe(r(), 3);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{3, 0}, {1, 0}}));
}

// I29: a timeout that fires (-ETIME) fails its link chain: the next member
// is cancelled.
TEST_P(Timeout, FiredTimeoutBreaksItsChain) {
  RINGCHECK_RULE("I29");
  __kernel_timespec ts = {0, 5 * kMs};
  QueueTimeout(1, &ts, 0, 0, IOSQE_IO_LINK);
  Sqe(r(), 2);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, -ETIME}, {2, -ECANCELED}}));
}

// I30: with IORING_TIMEOUT_ETIME_SUCCESS the CQE still says -ETIME but the
// chain goes on.
TEST_P(Timeout, EtimeSuccessKeepsTheChain) {
  RINGCHECK_RULE("I30");
  REQUIRE_FEATURE("timeout_etime_success");
  __kernel_timespec ts = {0, 5 * kMs};
  QueueTimeout(1, &ts, 0, IORING_TIMEOUT_ETIME_SUCCESS, IOSQE_IO_LINK);
  Sqe(r(), 2);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  auto got = ReapAllN(2);
  EXPECT_TRUE(ExactlyThese(got, {{1, -ETIME}, {2, 0}}));
  EXPECT_TRUE(control::ArrivedInOrder(got, {1, 2}));
}

// I31: a timeout completed by its count (res 0) keeps its chain going.
TEST_P(Timeout, CountCompletionKeepsTheChain) {
  RINGCHECK_RULE("I31");
  __kernel_timespec ts = {kLong, 0};
  QueueTimeout(1, &ts, 1, 0, IOSQE_IO_LINK);
  Sqe(r(), 2);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  Sqe(r(), 3);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(3), {{3, 0}, {1, 0}, {2, 0}}));
}

// I32: IORING_TIMEOUT_MULTISHOT with a count posts that many -ETIME CQEs,
// each at least one period apart, all but the last with F_MORE.
TEST_P(Timeout, MultishotWithCountPostsThatMany) {
  RINGCHECK_RULE("I32");
  REQUIRE_FEATURE("timeout_multishot");
  __kernel_timespec ts = {0, 20 * kMs};
  int64_t t0 = NowNs();
  QueueTimeout(1, &ts, 3, IORING_TIMEOUT_MULTISHOT);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  auto got = ReapAllN(3);
  int64_t elapsed = NowNs() - t0;
  ASSERT_EQ(got.size(), 3u) << control::Describe(got);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_RESULT(got[i].res, -ETIME, "I32");
    EXPECT_EQ((got[i].flags & IORING_CQE_F_MORE) != 0, i < 2) << control::Describe(got);
  }
  EXPECT_GE(elapsed, 60 * kMs) << "rule I32";
}

// I33: a MULTISHOT timeout without a count repeats until removed; the
// removal ends it with -ECANCELED and no F_MORE. A removal issued while a
// shot is between expiry and re-arm is -ENOENT and leaves it running.
TEST_P(Timeout, MultishotWithoutCountRepeatsUntilRemoved) {
  RINGCHECK_RULE("I33");
  REQUIRE_FEATURE("timeout_multishot");
  // 50 ms between shots: a removal mostly lands while the timer waits (a
  // 10 ms period let every one of 20 removals meet a shot in flight on an
  // overloaded 7.2 guest).
  __kernel_timespec ts = {0, 50 * kMs};
  QueueTimeout(1, &ts, 0, IORING_TIMEOUT_MULTISHOT);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  auto shots = ReapN(3);
  ASSERT_EQ(shots.size(), 3u);
  for (const Cqe& c : shots) {
    EXPECT_RESULT(c.res, -ETIME, "I33");
    EXPECT_NE(c.flags & IORING_CQE_F_MORE, 0u) << control::Describe(c);
  }
  // A removal that lands while a shot is being posted (between expiry and
  // re-arm) finds nothing (-ENOENT), and one that lands while the timer's
  // expiry runs gets -EALREADY (I36); either way the timeout repeats on:
  // try again.
  std::vector<Cqe> rest;
  bool removed = false;
  for (int attempt = 0; attempt < 20 && !removed; ++attempt) {
    QueueRemove(2, 1);
    ASSERT_TRUE(SubmitExpect(r(), 1));
    std::vector<Cqe> got;
    const auto until = std::chrono::steady_clock::now() + control::kOwed;
    while (control::WithUserData(got, 2).empty()) {
      auto more = ReapN(1);
      ASSERT_FALSE(more.empty()) << "the removal never completed";
      got.insert(got.end(), more.begin(), more.end());
      ASSERT_LT(std::chrono::steady_clock::now(), until)
          << "no CQE for the removal while the timeout kept firing (rule I33): " << control::Describe(got.back());
    }
    rest.insert(rest.end(), got.begin(), got.end());
    int32_t res = control::WithUserData(got, 2)[0].res;
    if (res == -ENOENT || res == -EALREADY) continue;
    EXPECT_RESULT(res, 0, "I33");
    removed = true;
  }
  ASSERT_TRUE(removed) << "rule I33: " << control::Describe(rest);
  auto tail = ReapAllN(0);
  rest.insert(rest.end(), tail.begin(), tail.end());
  auto mine = control::WithUserData(rest, 1);
  ASSERT_FALSE(mine.empty());
  EXPECT_RESULT(mine.back().res, -ECANCELED, "I33");
  EXPECT_EQ(mine.back().flags & IORING_CQE_F_MORE, 0u);
}

// I34: MULTISHOT with ABS is refused with -EINVAL.
TEST_P(Timeout, MultishotAbsoluteEinval) {
  RINGCHECK_RULE("I34");
  REQUIRE_FEATURE("timeout_multishot");
  __kernel_timespec ts = Abs(CLOCK_MONOTONIC, 1000);
  QueueTimeout(1, &ts, 0, IORING_TIMEOUT_MULTISHOT | IORING_TIMEOUT_ABS);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EINVAL}}));
}

// I35: TIMEOUT_REMOVE of a pending timeout: the removal completes 0 and the
// timeout -ECANCELED.
TEST_P(Timeout, RemovePendingCancelsIt) {
  RINGCHECK_RULE("I35");
  REQUIRE_FEATURE("op_timeout_remove");
  __kernel_timespec ts = {kLong, 0};
  QueueTimeout(1, &ts, 0, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  QueueRemove(2, 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, -ECANCELED}, {2, 0}}));
}

// I36: TIMEOUT_REMOVE of a user_data no pending timeout has is -ENOENT, and
// so is removing one that already fired.
TEST_P(Timeout, RemoveUnknownEnoent) {
  RINGCHECK_RULE("I36");
  REQUIRE_FEATURE("op_timeout_remove");
  QueueRemove(2, 0x5151);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, -ENOENT}}));
}

TEST_P(Timeout, RemoveFiredEnoent) {
  RINGCHECK_RULE("I36");
  REQUIRE_FEATURE("op_timeout_remove");
  __kernel_timespec ts = {0, kMs};
  QueueTimeout(1, &ts, 0, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -ETIME}}));
  QueueRemove(2, 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, -ENOENT}}));
}

// I37: TIMEOUT_REMOVE takes no flags but the update ones: -EINVAL.
TEST_P(Timeout, RemoveWithFlagsEinval) {
  RINGCHECK_RULE("I37");
  REQUIRE_FEATURE("op_timeout_remove");
  QueueRemove(2, 1, IORING_TIMEOUT_ABS);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, -EINVAL}}));
}

// I38: IORING_TIMEOUT_UPDATE re-arms a pending timeout with the new time:
// lengthened, it does not fire before the new time.
TEST_P(Timeout, UpdateLengthens) {
  RINGCHECK_RULE("I38");
  REQUIRE_FEATURE("op_timeout_remove");
  // 100 ms leave the update time to arrive on a loaded machine; if it still
  // comes late, the timeout has fired (its CQE may follow the update's
  // -ENOENT) and there is nothing to check. The timer is armed after
  // `armed`, so it cannot fire before armed + 100 ms; t0 (taken after the
  // submit returned) can be late by however long this thread was not
  // scheduled, and an -ENOENT 74 ms after it was once a timeout that had
  // fired in time (an SQPOLL ring at a load of 14 on 2 cores).
  __kernel_timespec ts = {0, 100 * kMs};
  __kernel_timespec longer = {0, 300 * kMs};
  QueueTimeout(1, &ts, 0, 0);
  const int64_t armed = NowNs();
  ASSERT_TRUE(SubmitExpect(r(), 1));
  int64_t t0 = NowNs();
  QueueUpdate(2, &longer, 1, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  auto first = ReapN(1);
  ASSERT_EQ(first.size(), 1u);
  if (first[0].user_data == 1 || (first[0].res == -ENOENT && NowNs() - armed >= 100 * kMs)) {
    GTEST_SKIP() << "environment:slow (the timeout fired before the update was issued)";
  }
  EXPECT_TRUE(ExactlyThese(first, {{2, 0}}));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -ETIME}}));
  EXPECT_GE(NowNs() - t0, 300 * kMs) << "rule I38";
}

// I38: shortened, a long timeout fires soon.
TEST_P(Timeout, UpdateShortens) {
  RINGCHECK_RULE("I38");
  REQUIRE_FEATURE("op_timeout_remove");
  __kernel_timespec ts = {kLong, 0};
  __kernel_timespec shorter = {0, 10 * kMs};
  QueueTimeout(1, &ts, 0, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  QueueUpdate(2, &shorter, 1, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{2, 0}, {1, -ETIME}}));
}

// I38: the update takes IORING_TIMEOUT_ABS.
TEST_P(Timeout, UpdateAbsolute) {
  RINGCHECK_RULE("I38");
  REQUIRE_FEATURE("op_timeout_remove");
  __kernel_timespec ts = {kLong, 0};
  QueueTimeout(1, &ts, 0, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  __kernel_timespec when = Abs(CLOCK_MONOTONIC, 30);
  int64_t t0 = NowNs();
  QueueUpdate(2, &when, 1, IORING_TIMEOUT_ABS);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{2, 0}, {1, -ETIME}}));
  EXPECT_GE(NowNs() - t0, 25 * kMs) << "rule I38";
}

// I39: updating a user_data no pending timeout has is -ENOENT.
TEST_P(Timeout, UpdateUnknownEnoent) {
  RINGCHECK_RULE("I39");
  REQUIRE_FEATURE("op_timeout_remove");
  __kernel_timespec ts = {0, kMs};
  QueueUpdate(2, &ts, 0x5151, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, -ENOENT}}));
}

// I40: an update turns a count timeout into a pure timer: CQEs no longer
// complete it.
TEST_P(Timeout, UpdateDropsTheCount) {
  RINGCHECK_RULE("I40");
  REQUIRE_FEATURE("op_timeout_remove");
  __kernel_timespec ts = {kLong, 0};
  __kernel_timespec still_long = {kLong, 0};
  QueueTimeout(1, &ts, 2, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  QueueUpdate(2, &still_long, 1, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  Sqe(r(), 3);
  Sqe(r(), 4);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  EXPECT_TRUE(ExactlyThese(ReapAllN(3), {{2, 0}, {3, 0}, {4, 0}}))
      << "the updated timeout still completed by count (rule I40)";
  QueueRemove(5, 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{5, 0}, {1, -ECANCELED}}));
}

// I41: TIMEOUT_REMOVE does not find linked timeouts: -ENOENT, and the linked
// timeout keeps guarding its request.
TEST_P(Timeout, RemoveDoesNotFindLinkedTimeouts) {
  RINGCHECK_RULE("I41");
  REQUIRE_FEATURE("op_timeout_remove");
  REQUIRE_FEATURE("op_link_timeout");
  control::Pipe p = control::Pipe::Make();
  char buf[4];
  io_uring_sqe* rd = Sqe(r(), 1, IOSQE_IO_LINK);
  io_uring_prep_read(rd, p.r.get(), buf, sizeof buf, 0);
  rd->user_data = 1;
  rd->flags = IOSQE_IO_LINK;
  __kernel_timespec ts = {kLong, 0};
  io_uring_sqe* lt = Sqe(r(), 2);
  io_uring_prep_link_timeout(lt, &ts, 0);
  lt->user_data = 2;
  ASSERT_TRUE(SubmitExpect(r(), 2));
  QueueRemove(3, 2);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{3, -ENOENT}}));
  p.Put("abcd");
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, 4}, {2, -ECANCELED}}));
}

// I42: a pending timeout holds no CQ slot: with a timeout pending for the
// whole test, other requests complete normally and the timeout can still be
// removed afterwards.
TEST_P(Timeout, PendingTimeoutDoesNotBlockOthers) {
  RINGCHECK_RULE("I42");
  REQUIRE_FEATURE("op_timeout_remove");
  __kernel_timespec ts = {kLong, 0};
  QueueTimeout(1, &ts, 0, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  for (uint64_t ud = 2; ud < 6; ++ud) Sqe(r(), ud);
  ASSERT_TRUE(SubmitExpect(r(), 4));
  EXPECT_TRUE(ExactlyThese(ReapAllN(4), {{2, 0}, {3, 0}, {4, 0}, {5, 0}}));
  QueueRemove(6, 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{6, 0}, {1, -ECANCELED}}));
}

RINGCHECK_INSTANTIATE_DELIVERY_RINGS(Timeout);

// I129: a timeout that fires while the CQ is full is not lost: its -ETIME
// waits in the overflow backlog behind the CQEs that filled the CQ, and it
// did not fire before its time.
TEST(TimeoutOverflow, FiredTimeoutWaitsInBacklog) {
  RINGCHECK_RULE("I129");
  REQUIRE_FEATURE("op_timeout");
  REQUIRE_FEATURE("feat_nodrop");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  const unsigned cq = ring->params().cq_entries;
  for (unsigned i = 0; i < cq; ++i) Sqe(*ring, 1000 + i);
  ASSERT_GE(ring->Submit(), 0);
  __kernel_timespec ts = {0, 20 * kMs};
  int64_t t0 = NowNs();
  io_uring_sqe* t = Sqe(*ring, 1);
  io_uring_prep_timeout(t, &ts, 0, 0);
  t->user_data = 1;
  ASSERT_GE(ring->Submit(), 0);
  // Wait (bounded) for the timeout to fire into the full CQ.
  const auto deadline = std::chrono::steady_clock::now() + control::kOwed;
  while (!(IO_URING_READ_ONCE(*ring->get()->sq.kflags) & IORING_SQ_CQ_OVERFLOW) &&
         std::chrono::steady_clock::now() < deadline) {
    io_uring_get_events(ring->get());  // runs task work; the flag is the event awaited
    std::this_thread::yield();
  }
  auto got = control::ReapAllChecked(*ring, cq + 1);
  ASSERT_EQ(got.size(), cq + 1) << control::Describe(got);
  EXPECT_EQ(got.back().user_data, 1u) << "rule I129";
  EXPECT_RESULT(got.back().res, -ETIME, "I129");
  EXPECT_GE(NowNs() - t0, 20 * kMs) << "rule I129";
}

}  // namespace
}  // namespace ringcheck
