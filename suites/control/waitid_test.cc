// IORING_OP_WAITID (io_uring_prep_waitid(3); io_uring/waitid.c
// io_waitid_prep, io_waitid, io_waitid_wait, io_waitid_cancel).
// Spec rules I114-I119.
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/control/control_util.h"

namespace ringcheck {
namespace {

using control::ExactlyThese;
using control::Kid;
using control::Sqe;
using control::SubmitExpect;

class Waitid : public control::ControlTest {
 protected:
  void SetUp() override {
    ControlTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    REQUIRE_FEATURE("op_waitid");
  }
  io_uring_sqe* Queue(uint64_t ud, idtype_t type, id_t id, int options) {
    io_uring_sqe* sqe = Sqe(r(), ud);
    io_uring_prep_waitid(sqe, type, id, &info_, options, 0);
    sqe->user_data = ud;
    return sqe;
  }
  // The child was reaped by the WAITID: waitpid finds no such child.
  void ExpectReaped(Kid& kid) {
    if (kid.pid() <= 0) return;
    EXPECT_EQ(waitpid(kid.pid(), nullptr, WNOHANG), -1) << "rule I114: the child was not reaped";
    kid.Forget();
  }
  siginfo_t info_ = {};
};

// I114: WAITID P_PID WEXITED waits for the child to exit, posts 0 and fills
// the siginfo (si_pid, si_code CLD_EXITED, si_status the exit code); the
// child is reaped.
TEST_P(Waitid, WaitsForChildThatExitsLater) {
  RINGCHECK_RULE("I114");
  Kid kid = Kid::Spawn(7);
  ASSERT_GT(kid.pid(), 0);
  Queue(1, P_PID, kid.pid(), WEXITED);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(Quiet()) << "WAITID completed before the child exited (rule I114)";
  kid.Release();
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, 0}}));
  EXPECT_EQ(info_.si_pid, kid.pid());
  EXPECT_EQ(info_.si_code, CLD_EXITED);
  EXPECT_EQ(info_.si_status, 7) << "rule I114";
  ExpectReaped(kid);
}

// I115: a child that already exited before submission is collected at once.
TEST_P(Waitid, ChildThatExitedBeforeSubmission) {
  RINGCHECK_RULE("I115");
  Kid kid = Kid::Spawn(9, /*exit_now=*/true);
  ASSERT_GT(kid.pid(), 0);
  ASSERT_TRUE(kid.WaitExitedNoReap());
  Queue(1, P_PID, kid.pid(), WEXITED);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, 0}}));
  EXPECT_EQ(info_.si_status, 9) << "rule I115";
  ExpectReaped(kid);
}

// I116: P_ALL waits for any child.
TEST_P(Waitid, AnyChild) {
  RINGCHECK_RULE("I116");
  Kid kid = Kid::Spawn(4);
  ASSERT_GT(kid.pid(), 0);
  Queue(1, P_ALL, 0, WEXITED);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  kid.Release();
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, 0}}));
  EXPECT_EQ(info_.si_pid, kid.pid()) << "rule I116";
  EXPECT_EQ(info_.si_status, 4);
  ExpectReaped(kid);
}

// I117: P_PIDFD takes a pidfd as the id.
TEST_P(Waitid, ByPidfd) {
  RINGCHECK_RULE("I117");
  Kid kid = Kid::Spawn(5);
  ASSERT_GT(kid.pid(), 0);
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, kid.pid(), 0));
  if (pidfd < 0) GTEST_SKIP() << "environment:pidfd_open (" << ResultName(-errno) << ")";
  UniqueFd guard(pidfd);
  Queue(1, P_PIDFD, static_cast<id_t>(pidfd), WEXITED);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  kid.Release();
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, 0}}));
  EXPECT_EQ(info_.si_pid, kid.pid()) << "rule I117";
  EXPECT_EQ(info_.si_status, 5);
  ExpectReaped(kid);
}

// I118: a pid that is not our child is -ECHILD; options without any of
// WEXITED/WSTOPPED/WCONTINUED are -EINVAL.
TEST_P(Waitid, NotOurChildEchild) {
  RINGCHECK_RULE("I118");
  Queue(1, P_PID, 1, WEXITED);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -ECHILD}}));
}

TEST_P(Waitid, NoStateOptionEinval) {
  RINGCHECK_RULE("I118");
  Kid kid = Kid::Spawn(1);
  ASSERT_GT(kid.pid(), 0);
  Queue(1, P_PID, kid.pid(), WNOWAIT);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EINVAL}}));
}

// I119: ASYNC_CANCEL of a pending WAITID: the wait posts -ECANCELED and the
// cancel 1 (io_waitid_cancel's count, passed on by io_try_cancel); the
// child is left to its parent.
TEST_P(Waitid, CancelPendingWait) {
  RINGCHECK_RULE("I119");
  REQUIRE_FEATURE("op_async_cancel");
  Kid kid = Kid::Spawn(2);
  ASSERT_GT(kid.pid(), 0);
  Queue(1, P_PID, kid.pid(), WEXITED);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  io_uring_sqe* c = Sqe(r(), 2);
  io_uring_prep_cancel64(c, 1, 0);
  c->user_data = 2;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, -ECANCELED}, {2, 1}}));
  kid.Release();
  int status = 0;
  EXPECT_EQ(waitpid(kid.pid(), &status, 0), kid.pid()) << "rule I119: the child was reaped";
  kid.Forget();
}

RINGCHECK_INSTANTIATE_DELIVERY_RINGS(Waitid);

}  // namespace
}  // namespace ringcheck
