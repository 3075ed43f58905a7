// io_uring_enter(2): GETEVENTS and min_complete, the extended argument
// (timeout, signal mask, min_wait_usec), ABS_TIMER, flag and fd validation,
// to_submit and the SQ array (kernel io_uring.c io_uring_enter,
// io_get_ext_arg, io_cqring_wait, io_submit_sqes, io_get_sqe).
#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>
#include <sys/timerfd.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "harness/configs.h"
#include "harness/fd.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/enter/enter_util.h"
#include "suites/register/register_util.h"

namespace ringcheck {
namespace {

constexpr size_t kSigsetSize = _NSIG / 8;

long WaitExt(Ring& ring, unsigned min_complete, int64_t timeout_ns, unsigned extra_flags = 0,
             const sigset_t* mask = nullptr, unsigned min_wait_usec = 0) {
  __kernel_timespec ts = {timeout_ns / 1000000000, timeout_ns % 1000000000};
  io_uring_getevents_arg arg = {};
  arg.ts = timeout_ns >= 0 ? reinterpret_cast<uintptr_t>(&ts) : 0;
  arg.sigmask = reinterpret_cast<uintptr_t>(mask);
  arg.sigmask_sz = mask != nullptr ? kSigsetSize : 0;
  arg.min_wait_usec = min_wait_usec;
  return EnterRaw(ring.fd(), 0, min_complete,
                  IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG | extra_flags, &arg, sizeof(arg));
}

void SubmitTimeout(Ring& ring, int64_t ms, uint64_t user_data) {
  static thread_local __kernel_timespec ts[8];
  static thread_local unsigned next = 0;
  __kernel_timespec* t = &ts[next++ % 8];
  t->tv_sec = ms / 1000;
  t->tv_nsec = (ms % 1000) * 1000000;
  io_uring_sqe* sqe = ring.NextSqe();
  io_uring_prep_timeout(sqe, t, 0, 0);
  sqe->user_data = user_data;
}

class Enter : public RingTest {};

// J90: a flag io_uring_enter does not know is -EINVAL.
TEST_P(Enter, UnknownFlagIsInvalid) {
  RINGCHECK_RULE("J90");
  EXPECT_RESULT(EnterRaw(ring().fd(), 0, 0, 1u << 31, nullptr, 0), -EINVAL, "J90: bit 31");
  EXPECT_RESULT(EnterRaw(ring().fd(), 0, 0, 1u << 20, nullptr, 0), -EINVAL, "J90: bit 20");
}

// J92: with GETEVENTS the call returns once min_complete CQEs are there:
// a NOP completes at once, a poll on a timerfd armed for 100 ms later; the
// wait for two ends with the second.
TEST_P(Enter, WaitsForMinComplete) {
  RINGCHECK_RULE("J92");
  REQUIRE_FEATURE("op_poll_add");
  UniqueFd tfd(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
  ASSERT_TRUE(tfd.valid());
  itimerspec its = {};
  its.it_value.tv_nsec = 100'000'000;
  io_uring_sqe* sqe = ring().NextSqe();
  io_uring_prep_poll_add(sqe, tfd.get(), POLLIN);
  sqe->user_data = 1;
  sqe = ring().NextSqe();
  io_uring_prep_nop(sqe);
  sqe->user_data = 2;
  int64_t t0 = MonotonicNs();
  ASSERT_EQ(timerfd_settime(tfd.get(), 0, &its, nullptr), 0);
  ASSERT_GE(ring().Submit(), 2);  // SQPOLL: liburing also counts earlier SQEs not yet consumed
  long ret = 0;
  if (Supported("feat_ext_arg")) {
    ret = WaitExt(ring(), 2, 10'000'000'000);
  } else {
    ret = EnterRaw(ring().fd(), 0, 2, IORING_ENTER_GETEVENTS, nullptr, 0);
  }
  EXPECT_RESULT(ret, 0, "J92");
  EXPECT_GE(ElapsedMs(t0), 85) << "J92: returned before the second CQE";
  EXPECT_EQ(ring().Drain().size(), 2u) << "J92";
}

// J117: a TIMEOUT request completing ends a GETEVENTS wait even when fewer
// than min_complete CQEs are there (io_should_wake counts cq_timeouts).
TEST_P(Enter, TimeoutCompletionEndsTheWaitEarly) {
  RINGCHECK_RULE("J117");
  REQUIRE_FEATURE("op_timeout");
  // The wait counts timeouts that complete while it waits (it samples
  // cq_timeouts when it starts): the first one must not have fired yet when
  // it starts, which 200 ms leave time for even on a loaded guest.
  SubmitTimeout(ring(), 200, 1);
  SubmitTimeout(ring(), 3000, 2);
  int64_t t0 = MonotonicNs();
  ASSERT_GE(ring().Submit(), 2);  // SQPOLL: liburing also counts earlier SQEs not yet consumed
  if (ElapsedMs(t0) >= 150) GTEST_SKIP() << "environment:slow (the wait would start after the first timeout fired)";
  long ret = 0;
  if (Supported("feat_ext_arg")) {
    ret = WaitExt(ring(), 2, 10'000'000'000);
  } else {
    ret = EnterRaw(ring().fd(), 0, 2, IORING_ENTER_GETEVENTS, nullptr, 0);
  }
  EXPECT_RESULT(ret, 0, "J117");
  EXPECT_LT(ElapsedMs(t0), 2500) << "J117: waited for the second timeout";
  // The wait ends when the timer fires (cq_timeouts); on SQPOLL rings the
  // CQE itself is posted by the SQ thread a little later.
  std::vector<Cqe> got = ring().Reap(1, std::chrono::milliseconds(2000));
  ASSERT_EQ(got.size(), 1u) << "J117";
  EXPECT_EQ(got[0].user_data, 1u);
  EXPECT_RESULT(got[0].res, -ETIME, "J117");
}

// J107: CQEs already there end the wait at once.
TEST_P(Enter, ReadyCompletionsReturnAtOnce) {
  RINGCHECK_RULE("J107");
  ASSERT_EQ(SubmitNops(ring(), 2), 2);
  ASSERT_EQ(ring().Reap(2, std::chrono::seconds(5)).size(), 2u);
  ASSERT_EQ(SubmitNops(ring(), 2, 10), 2);
  int64_t t0 = MonotonicNs();
  EXPECT_RESULT(EnterRaw(ring().fd(), 0, 2, IORING_ENTER_GETEVENTS, nullptr, 0), 0, "J107");
  EXPECT_LT(ElapsedMs(t0), 2000) << "J107";
  EXPECT_EQ(ring().Drain().size(), 2u);
}

// J97: an EXT_ARG timeout ends a wait with nothing to reap with -ETIME.
TEST_P(Enter, ExtArgTimeoutIsEtime) {
  RINGCHECK_RULE("J97");
  REQUIRE_FEATURE("feat_ext_arg");
  int64_t t0 = MonotonicNs();
  EXPECT_RESULT(WaitExt(ring(), 1, 60'000'000), -ETIME, "J97");
  double ms = ElapsedMs(t0);
  EXPECT_GE(ms, 45) << "J97: early";
  EXPECT_LT(ms, 3000) << "J97: late";
}

// J96: EXT_ARG wants argsz == sizeof(struct io_uring_getevents_arg).
TEST_P(Enter, ExtArgSizeIsChecked) {
  RINGCHECK_RULE("J96");
  REQUIRE_FEATURE("feat_ext_arg");
  io_uring_getevents_arg arg = {};
  EXPECT_RESULT(EnterRaw(ring().fd(), 0, 0, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg,
                         sizeof(arg) - 8),
                -EINVAL, "J96: argsz - 8");
  EXPECT_RESULT(EnterRaw(ring().fd(), 0, 0, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg,
                         sizeof(arg) + 8),
                -EINVAL, "J96: argsz + 8");
}

// J101: ABS_TIMER makes the EXT_ARG timeout an absolute CLOCK_MONOTONIC
// time: a deadline in the past ends the wait at once, one 100 ms ahead
// after about 100 ms.
TEST_P(Enter, AbsoluteTimerEndsAtTheDeadline) {
  RINGCHECK_RULE("J101");
  REQUIRE_FEATURE("enter_abs_timer");
  EXPECT_RESULT(WaitExt(ring(), 1, 1, IORING_ENTER_ABS_TIMER), -ETIME, "J101: in the past");
  int64_t t0 = MonotonicNs();
  EXPECT_RESULT(WaitExt(ring(), 1, t0 + 100'000'000, IORING_ENTER_ABS_TIMER), -ETIME, "J101");
  double ms = ElapsedMs(t0);
  EXPECT_GE(ms, 85) << "J101: early";
  EXPECT_LT(ms, 3000) << "J101: late";
}

// J121: IORING_ENTER_NO_IOWAIT changes only how the wait is accounted: the
// wait ends as it would without it.
TEST_P(Enter, NoIowaitWaitsTheSame) {
  RINGCHECK_RULE("J121");
  REQUIRE_FEATURE("feat_no_iowait");
  constexpr unsigned kNoIowait = 1u << 7;  // IORING_ENTER_NO_IOWAIT
  int64_t t0 = MonotonicNs();
  EXPECT_RESULT(WaitExt(ring(), 1, 50'000'000, kNoIowait), -ETIME, "J121: timeout");
  EXPECT_GE(ElapsedMs(t0), 40) << "J121: early";
  ASSERT_EQ(SubmitNops(ring(), 1), 1);
  EXPECT_RESULT(WaitExt(ring(), 1, 5'000'000'000, kNoIowait), 0, "J121: a completion");
  EXPECT_EQ(ring().Drain().size(), 1u);
}

// J100: min_wait_usec: once it has passed, one CQE is enough to end the
// wait, though min_complete is larger.
TEST_P(Enter, MinWaitEndsWithOneCompletion) {
  RINGCHECK_RULE("J100");
  REQUIRE_FEATURE("feat_min_timeout");
  REQUIRE_FEATURE("op_poll_add");
  // A poll on a timerfd, not a TIMEOUT request: those end waits early (J117).
  UniqueFd tfd(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
  ASSERT_TRUE(tfd.valid());
  itimerspec its = {};
  its.it_value.tv_nsec = 20'000'000;
  io_uring_sqe* sqe = ring().NextSqe();
  io_uring_prep_poll_add(sqe, tfd.get(), POLLIN);
  sqe->user_data = 1;
  ASSERT_GE(ring().Submit(), 1);  // SQPOLL: liburing also counts earlier SQEs not yet consumed
  int64_t t0 = MonotonicNs();
  ASSERT_EQ(timerfd_settime(tfd.get(), 0, &its, nullptr), 0);
  long ret = WaitExt(ring(), 4, 5'000'000'000, 0, nullptr, 80'000);
  double ms = ElapsedMs(t0);
  EXPECT_TRUE(ret == 0 || ret == -ETIME) << "J100: " << ResultName(ret);
  EXPECT_GE(ms, 60) << "J100: returned before min_wait";
  EXPECT_LT(ms, 4000) << "J100: waited for the full timeout";
  EXPECT_EQ(ring().Drain().size(), 1u);
}

// J100: without any CQE, min_wait does not end the wait; the timeout does.
TEST_P(Enter, MinWaitWithoutCompletionsWaitsForTheTimeout) {
  RINGCHECK_RULE("J100");
  REQUIRE_FEATURE("feat_min_timeout");
  int64_t t0 = MonotonicNs();
  EXPECT_RESULT(WaitExt(ring(), 1, 200'000'000, 0, nullptr, 20'000), -ETIME, "J100");
  EXPECT_GE(ElapsedMs(t0), 170) << "J100: min_wait ended the wait without a CQE";
}

// J98: the EXT_ARG signal mask applies during the wait: a pending signal it
// unblocks interrupts the wait with -EINTR; the caller's mask comes back.
volatile sig_atomic_t g_caught = 0;
void OnSignal(int) { g_caught = 1; }

class SignalGuard {
 public:
  SignalGuard() {
    struct sigaction sa = {};
    sa.sa_handler = OnSignal;
    sigaction(SIGUSR1, &sa, &old_action_);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &block, &old_mask_);
    g_caught = 0;
  }
  ~SignalGuard() {
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, SIGUSR1);
    timespec zero = {0, 0};
    while (sigtimedwait(&only, nullptr, &zero) == SIGUSR1) {
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    sigaction(SIGUSR1, &old_action_, nullptr);
  }
  static void RaiseHere() { syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1); }
  static bool Blocked() {
    sigset_t now;
    pthread_sigmask(SIG_SETMASK, nullptr, &now);
    return sigismember(&now, SIGUSR1);
  }

 private:
  struct sigaction old_action_ = {};
  sigset_t old_mask_;
};

TEST_P(Enter, ExtArgSigmaskLetsASignalInterrupt) {
  RINGCHECK_RULE("J98");
  REQUIRE_FEATURE("feat_ext_arg");
  SignalGuard guard;
  SignalGuard::RaiseHere();
  sigset_t open;
  sigemptyset(&open);
  EXPECT_RESULT(WaitExt(ring(), 1, 5'000'000'000, 0, &open), -EINTR, "J98");
  EXPECT_EQ(g_caught, 1) << "J98: the handler did not run";
  EXPECT_TRUE(SignalGuard::Blocked()) << "J98: the caller's mask was not restored";
}

TEST_P(Enter, ExtArgSigmaskKeepsABlockedSignalOut) {
  RINGCHECK_RULE("J98");
  REQUIRE_FEATURE("feat_ext_arg");
  SignalGuard guard;
  SignalGuard::RaiseHere();
  sigset_t closed;
  sigemptyset(&closed);
  sigaddset(&closed, SIGUSR1);
  EXPECT_RESULT(WaitExt(ring(), 1, 50'000'000, 0, &closed), -ETIME, "J98");
  EXPECT_EQ(g_caught, 0) << "J98";
}

// J99: without EXT_ARG the argument is a signal mask of _NSIG/8 bytes.
TEST_P(Enter, PlainSigmaskLetsASignalInterrupt) {
  RINGCHECK_RULE("J99");
  SignalGuard guard;
  SignalGuard::RaiseHere();
  sigset_t open;
  sigemptyset(&open);
  EXPECT_RESULT(EnterRaw(ring().fd(), 0, 1, IORING_ENTER_GETEVENTS, &open, kSigsetSize + 8),
                -EINVAL, "J99: sigsetsize");
  // This form has no timeout: a TIMEOUT request bounds the wait (J117) in
  // case the signal does not interrupt it.
  SubmitTimeout(ring(), 5000, 99);
  ASSERT_GE(ring().Submit(), 1);  // SQPOLL: liburing also counts earlier SQEs not yet consumed
  EXPECT_RESULT(EnterRaw(ring().fd(), 0, 1, IORING_ENTER_GETEVENTS, &open, kSigsetSize), -EINTR,
                "J99");
  EXPECT_EQ(g_caught, 1) << "J99";
}

INSTANTIATE_TEST_SUITE_P(Rings, Enter, ::testing::ValuesIn(WaitableRingConfigs()),
                         ConfigParamName);

// J91: the fd must be an io_uring: -EBADF for a closed fd, -EOPNOTSUPP for
// another file.
TEST(EnterFd, FdMustBeARing) {
  RINGCHECK_RULE("J91");
  Pipe p;
  EXPECT_RESULT(EnterRaw(p.read_fd, 0, 0, 0, nullptr, 0), -EOPNOTSUPP, "J91: a pipe");
  int closed = dup(p.read_fd);
  close(closed);
  EXPECT_RESULT(EnterRaw(closed, 0, 0, 0, nullptr, 0), -EBADF, "J91: closed");
}

}  // namespace
}  // namespace ringcheck
