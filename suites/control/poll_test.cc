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

namespace ringcheck {
namespace {

using control::ExactlyThese;
using control::Pipe;
using control::Sqe;
using control::SubmitExpect;

class Poll : public control::ControlTest {
 protected:
  void SetUp() override {
    ControlTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    REQUIRE_FEATURE("op_poll_add");
    p_ = Pipe::Make();
  }
  io_uring_sqe* QueuePoll(uint64_t ud, int fd, unsigned mask, bool multi = false) {
    io_uring_sqe* sqe = Sqe(r(), ud);
    if (multi) {
      io_uring_prep_poll_multishot(sqe, fd, mask);
    } else {
      io_uring_prep_poll_add(sqe, fd, mask);
    }
    sqe->user_data = ud;
    return sqe;
  }
  io_uring_sqe* QueueRemove(uint64_t ud, uint64_t target) {
    io_uring_sqe* sqe = Sqe(r(), ud);
    io_uring_prep_poll_remove(sqe, target);
    sqe->user_data = ud;
    return sqe;
  }
  void ReadAll() {
    char buf[64];
    while (true) {
      pollfd pf = {p_.r.get(), POLLIN, 0};
      if (poll(&pf, 1, 0) != 1) return;
      if (read(p_.r.get(), buf, sizeof buf) <= 0) return;
    }
  }
  Pipe p_;
};

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

// I61: IORING_POLL_ADD_MULTI posts a CQE with F_MORE for each wakeup and
// stays armed.
TEST_P(Poll, MultishotPostsPerWakeupWithMore) {
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
TEST_P(Poll, RemoveEndsMultishot) {
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

// I64: IORING_POLL_UPDATE_EVENTS replaces the mask of a pending poll: a
// POLLIN poll on the write end (never ready) updated to POLLOUT fires.
TEST_P(Poll, UpdateEventsReplacesTheMask) {
  RINGCHECK_RULE("I64");
  REQUIRE_FEATURE("op_poll_remove");
  QueuePoll(1, p_.w.get(), POLLIN);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(Quiet());
  io_uring_sqe* up = Sqe(r(), 2);
  io_uring_prep_poll_update(up, 1, 0, POLLOUT, IORING_POLL_UPDATE_EVENTS);
  up->user_data = 2;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  auto got = ReapAllN(2);
  EXPECT_EQ(control::One(got, 2).res, 0) << "rule I64";
  EXPECT_NE(control::One(got, 1).res & POLLOUT, 0) << control::Describe(got) << " (rule I64)";
}

// I65: IORING_POLL_UPDATE_USER_DATA gives a pending poll a new user_data,
// which its CQE carries.
TEST_P(Poll, UpdateUserData) {
  RINGCHECK_RULE("I65");
  REQUIRE_FEATURE("op_poll_remove");
  QueuePoll(1, p_.r.get(), POLLIN);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  io_uring_sqe* up = Sqe(r(), 2);
  io_uring_prep_poll_update(up, 1, 77, 0, IORING_POLL_UPDATE_USER_DATA);
  up->user_data = 2;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, 0}}));
  p_.Put("a");
  auto got = ReapAllN(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].user_data, 77u) << "rule I65";
  EXPECT_NE(got[0].res & POLLIN, 0);
}

// I65: both at once: new mask and new user_data.
TEST_P(Poll, UpdateEventsAndUserData) {
  RINGCHECK_RULE("I64 I65");
  REQUIRE_FEATURE("op_poll_remove");
  QueuePoll(1, p_.w.get(), POLLIN);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  io_uring_sqe* up = Sqe(r(), 2);
  io_uring_prep_poll_update(up, 1, 88, POLLOUT,
                            IORING_POLL_UPDATE_EVENTS | IORING_POLL_UPDATE_USER_DATA);
  up->user_data = 2;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  auto got = ReapAllN(2);
  EXPECT_EQ(control::One(got, 2).res, 0);
  EXPECT_NE(control::One(got, 88).res & POLLOUT, 0) << control::Describe(got);
}

// I66: updating a poll that does not exist is -ENOENT.
TEST_P(Poll, UpdateUnknownEnoent) {
  RINGCHECK_RULE("I66");
  REQUIRE_FEATURE("op_poll_remove");
  io_uring_sqe* up = Sqe(r(), 2);
  io_uring_prep_poll_update(up, 0x4343, 0, POLLIN, IORING_POLL_UPDATE_EVENTS);
  up->user_data = 2;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, -ENOENT}}));
}

// I67: EPOLLONESHOT in the mask of a multishot poll makes it single-shot:
// one CQE, without F_MORE.
TEST_P(Poll, OneshotMaskMakesMultishotSingle) {
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
TEST_P(Poll, LevelFlagRefusedSingleShot) {
  RINGCHECK_RULE("I68");
  io_uring_sqe* sqe = QueuePoll(1, p_.r.get(), POLLIN);
  sqe->len |= IORING_POLL_ADD_LEVEL;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EINVAL}}));
}

TEST_P(Poll, LevelFlagRefusedMultishot) {
  RINGCHECK_RULE("I68");
  REQUIRE_FEATURE("poll_multishot");
  io_uring_sqe* sqe = QueuePoll(1, p_.r.get(), POLLIN, true);
  sqe->len |= IORING_POLL_ADD_LEVEL;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EINVAL}}));
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

// I71: a multishot poll with IOSQE_CQE_SKIP_SUCCESS is -EINVAL (D10).
TEST_P(Poll, MultishotWithSkipEinval) {
  REQUIRE_FEATURE("poll_multishot");
  REQUIRE_FEATURE("feat_cqe_skip");
  RINGCHECK_RULE("I71 D10");
  QueuePoll(1, p_.r.get(), POLLIN, true)->flags |= IOSQE_CQE_SKIP_SUCCESS;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EINVAL}}));
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
