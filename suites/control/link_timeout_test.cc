// IORING_OP_LINK_TIMEOUT (io_uring_prep_link_timeout(3); io_uring/timeout.c
// __io_timeout_prep, io_link_timeout_fn, io_req_task_link_timeout,
// io_disarm_next, io_linked_timeout_update). Spec rules I43-I57. The CQEs
// of both the guarded request and the timeout are checked, over every kind
// of request a linked timeout can guard here.
#include <linux/futex.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>

#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/net.h"
#include "suites/control/control_util.h"

namespace ringcheck {
namespace {

using control::ExactlyThese;
using control::kMs;
using control::NowNs;
using control::Pipe;
using control::Sqe;
using control::SubmitExpect;

constexpr uint8_t kLink = IOSQE_IO_LINK;

class LinkTimeout : public control::ControlTest {
 protected:
  void SetUp() override {
    ControlTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    REQUIRE_FEATURE("op_link_timeout");
    pipe_ = Pipe::Make();
  }
  io_uring_sqe* QueueLt(uint64_t ud, int64_t ms, uint8_t flags = 0, unsigned tflags = 0) {
    ts_ = {ms / 1000, (ms % 1000) * kMs};
    io_uring_sqe* sqe = Sqe(r(), ud, flags);
    io_uring_prep_link_timeout(sqe, &ts_, tflags);
    sqe->user_data = ud;
    sqe->flags = flags;
    return sqe;
  }
  io_uring_sqe* QueuePipeRead(uint64_t ud, uint8_t flags) {
    io_uring_sqe* sqe = Sqe(r(), ud, flags);
    io_uring_prep_read(sqe, pipe_.r.get(), buf_, sizeof buf_, 0);
    sqe->user_data = ud;
    sqe->flags = flags;
    return sqe;
  }
  // Submits the two queued SQEs (request, timeout of `ms`) and expects the
  // timeout to fire: request -ECANCELED, timeout -ETIME, not before `ms`.
  void ExpectFires(int64_t t0, int64_t ms, const char* rule, int32_t timeout_res = -ETIME) {
    ASSERT_TRUE(SubmitExpect(r(), 2));
    auto got = ReapAllN(2);
    EXPECT_TRUE(ExactlyThese(got, {{1, -ECANCELED}, {2, timeout_res}})) << "rule " << rule;
    EXPECT_GE(NowNs() - t0, ms * kMs) << "the linked timeout fired early (rule " << rule << ")";
  }
  Pipe pipe_;
  char buf_[8];
  __kernel_timespec ts_ = {};
};

// I43: a linked timeout that expires cancels its request: the request posts
// -ECANCELED and the timeout -ETIME, not before the timeout's time. Here over
// a READ of an empty pipe, issued inline.
TEST_P(LinkTimeout, FiresOverPipeRead) {
  RINGCHECK_RULE("I43");
  int64_t t0 = NowNs();
  QueuePipeRead(1, kLink);
  QueueLt(2, 30);
  ExpectFires(t0, 30, "I43");
}

// I44: the same with the READ forced into io-wq (IOSQE_ASYNC).
TEST_P(LinkTimeout, FiresOverAsyncPipeRead) {
  RINGCHECK_RULE("I44");
  int64_t t0 = NowNs();
  QueuePipeRead(1, kLink | IOSQE_ASYNC);
  QueueLt(2, 30);
  ExpectFires(t0, 30, "I44");
}

// I45: over a RECV on a socket with no data.
TEST_P(LinkTimeout, FiresOverRecv) {
  RINGCHECK_RULE("I45");
  SocketPair pair;
  ASSERT_EQ(ConnectedPair(Transport::kUnixStream, &pair), 0);
  int64_t t0 = NowNs();
  io_uring_sqe* sqe = Sqe(r(), 1, kLink);
  io_uring_prep_recv(sqe, pair.a.get(), buf_, sizeof buf_, 0);
  sqe->user_data = 1;
  sqe->flags = kLink;
  QueueLt(2, 30);
  ExpectFires(t0, 30, "I45");
}

// I46: over a POLL_ADD that never triggers.
TEST_P(LinkTimeout, FiresOverPoll) {
  RINGCHECK_RULE("I46");
  int64_t t0 = NowNs();
  io_uring_sqe* sqe = Sqe(r(), 1, kLink);
  io_uring_prep_poll_add(sqe, pipe_.r.get(), POLLIN);
  sqe->user_data = 1;
  sqe->flags = kLink;
  QueueLt(2, 30);
  ExpectFires(t0, 30, "I46");
}

// I47: over a FUTEX_WAIT nobody wakes the wait is cancelled, but the
// timeout posts 1, not -ETIME: io_req_task_link_timeout turns only a 0 from
// io_try_cancel into -ETIME, and io_futex_cancel answers with the number of
// requests it cancelled.
TEST_P(LinkTimeout, FiresOverFutexWait) {
  RINGCHECK_RULE("I47");
  REQUIRE_FEATURE("op_futex_wait");
  static uint32_t futex_word = 0;
  int64_t t0 = NowNs();
  io_uring_sqe* sqe = Sqe(r(), 1, kLink);
  io_uring_prep_futex_wait(sqe, &futex_word, 0, FUTEX_BITSET_MATCH_ANY,
                           FUTEX2_SIZE_U32 | FUTEX2_PRIVATE, 0);
  sqe->user_data = 1;
  sqe->flags = kLink;
  QueueLt(2, 30);
  ExpectFires(t0, 30, "I47", 1);
}

// I48: over a WAITID for a child that does not exit, likewise: the wait is
// cancelled and the timeout posts 1 (io_waitid_cancel's count).
TEST_P(LinkTimeout, FiresOverWaitid) {
  RINGCHECK_RULE("I48");
  REQUIRE_FEATURE("op_waitid");
  control::Kid kid = control::Kid::Spawn(3);
  ASSERT_GT(kid.pid(), 0);
  siginfo_t info = {};
  int64_t t0 = NowNs();
  io_uring_sqe* sqe = Sqe(r(), 1, kLink);
  io_uring_prep_waitid(sqe, P_PID, kid.pid(), &info, WEXITED, 0);
  sqe->user_data = 1;
  sqe->flags = kLink;
  QueueLt(2, 30);
  ExpectFires(t0, 30, "I48", 1);
}

// I49: a request that completes first disarms its linked timeout, which
// posts -ECANCELED; the request posts its own result.
TEST_P(LinkTimeout, CompletionDisarmsTheTimeout) {
  RINGCHECK_RULE("I49");
  pipe_.Put("abc");
  QueuePipeRead(1, kLink);
  QueueLt(2, 30000);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, 3}, {2, -ECANCELED}}));
}

