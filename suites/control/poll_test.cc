// IORING_OP_POLL_ADD and IORING_OP_POLL_REMOVE (io_uring_prep_poll_add(3),
// io_uring_prep_poll_multishot(3), io_uring_prep_poll_remove(3),
// io_uring_prep_poll_update(3); io_uring/poll.c io_poll_add_prep,
// io_poll_parse_events, __io_arm_poll_handler, io_poll_remove).
// Spec rules I58-I72.
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

// I58: a single-shot POLL_ADD completes once, when the file becomes ready,
// with the ready events in res and no F_MORE.
TEST_P(Poll, SingleShotCompletesWhenReady) {
  RINGCHECK_RULE("I58");
  QueuePoll(1, p_.r.get(), POLLIN);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(Quiet()) << "the poll completed on an empty pipe (rule I58)";
  p_.Put("a");
  auto got = ReapAllN(1);
  ASSERT_EQ(got.size(), 1u) << control::Describe(got);
  EXPECT_NE(got[0].res & POLLIN, 0) << control::Describe(got) << " (rule I58)";
  EXPECT_EQ(got[0].flags & IORING_CQE_F_MORE, 0u);
  p_.Put("b");
  EXPECT_TRUE(Quiet()) << "a single-shot poll posted twice (rule I58)";
}

// I59: a poll on a file that is already ready completes at once.
TEST_P(Poll, AlreadyReadyCompletesAtOnce) {
  RINGCHECK_RULE("I59");
  p_.Put("a");
  QueuePoll(1, p_.r.get(), POLLIN);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  auto got = ReapN(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].res & POLLIN, 0) << "rule I59";
}

// I59: POLLOUT on a pipe's empty write end is ready at once.
TEST_P(Poll, WritableCompletesAtOnce) {
  RINGCHECK_RULE("I59");
  QueuePoll(1, p_.w.get(), POLLOUT);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  auto got = ReapN(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].res & POLLOUT, 0) << "rule I59";
}

// I60: POLLHUP is reported without being asked for: the write end closed.
TEST_P(Poll, HangupReportedUnasked) {
  RINGCHECK_RULE("I60");
  QueuePoll(1, p_.r.get(), POLLIN);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  p_.w.reset();
  auto got = ReapN(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].res & POLLHUP, 0) << control::Describe(got) << " (rule I60)";
}

// I62: POLL_REMOVE of a pending single-shot poll: 0 and -ECANCELED.
TEST_P(Poll, RemovePendingSingleShot) {
  RINGCHECK_RULE("I62");
  REQUIRE_FEATURE("op_poll_remove");
  QueuePoll(1, p_.r.get(), POLLIN);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  QueueRemove(2, 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, -ECANCELED}, {2, 0}}));
}

// I63: POLL_REMOVE of a user_data no pending poll has is -ENOENT, and so is
// removing a single-shot poll that already completed.
TEST_P(Poll, RemoveUnknownEnoent) {
  RINGCHECK_RULE("I63");
  REQUIRE_FEATURE("op_poll_remove");
  QueueRemove(2, 0x4242);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, -ENOENT}}));
}

TEST_P(Poll, RemoveCompletedEnoent) {
  RINGCHECK_RULE("I63");
  REQUIRE_FEATURE("op_poll_remove");
  p_.Put("a");
  QueuePoll(1, p_.r.get(), POLLIN);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  ASSERT_EQ(ReapN(1).size(), 1u);
  QueueRemove(2, 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, -ENOENT}}));
}

// I69: a file without a poll method (a regular file) is always ready: the
// poll completes at once with the default mask (POLLIN|POLLOUT|POLLRDNORM|
// POLLWRNORM).
TEST_P(Poll, UnpollableFileIsAlwaysReady) {
  RINGCHECK_RULE("I69");
  UniqueFd f = ScratchFile(16);
  ASSERT_TRUE(f.valid());
  QueuePoll(1, f.get(), POLLIN | POLLOUT);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  auto got = ReapN(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].res & (POLLIN | POLLOUT), POLLIN | POLLOUT) << control::Describe(got);
}

// I70: a poll on a descriptor that is not open fails -EBADF.
TEST_P(Poll, BadFdEbadf) {
  RINGCHECK_RULE("I70");
  QueuePoll(1, -1, POLLIN);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EBADF}}));
}

// I72: unknown POLL_ADD flags in len are -EINVAL.
TEST_P(Poll, UnknownAddFlagEinval) {
  RINGCHECK_RULE("I72");
  QueuePoll(1, p_.r.get(), POLLIN)->len = 1U << 20;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EINVAL}}));
}



RINGCHECK_INSTANTIATE_DELIVERY_RINGS(Poll);

}  // namespace
}  // namespace ringcheck
