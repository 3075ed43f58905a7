// IOSQE_CQE_SKIP_SUCCESS in link chains (spec D.2: D3-D8; io_uring_enter(2)
// IOSQE_IO_LINK, IOSQE_IO_HARDLINK, IOSQE_CQE_SKIP_SUCCESS;
// io_uring_prep_link_timeout(3)). A failing request posts its error even
// with the flag (req_set_fail clears it); whether the links it cancels post
// -ECANCELED depends on the failing request's flag (io_fail_links).
#include <unistd.h>

#include <memory>

#include "harness/features.h"
#include "harness/fd.h"
#include "harness/matchers.h"
#include "suites/cqe/cqe_helpers.h"

namespace ringcheck {
namespace {

using cqe::ArrivedInOrder;
using cqe::ExactlyThese;

constexpr uint8_t kLink = IOSQE_IO_LINK;
constexpr uint8_t kSkip = IOSQE_CQE_SKIP_SUCCESS;

class SkipLinks : public cqe::SkipTest {};

// D3: A(skip, fails) -> B -> C: A posts its error; B and C are cancelled and
// their CQEs suppressed, although neither has the flag.
TEST_P(SkipLinks, FailingHeadWithSkipSuppressesCancelledLinks) {
  RINGCHECK_RULE("D3");
  cqe::QueueFailingRead(ring(), 1, kSkip | kLink);
  cqe::QueueNop(ring(), 2, kLink);
  cqe::QueueNop(ring(), 3);
  std::vector<Cqe> got = SubmitWithMarker(3, 2);
  EXPECT_TRUE(ExactlyThese(got, {{1, -EBADF}, {kMarker, 0}}));
}

// D4: A(fails, no skip) -> B(skip) -> C(skip): A posts its error and the
// cancelled B and C post -ECANCELED, in chain order: cancelling a link
// clears its skip flag.
TEST_P(SkipLinks, FailingHeadWithoutSkipPostsCancelledLinks) {
  RINGCHECK_RULE("D4");
  cqe::QueueFailingRead(ring(), 1, kLink);
  cqe::QueueNop(ring(), 2, kSkip | kLink);
  cqe::QueueNop(ring(), 3, kSkip);
  std::vector<Cqe> got = SubmitWithMarker(3, 4);
  EXPECT_TRUE(ExactlyThese(got, {{1, -EBADF}, {2, -ECANCELED}, {3, -ECANCELED}, {kMarker, 0}}));
  EXPECT_TRUE(ArrivedInOrder(got, {1, 2, 3}));
}

// D5: A(ok) -> B(skip, fails) -> C: A posts 0, B its error, and C, cancelled
// by a request that had the flag, posts nothing.
TEST_P(SkipLinks, FailingMiddleWithSkipSuppressesTheRest) {
  RINGCHECK_RULE("D5");
  cqe::QueueNop(ring(), 1, kLink);
  cqe::QueueFailingRead(ring(), 2, kSkip | kLink);
  cqe::QueueNop(ring(), 3);
  std::vector<Cqe> got = SubmitWithMarker(3, 3);
  EXPECT_TRUE(ExactlyThese(got, {{1, 0}, {2, -EBADF}, {kMarker, 0}}));
  EXPECT_TRUE(ArrivedInOrder(got, {1, 2}));
}

// D6: a chain that succeeds with the flag on every request but the last
// posts exactly one CQE, the last one's.
TEST_P(SkipLinks, SuccessfulChainPostsOnlyTheLastCqe) {
  RINGCHECK_RULE("D6");
  cqe::QueueNop(ring(), 1, kSkip | kLink);
  cqe::QueueNop(ring(), 2, kSkip | kLink);
  cqe::QueueNop(ring(), 3, kSkip | kLink);
  cqe::QueueNop(ring(), 4);
  EXPECT_TRUE(ExactlyThese(SubmitWithMarker(4, 2), {{4, 0}, {kMarker, 0}}));
}

// D7: HARDLINK A(skip, fails) -> B: a hard link is not broken by the
// failure; A posts its error and B runs and posts normally.
TEST_P(SkipLinks, HardlinkAfterFailureWithSkipStillRuns) {
  RINGCHECK_RULE("D7");
  cqe::QueueFailingRead(ring(), 1, kSkip | IOSQE_IO_HARDLINK);
  cqe::QueueNop(ring(), 2);
  std::vector<Cqe> got = SubmitWithMarker(2, 3);
  EXPECT_TRUE(ExactlyThese(got, {{1, -EBADF}, {2, 0}, {kMarker, 0}}));
  EXPECT_TRUE(ArrivedInOrder(got, {1, 2}));
}

// D8, linked timeouts (io_uring_enter(2)): the timeout's own CQE is posted or
// suppressed by its own CQE_SKIP_SUCCESS flag alone, whether it fired
// (-ETIME) or was disarmed because the request finished (-ECANCELED).
class SkipLinkTimeout : public SkipLinks {
 protected:
  void SetUpSkipTest() override {
    REQUIRE_FEATURE("op_link_timeout");
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pipe_r_.reset(fds[0]);
    pipe_w_.reset(fds[1]);
  }
  // A read of the empty pipe: it waits until the linked timeout cancels it.
  void QueueBlockingRead(uint64_t user_data, uint8_t flags) {
    io_uring_sqe* sqe = cqe::QueueSqe(ring(), user_data, 0);
    ASSERT_NE(sqe, nullptr);
    io_uring_prep_read(sqe, pipe_r_.get(), buf_, sizeof buf_, 0);
    sqe->flags = flags;
    sqe->user_data = user_data;
  }
  void QueueLinkTimeout(uint64_t user_data, uint8_t flags, long long nsec) {
    ts_ = {0, nsec};
    io_uring_sqe* sqe = cqe::QueueSqe(ring(), user_data, 0);
    ASSERT_NE(sqe, nullptr);
    io_uring_prep_link_timeout(sqe, &ts_, 0);
    sqe->flags = flags;
    sqe->user_data = user_data;
  }