// I49: the same when the request completes later, while the timer runs.
TEST_P(LinkTimeout, LateCompletionDisarmsTheTimeout) {
  RINGCHECK_RULE("I49");
  QueuePipeRead(1, kLink);
  QueueLt(2, 30000);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  EXPECT_TRUE(Quiet());
  pipe_.Put("abc");
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, 3}, {2, -ECANCELED}}));
}

// I49: and when the forced-async request completes while the timer runs.
TEST_P(LinkTimeout, LateAsyncCompletionDisarmsTheTimeout) {
  RINGCHECK_RULE("I49");
  QueuePipeRead(1, kLink | IOSQE_ASYNC);
  QueueLt(2, 30000);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  EXPECT_TRUE(Quiet());
  pipe_.Put("abc");
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, 3}, {2, -ECANCELED}}));
}

// I49: a request that fails at once also disarms its timeout (-ECANCELED).
TEST_P(LinkTimeout, FailureDisarmsTheTimeout) {
  RINGCHECK_RULE("I49");
  control::FailingRead(r(), 1, kLink);
  QueueLt(2, 30000);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, control::kFailRes}, {2, -ECANCELED}}));
}

// I50: CQE_SKIP_SUCCESS on either CQE follows D8 (spec/cqe.md): a fired
// timeout with the flag posts nothing, the cancelled RECV still posts.
TEST_P(LinkTimeout, FiredTimeoutWithSkipOverRecv) {
  REQUIRE_FEATURE("feat_cqe_skip");
  RINGCHECK_RULE("I50 D8");
  SocketPair pair;
  ASSERT_EQ(ConnectedPair(Transport::kUnixStream, &pair), 0);
  io_uring_sqe* sqe = Sqe(r(), 1, kLink);
  io_uring_prep_recv(sqe, pair.a.get(), buf_, sizeof buf_, 0);
  sqe->user_data = 1;
  sqe->flags = kLink;
  QueueLt(2, 20, IOSQE_CQE_SKIP_SUCCESS);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  EXPECT_TRUE(ExactlyThese(ReapAllN(1), {{1, -ECANCELED}}));
}

