// IOSQE_CQE_SKIP_SUCCESS on single requests (spec D.2: D1, D2, D9-D12;
// io_uring_enter(2) IOSQE_CQE_SKIP_SUCCESS and IOSQE_IO_DRAIN,
// io_uring_prep_poll_multishot(3), io_uring_prep_recv_multishot(3)): a
// request that succeeds posts no CQE, one that fails posts its error, and
// the flag does not mix with DRAIN or multishot poll.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include "harness/bufring.h"
#include "harness/features.h"
#include "harness/fd.h"
#include "harness/matchers.h"
#include "harness/net.h"
#include "suites/cqe/cqe_helpers.h"

namespace ringcheck {
namespace {

using cqe::Describe;
using cqe::ExactlyThese;
using cqe::HasFlag;
using cqe::Want;

constexpr uint16_t kGroup = 4;

class SkipSuccess : public cqe::SkipTest {};

// D1: a NOP that succeeds with CQE_SKIP_SUCCESS posts no CQE.
TEST_P(SkipSuccess, SuccessfulNopPostsNoCqe) {
  RINGCHECK_RULE("D1");
  cqe::QueueNop(ring(), 1, IOSQE_CQE_SKIP_SUCCESS);
  cqe::QueueNop(ring(), 2, IOSQE_CQE_SKIP_SUCCESS);
  EXPECT_TRUE(ExactlyThese(SubmitWithMarker(2, 1), {{kMarker, 0}}));
}

// D1: the same for a request that does I/O (a read of a file that succeeds).
TEST_P(SkipSuccess, SuccessfulReadPostsNoCqe) {
  RINGCHECK_RULE("D1");
  UniqueFd file = ScratchFile(64);
  ASSERT_TRUE(file.valid());
  char buf[32];
  io_uring_sqe* sqe = cqe::QueueSqe(ring(), 1, 0);
  ASSERT_NE(sqe, nullptr);
  io_uring_prep_read(sqe, file.get(), buf, sizeof buf, 0);
  sqe->flags = IOSQE_CQE_SKIP_SUCCESS;
  sqe->user_data = 1;
  EXPECT_TRUE(ExactlyThese(SubmitWithMarker(1, 1), {{kMarker, 0}}));
  // The marker is not ordered after the read (no link): a read that went to
  // io-wq may still be copying when the marker's CQE arrives (seen on 7.2
  // with DEFER_TASKRUN). Its effect is all there is to wait for.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (*static_cast<volatile char*>(&buf[5]) != static_cast<char>(PatternByte(5)) &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::yield();
  }
  EXPECT_EQ(buf[5], static_cast<char>(PatternByte(5))) << "the read did run (within 5 s)";
}

// D2: a request that fails posts a CQE with its error despite the flag.
TEST_P(SkipSuccess, FailedRequestPostsItsError) {
  RINGCHECK_RULE("D2");
  cqe::QueueFailingRead(ring(), 1, IOSQE_CQE_SKIP_SUCCESS);
  std::vector<Cqe> got = SubmitWithMarker(1, 2);
  EXPECT_TRUE(ExactlyThese(got, {{1, -EBADF}, {kMarker, 0}}));
}

// D12 (io_init_req: flags outside SQE_VALID_FLAGS): an undefined SQE flag
// bit fails the request with -EINVAL in its CQE.
TEST_P(SkipSuccess, UndefinedSqeFlagBitFailsWithEinval) {
  RINGCHECK_RULE("D12");
  cqe::QueueNop(ring(), 1, 1u << 7);  // bit 7: no IOSQE_* flag so far
  EXPECT_TRUE(ExactlyThese(SubmitWithMarker(1, 2), {{1, -EINVAL}, {kMarker, 0}}));
}

// D12 with D2: the -EINVAL of an undefined flag bit is a failure, so it is
// posted even when CQE_SKIP_SUCCESS is set too (the request fails before it
// is issued, on the submission path).
TEST_P(SkipSuccess, UndefinedSqeFlagBitFailsEvenWithSkip) {
  RINGCHECK_RULE("D12 D2");
  cqe::QueueNop(ring(), 1, (1u << 7) | IOSQE_CQE_SKIP_SUCCESS);
  EXPECT_TRUE(ExactlyThese(SubmitWithMarker(1, 2), {{1, -EINVAL}, {kMarker, 0}}));
}

// D9 (io_init_req, ctx->drain_disabled): once a CQE_SKIP_SUCCESS request
// was seen on the ring, IOSQE_IO_DRAIN fails with -EOPNOTSUPP; before it,
// DRAIN works.
TEST_P(SkipSuccess, DrainAfterSkipFailsWithEopnotsupp) {
  RINGCHECK_RULE("D9");
  cqe::QueueNop(ring(), 1, IOSQE_IO_DRAIN);
  ASSERT_TRUE(cqe::SubmitExpect(ring(), 1));
  ASSERT_TRUE(ExactlyThese(cqe::ReapAll(ring(), 1), {{1, 0}})) << "DRAIN before any skip";
  cqe::QueueNop(ring(), 2, IOSQE_CQE_SKIP_SUCCESS);
  ASSERT_TRUE(cqe::SubmitExpect(ring(), 1));
  cqe::QueueNop(ring(), 3, IOSQE_IO_DRAIN);
  EXPECT_TRUE(ExactlyThese(SubmitWithMarker(1, 2), {{3, -EOPNOTSUPP}, {kMarker, 0}}));
}

// D9: DRAIN and CQE_SKIP_SUCCESS on the same SQE fail it with -EOPNOTSUPP.
TEST_P(SkipSuccess, DrainWithSkipOnOneSqeFailsWithEopnotsupp) {
  RINGCHECK_RULE("D9");
  cqe::QueueNop(ring(), 1, IOSQE_IO_DRAIN | IOSQE_CQE_SKIP_SUCCESS);
  EXPECT_TRUE(ExactlyThese(SubmitWithMarker(1, 2), {{1, -EOPNOTSUPP}, {kMarker, 0}}));
}

// D10 (io_poll_add_prep): multishot POLL_ADD refuses CQE_SKIP_SUCCESS.
TEST_P(SkipSuccess, MultishotPollWithSkipIsEinval) {
  RINGCHECK_RULE("D10");
  REQUIRE_FEATURE("poll_multishot");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  io_uring_sqe* sqe = cqe::QueueSqe(ring(), 1, 0);
  ASSERT_NE(sqe, nullptr);
  io_uring_prep_poll_multishot(sqe, r.get(), POLLIN);
  sqe->flags = IOSQE_CQE_SKIP_SUCCESS;
  sqe->user_data = 1;
  EXPECT_TRUE(ExactlyThese(SubmitWithMarker(1, 2), {{1, -EINVAL}, {kMarker, 0}}));
}

// Multishot recv with CQE_SKIP_SUCCESS on a buffer ring, over a socketpair.
class SkipMultishotRecv : public SkipSuccess {
 protected:
  void SetUpSkipTest() override {
    REQUIRE_FEATURE("recv_multishot");
    REQUIRE_FEATURE("register_pbuf_ring");
    ASSERT_RESULT(BufRing::Create(ring(), kGroup, 8, 0, &bufring_), 0,
                  "io_uring_setup_buf_ring(3)");
    for (uint16_t bid = 0; bid < 8; ++bid) bufring_->Add(bid, 64);
    ASSERT_RESULT(ConnectedPair(Transport::kUnixStream, &pair_), 0, "socketpair");
    io_uring_sqe* sqe = cqe::QueueSqe(ring(), 1, 0);
    ASSERT_NE(sqe, nullptr);
    io_uring_prep_recv_multishot(sqe, pair_.a.get(), nullptr, 0, 0);
    sqe->flags = IOSQE_BUFFER_SELECT | IOSQE_CQE_SKIP_SUCCESS;
    sqe->buf_group = kGroup;
    sqe->user_data = 1;
    ASSERT_TRUE(cqe::SubmitExpect(ring(), 1));
  }
  // Data sent to the armed recv comes back in a CQE with F_MORE.
  void ExpectDataPostsMore() {
    ASSERT_RESULT(SendAll(pair_.b.get(), "abc", 3), 0, "send");
    std::vector<Cqe> got = ring().Reap(1);
    ASSERT_EQ(got.size(), 1u) << "no CQE for received data although it is not the last";
    EXPECT_EQ(got[0].user_data, 1u) << Describe(got[0]);
    EXPECT_RESULT(got[0].res, 3, "D11 an intermediate CQE is posted");
    EXPECT_TRUE(HasFlag(got[0], IORING_CQE_F_MORE)) << Describe(got[0]);
    EXPECT_TRUE(HasFlag(got[0], IORING_CQE_F_BUFFER)) << Describe(got[0]);
  }
  // An ASYNC_CANCEL for the recv: its result says whether it is still armed.
  int CancelResult() {
    io_uring_sqe* sqe = cqe::QueueSqe(ring(), 2, 0);
    if (sqe == nullptr) return -ENOMEM;
    io_uring_prep_cancel64(sqe, 1, 0);
    sqe->user_data = 2;
    EXPECT_TRUE(cqe::SubmitExpect(ring(), 1));
    std::vector<Cqe> got = cqe::ReapAll(ring(), 1);
    std::vector<Cqe> cancel = cqe::WithUserData(got, 2);
    EXPECT_EQ(cancel.size(), 1u) << Describe(got);
    last_reaped_ = got;
    return cancel.empty() ? -ETIME : cancel[0].res;
  }