  static constexpr long long kFires = 10 * 1000 * 1000;      // 10 ms, the read never ends
  static constexpr long long kNeverFires = 30LL * 1000000000;  // 30 s, disarmed first
  UniqueFd pipe_r_, pipe_w_;
  char buf_[8];
  __kernel_timespec ts_ = {};
};

// D8: a fired linked timeout with the flag posts nothing, while the request
// it cancelled posts -ECANCELED.
TEST_P(SkipLinkTimeout, FiredTimeoutWithSkipPostsNothing) {
  RINGCHECK_RULE("D8");
  QueueBlockingRead(1, kLink);
  QueueLinkTimeout(2, kSkip, kFires);
  EXPECT_TRUE(ExactlyThese(SubmitWithMarker(2, 2), {{1, -ECANCELED}, {kMarker, 0}}));
}

// D8: a fired linked timeout without the flag posts -ETIME, also when the
// request it cancelled had the flag (that one failed, so it posts too).
TEST_P(SkipLinkTimeout, FiredTimeoutWithoutSkipPostsEtime) {
  RINGCHECK_RULE("D8 D2");
  QueueBlockingRead(1, kSkip | kLink);
  QueueLinkTimeout(2, 0, kFires);
  EXPECT_TRUE(
      ExactlyThese(SubmitWithMarker(2, 3), {{1, -ECANCELED}, {2, -ETIME}, {kMarker, 0}}));
}

// D8: a linked timeout with the flag that is disarmed because its request
// succeeded posts nothing (its -ECANCELED does not count as a failure).
TEST_P(SkipLinkTimeout, DisarmedTimeoutWithSkipPostsNothing) {
  RINGCHECK_RULE("D8");
  cqe::QueueNop(ring(), 1, kLink);
  QueueLinkTimeout(2, kSkip, kNeverFires);
  EXPECT_TRUE(ExactlyThese(SubmitWithMarker(2, 2), {{1, 0}, {kMarker, 0}}));
}

// D8: a disarmed linked timeout without the flag posts -ECANCELED even when
// its request, which had the flag, succeeded silently.
TEST_P(SkipLinkTimeout, DisarmedTimeoutWithoutSkipPostsEcanceled) {
  RINGCHECK_RULE("D8");
  cqe::QueueNop(ring(), 1, kSkip | kLink);
  QueueLinkTimeout(2, 0, kNeverFires);
  EXPECT_TRUE(ExactlyThese(SubmitWithMarker(2, 2), {{2, -ECANCELED}, {kMarker, 0}}));
}

RINGCHECK_INSTANTIATE_FLAG_RINGS(SkipLinks);
RINGCHECK_INSTANTIATE_FLAG_RINGS(SkipLinkTimeout);

}  // namespace
}  // namespace ringcheck