// I50: a POLL_ADD with the flag that triggers in time posts nothing; its
// disarmed timeout posts -ECANCELED.
TEST_P(LinkTimeout, SkippedPollDisarmsTimeout) {
  REQUIRE_FEATURE("feat_cqe_skip");
  RINGCHECK_RULE("I50 D8");
  io_uring_sqe* sqe = Sqe(r(), 1, kLink | IOSQE_CQE_SKIP_SUCCESS);
  io_uring_prep_poll_add(sqe, pipe_.r.get(), POLLIN);
  sqe->user_data = 1;
  sqe->flags = kLink | IOSQE_CQE_SKIP_SUCCESS;
  QueueLt(2, 30000);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  pipe_.Put("a");
  EXPECT_TRUE(ExactlyThese(ReapAllN(1), {{2, -ECANCELED}}));
}

// I51: a LINK_TIMEOUT with no linked request before it is refused -EINVAL.
TEST_P(LinkTimeout, WithoutLinkedRequestEinval) {
  RINGCHECK_RULE("I51");
  QueueLt(2, 10);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(1), {{2, -EINVAL}}));
}

// I51: nor after a request without IOSQE_IO_LINK.
TEST_P(LinkTimeout, AfterUnlinkedRequestEinval) {
  RINGCHECK_RULE("I51");
  Sqe(r(), 1);
  QueueLt(2, 10);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, 0}, {2, -EINVAL}}));
}

// I52: a LINK_TIMEOUT takes no count: `off` other than 0 is -EINVAL, and
// the request it would guard is cancelled with its chain.
TEST_P(LinkTimeout, WithCountEinval) {
  RINGCHECK_RULE("I52");
  Sqe(r(), 1, kLink);
  QueueLt(2, 10)->off = 1;
  ASSERT_TRUE(SubmitExpect(r(), 2));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, -ECANCELED}, {2, -EINVAL}}));
}

// I53: the timer starts when the request right before it is issued, not at
// submission: behind a blocked READ, a NOP guarded by a 10 ms timeout is
// not timed out while the READ waits.
TEST_P(LinkTimeout, TimerStartsWhenItsRequestStarts) {
  RINGCHECK_RULE("I53");
  QueuePipeRead(1, kLink);
  Sqe(r(), 2, kLink);
  // 100 ms: longer than the NOP takes even on an overloaded guest once the
  // read completes (10 ms did not always do), and shorter than the 300 ms
  // in which nothing may arrive while the read waits.
  QueueLt(3, 100);
  ASSERT_TRUE(SubmitExpect(r(), 3));
  EXPECT_TRUE(control::ReapUnchecked(r(), 1, std::chrono::milliseconds(300)).empty())
      << "the timeout ran before its request was issued (rule I53)";
  pipe_.Put("abcdefgh");
  EXPECT_TRUE(ExactlyThese(ReapAllN(3), {{1, 8}, {2, 0}, {3, -ECANCELED}}));
}

// I54: a chain goes on after a disarmed linked timeout: A -> LT -> C runs C
// when A completes in time.
TEST_P(LinkTimeout, ChainContinuesAfterDisarmedTimeout) {
  RINGCHECK_RULE("I54");
  Sqe(r(), 1, kLink);
  QueueLt(2, 30000, kLink);
  Sqe(r(), 3);
  ASSERT_TRUE(SubmitExpect(r(), 3));
  auto got = ReapAllN(3);
  EXPECT_TRUE(ExactlyThese(got, {{1, 0}, {2, -ECANCELED}, {3, 0}}));
  EXPECT_TRUE(control::ArrivedInOrder(got, {1, 3}));
}

