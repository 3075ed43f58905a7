// IORING_REGISTER_EVENTFD, EVENTFD_ASYNC and UNREGISTER_EVENTFD
// (io_uring_register(2), io_uring_register_eventfd(3); kernel eventfd.c
// io_eventfd_register, io_eventfd_signal, io_eventfd_trigger,
// io_eventfd_unregister).
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "harness/configs.h"
#include "harness/fd.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/register/register_util.h"

namespace ringcheck {
namespace {

// The eventfd's counter once it is signalled, waiting up to 5 s: the signal
// can follow the CQE (io_eventfd_signal defers it to an RCU callback where
// it may not signal at the point of posting; an SQPOLL or io-wq completion
// signals from another thread). 0 when nothing came.
uint64_t AwaitEventfd(int fd) {
  pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, 5000) != 1) return 0;
  return ReadEventfd(fd);
}

class Eventfd : public RingTest {
 protected:
  void SetUp() override {
    RingTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    efd_ = UniqueFd(eventfd(0, EFD_CLOEXEC));
    ASSERT_TRUE(efd_.valid());
  }
  int efd() { return efd_.get(); }
  UniqueFd efd_;
};

// J34: nr_args must be 1; an fd that is not an eventfd is refused; a second
// eventfd is -EBUSY.
TEST_P(Eventfd, ArgumentsAreValidated) {
  RINGCHECK_RULE("J34");
  int fd = efd();
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_EVENTFD, &fd, 0), -EINVAL, "J34: nr 0");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_EVENTFD, &fd, 2), -EINVAL, "J34: nr 2");
  int bad = -1;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_EVENTFD, &bad, 1), -EBADF, "J34: fd -1");
  Pipe p;
  int not_eventfd = p.read_fd;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_EVENTFD, &not_eventfd, 1), -EINVAL,
                "J34: a pipe");
}

TEST_P(Eventfd, SecondEventfdIsBusy) {
  RINGCHECK_RULE("J34");
  int fd = efd();
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_EVENTFD, &fd, 1), 0, "J34");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_EVENTFD, &fd, 1), -EBUSY, "J34");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_EVENTFD_ASYNC, &fd, 1), -EBUSY,
                "J34: the async kind too");
}

// J35: completions signal the eventfd: after N CQEs its counter is between
// 1 (one signal per batch) and N (one per CQE).
TEST_P(Eventfd, CompletionsSignal) {
  RINGCHECK_RULE("J35");
  int fd = efd();
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_EVENTFD, &fd, 1), 0, "J35");
  ASSERT_EQ(SubmitNops(ring(), 4), 4);
  ASSERT_EQ(ring().Reap(4).size(), 4u);
  uint64_t count = AwaitEventfd(efd());
  EXPECT_GE(count, 1u) << "J35: no signal after 4 CQEs";
  EXPECT_LE(count, 4u) << "J35: more signals than CQEs";
}

// J35: no completion, no signal.
TEST_P(Eventfd, NoCompletionNoSignal) {
  RINGCHECK_RULE("J35");
  int fd = efd();
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_EVENTFD, &fd, 1), 0, "J35");
  ring().Drain();
  EXPECT_EQ(ReadEventfd(efd()), 0u) << "J35";
}

// J37: IORING_CQ_EVENTFD_DISABLED in the CQ ring flags stops the signals;
// clearing it brings them back.
TEST_P(Eventfd, CqFlagDisablesSignals) {
  RINGCHECK_RULE("J37");
  int fd = efd();
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_EVENTFD, &fd, 1), 0, "J37");
  ASSERT_NE(ring().get()->cq.kflags, nullptr);
  __atomic_fetch_or(ring().get()->cq.kflags, IORING_CQ_EVENTFD_DISABLED, __ATOMIC_RELEASE);
  ASSERT_EQ(SubmitNops(ring(), 2), 2);
  ASSERT_EQ(ring().Reap(2).size(), 2u);
  EXPECT_EQ(ReadEventfd(efd()), 0u) << "J37: signalled while disabled";
  __atomic_fetch_and(ring().get()->cq.kflags, ~IORING_CQ_EVENTFD_DISABLED, __ATOMIC_RELEASE);
  ASSERT_EQ(SubmitNops(ring(), 1, 10), 1);
  ASSERT_EQ(ring().Reap(1).size(), 1u);
  EXPECT_GE(AwaitEventfd(efd()), 1u) << "J37: no signal after enabling again";
}

// J38: unregistering stops signals; without one it is -ENXIO; arguments
// are -EINVAL.
TEST_P(Eventfd, UnregisterStopsSignals) {
  RINGCHECK_RULE("J38");
  int fd = efd();
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_EVENTFD, &fd, 1), 0, "J38");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_EVENTFD, &fd, 0), -EINVAL, "J38: arg");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_EVENTFD, nullptr, 1), -EINVAL,
                "J38: nr_args");
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_EVENTFD, nullptr, 0), 0, "J38");
  ASSERT_EQ(SubmitNops(ring(), 2), 2);
  ASSERT_EQ(ring().Reap(2).size(), 2u);
  EXPECT_EQ(ReadEventfd(efd()), 0u) << "J38: signalled after unregistering";
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_EVENTFD, nullptr, 0), -ENXIO, "J38");
}

INSTANTIATE_TEST_SUITE_P(Rings, Eventfd,
                         ::testing::Values(ConfigNamed("default"), ConfigNamed("sqpoll"),
                                           ConfigNamed("coop_taskrun"),
                                           ConfigNamed("defer_taskrun_single_issuer")),
                         ConfigParamName);

// J36: EVENTFD_ASYNC signals only for completions posted from io-wq: an
// inline NOP does not signal, a NOP forced to io-wq (IOSQE_ASYNC) does.
TEST(EventfdAsync, OnlyAsyncCompletionsSignal) {
  RINGCHECK_RULE("J36");
  REQUIRE_FEATURE("register_eventfd_async");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  UniqueFd efd(eventfd(0, EFD_CLOEXEC));
  int fd = efd.get();
  ASSERT_RESULT(RegisterRaw(ring->fd(), IORING_REGISTER_EVENTFD_ASYNC, &fd, 1), 0, "J36");
  ASSERT_EQ(SubmitNops(*ring, 1), 1);
  ASSERT_EQ(ring->Reap(1).size(), 1u);
  EXPECT_EQ(ReadEventfd(fd), 0u) << "J36: an inline completion signalled";
  SubmitOne(*ring, [](io_uring_sqe* sqe) {
    io_uring_prep_nop(sqe);
    sqe->flags |= IOSQE_ASYNC;
  });
  ASSERT_EQ(ring->Reap(1).size(), 1u);
  EXPECT_GE(AwaitEventfd(fd), 1u) << "J36: an io-wq completion did not signal";
}

}  // namespace
}  // namespace ringcheck