  std::unique_ptr<BufRing> bufring_;
  SocketPair pair_;
  std::vector<Cqe> last_reaped_;
};

// D11: multishot RECV accepts CQE_SKIP_SUCCESS and still posts every
// intermediate CQE (with F_MORE); the successful end (EOF, res 0) is the
// CQE the flag suppresses: the request is gone, but posts nothing.
TEST_P(SkipMultishotRecv, PostsMoreCqesAndSuppressesSuccessfulEnd) {
  RINGCHECK_RULE("D11 D1");
  ExpectDataPostsMore();
  if (HasFatalFailure()) return;
  ASSERT_EQ(shutdown(pair_.b.get(), SHUT_WR), 0);
  // The wakeup queued task work that sees EOF; it has run when shutdown()
  // returned, or (DEFER_TASKRUN) runs in this GETEVENTS enter.
  std::vector<Cqe> early = ring().Drain();
  EXPECT_TRUE(early.empty()) << "the successful final CQE (EOF) is skipped " << Describe(early);
  EXPECT_RESULT(CancelResult(), -ENOENT, "D11 EOF ended the multishot recv");
  EXPECT_TRUE(cqe::WithUserData(last_reaped_, 1).empty())
      << "the successful final CQE (EOF) is skipped " << Describe(last_reaped_);
}

// D11 with D2: a multishot recv with CQE_SKIP_SUCCESS that is cancelled
// ends in failure (-ECANCELED), and that final CQE is posted, without F_MORE.
TEST_P(SkipMultishotRecv, CancelledEndIsPosted) {
  RINGCHECK_RULE("D11 D2");
  ExpectDataPostsMore();
  if (HasFatalFailure()) return;
  EXPECT_RESULT(CancelResult(), 0, "io_uring_prep_cancel(3) found the armed recv");
  std::vector<Cqe> end = cqe::WithUserData(last_reaped_, 1);
  ASSERT_EQ(end.size(), 1u) << "the failing end is posted " << Describe(last_reaped_);
  EXPECT_RESULT(end[0].res, -ECANCELED, "D11 cancelled multishot recv");
  EXPECT_FALSE(HasFlag(end[0], IORING_CQE_F_MORE)) << Describe(end[0]);
}

RINGCHECK_INSTANTIATE_FLAG_RINGS(SkipSuccess);
// Not on SQPOLL: there the EOF is handled by the kernel thread on its own
// time, and with its CQE suppressed nothing tells the test it has happened.
std::vector<RingConfig> SubmitterRunsTaskWork() {
  std::vector<RingConfig> out;
  for (const RingConfig& c : cqe::FlagConfigs()) {
    if (!(c.flags & IORING_SETUP_SQPOLL)) out.push_back(c);
  }
  return out;
}
INSTANTIATE_TEST_SUITE_P(FlagRings, SkipMultishotRecv,
                         ::testing::ValuesIn(SubmitterRunsTaskWork()), ConfigParamName);

}  // namespace
}  // namespace ringcheck