// I54: and is cancelled after a fired one: A -> LT -> C cancels C.
TEST_P(LinkTimeout, ChainCancelledAfterFiredTimeout) {
  RINGCHECK_RULE("I54");
  QueuePipeRead(1, kLink);
  QueueLt(2, 10, kLink);
  Sqe(r(), 3);
  ASSERT_TRUE(SubmitExpect(r(), 3));
  EXPECT_TRUE(ExactlyThese(ReapAllN(3), {{1, -ECANCELED}, {2, -ETIME}, {3, -ECANCELED}}));
}

// I55: IORING_LINK_TIMEOUT_UPDATE re-arms a pending linked timeout: a long
// one shortened fires soon.
TEST_P(LinkTimeout, UpdateShortens) {
  RINGCHECK_RULE("I55");
  REQUIRE_FEATURE("link_timeout_update");
  QueuePipeRead(1, kLink);
  QueueLt(2, 30000);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  static __kernel_timespec shorter = {0, 10 * kMs};
  io_uring_sqe* up = Sqe(r(), 3);
  io_uring_prep_timeout_update(up, &shorter, 2, IORING_LINK_TIMEOUT_UPDATE);
  up->user_data = 3;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  auto got = ReapAllN(3);
  EXPECT_TRUE(ExactlyThese(got, {{3, 0}, {1, -ECANCELED}, {2, -ETIME}}));
}

// I55: lengthened, it does not fire before the new time.
TEST_P(LinkTimeout, UpdateLengthens) {
  RINGCHECK_RULE("I55");
  REQUIRE_FEATURE("link_timeout_update");
  QueuePipeRead(1, kLink);
  // 100 ms leave the update time to arrive on a loaded machine; if it still
  // comes late, the timeout has fired (its CQE may follow the update's
  // -ENOENT) and there is nothing to check. The timer is armed after
  // `armed`, never before (t0 can be late: see Timeout.UpdateLengthens).
  QueueLt(2, 100);
  const int64_t armed = NowNs();
  ASSERT_TRUE(SubmitExpect(r(), 2));
  int64_t t0 = NowNs();
  static __kernel_timespec longer = {0, 300 * kMs};
  io_uring_sqe* up = Sqe(r(), 3);
  io_uring_prep_timeout_update(up, &longer, 2, IORING_LINK_TIMEOUT_UPDATE);
  up->user_data = 3;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  auto first = ReapN(1);
  ASSERT_EQ(first.size(), 1u);
  if (first[0].user_data != 3 || (first[0].res == -ENOENT && NowNs() - armed >= 100 * kMs)) {
    GTEST_SKIP() << "environment:slow (the linked timeout fired before the update ran)";
  }
  EXPECT_RESULT(first[0].res, 0, "I55");
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, -ECANCELED}, {2, -ETIME}}));
  EXPECT_GE(NowNs() - t0, 300 * kMs) << "rule I55";
}

// I56: updating a linked timeout that does not exist is -ENOENT.
TEST_P(LinkTimeout, UpdateUnknownEnoent) {
  RINGCHECK_RULE("I56");
  REQUIRE_FEATURE("link_timeout_update");
  static __kernel_timespec ts = {0, kMs};
  io_uring_sqe* up = Sqe(r(), 3);
  io_uring_prep_timeout_update(up, &ts, 0x7777, IORING_LINK_TIMEOUT_UPDATE);
  up->user_data = 3;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(1), {{3, -ENOENT}}));
}

// I57: a linked timeout in a chain cut short by a failure earlier in the
// chain is cancelled with the rest (-ECANCELED), never fired.
TEST_P(LinkTimeout, CancelledWithItsChain) {
  RINGCHECK_RULE("I57");
  control::FailingRead(r(), 1, kLink);
  QueuePipeRead(2, kLink);
  QueueLt(3, 10);
  ASSERT_TRUE(SubmitExpect(r(), 3));
  EXPECT_TRUE(ExactlyThese(ReapAllN(3), {{1, control::kFailRes}, {2, -ECANCELED}, {3, -ECANCELED}}));
}

RINGCHECK_INSTANTIATE_DELIVERY_RINGS(LinkTimeout);

}  // namespace
}  // namespace ringcheck
