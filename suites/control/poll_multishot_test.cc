// Multishot POLL_ADD (IORING_POLL_ADD_MULTI) and its removal
// (io_uring_prep_poll_add(3),
// io_uring_prep_poll_multishot(3), io_uring_prep_poll_remove(3),
// io_uring_prep_poll_update(3); io_uring/poll.c io_poll_add_prep,
// io_poll_parse_events, __io_arm_poll_handler, io_poll_remove).
// Spec rules I61, I62, I67, I68, I71.
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/control/control_util.h"
#include "suites/control/poll_util.h"

namespace ringcheck {
namespace {

using control::ExactlyThese;
using control::SubmitExpect;

class PollMultishot : public Poll {};

// I61: IORING_POLL_ADD_MULTI posts a CQE with F_MORE for each wakeup and
// stays armed.
TEST_P(PollMultishot, MultishotPostsPerWakeupWithMore) {
  RINGCHECK_RULE("I61");
  REQUIRE_FEATURE("poll_multishot");
  QueuePoll(1, p_.r.get(), POLLIN, true);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  for (int i = 0; i < 3; ++i) {
    p_.Put("a");
    auto got = ReapN(1);
    ASSERT_EQ(got.size(), 1u) << "wakeup " << i << " (rule I61)";
    EXPECT_NE(got[0].res & POLLIN, 0);
    EXPECT_NE(got[0].flags & IORING_CQE_F_MORE, 0u) << control::Describe(got);
    ReadAll();
  }
  QueueRemove(2, 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  ReapAllN(2);
}

// I62: POLL_REMOVE ends a multishot poll: the removal posts 0, the poll a
// final -ECANCELED without F_MORE.
TEST_P(PollMultishot, RemoveEndsMultishot) {
  RINGCHECK_RULE("I62");
  REQUIRE_FEATURE("poll_multishot");
  REQUIRE_FEATURE("op_poll_remove");
  QueuePoll(1, p_.r.get(), POLLIN, true);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  QueueRemove(2, 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  auto got = ReapAllN(2);
  EXPECT_TRUE(ExactlyThese(got, {{1, -ECANCELED}, {2, 0}}));
  for (const Cqe& c : got) EXPECT_EQ(c.flags & IORING_CQE_F_MORE, 0u) << control::Describe(c);
}

// I67: EPOLLONESHOT in the mask of a multishot poll makes it single-shot:
// one CQE, without F_MORE.
TEST_P(PollMultishot, OneshotMaskMakesMultishotSingle) {
  RINGCHECK_RULE("I67");
  REQUIRE_FEATURE("poll_multishot");
  QueuePoll(1, p_.r.get(), POLLIN | EPOLLONESHOT, true);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  p_.Put("a");
  auto got = ReapAllN(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].flags & IORING_CQE_F_MORE, 0u) << control::Describe(got) << " (rule I67)";
  ReadAll();
  p_.Put("b");
  EXPECT_TRUE(Quiet()) << "rule I67";
}

// I68: POLL_ADD refuses IORING_POLL_ADD_LEVEL with -EINVAL, single-shot
// and multishot: the uapi defines the flag, but io_poll_add_prep accepts
// only IORING_POLL_ADD_MULTI in len (a patch to accept it was never merged).
TEST_P(PollMultishot, LevelFlagRefusedSingleShot) {
  RINGCHECK_RULE("I68");
  io_uring_sqe* sqe = QueuePoll(1, p_.r.get(), POLLIN);
  sqe->len |= IORING_POLL_ADD_LEVEL;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EINVAL}}));
}

TEST_P(PollMultishot, LevelFlagRefusedMultishot) {
  RINGCHECK_RULE("I68");
  REQUIRE_FEATURE("poll_multishot");
  io_uring_sqe* sqe = QueuePoll(1, p_.r.get(), POLLIN, true);
  sqe->len |= IORING_POLL_ADD_LEVEL;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EINVAL}}));
}

// I71: a multishot poll with IOSQE_CQE_SKIP_SUCCESS is -EINVAL (D10).
TEST_P(PollMultishot, MultishotWithSkipEinval) {
  REQUIRE_FEATURE("poll_multishot");
  REQUIRE_FEATURE("feat_cqe_skip");
  RINGCHECK_RULE("I71 D10");
  QueuePoll(1, p_.r.get(), POLLIN, true)->flags |= IOSQE_CQE_SKIP_SUCCESS;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EINVAL}}));
}

RINGCHECK_INSTANTIATE_DELIVERY_RINGS(PollMultishot);

}  // namespace
}  // namespace ringcheck
