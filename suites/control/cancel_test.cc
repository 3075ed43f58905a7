// IORING_OP_ASYNC_CANCEL and IORING_REGISTER_SYNC_CANCEL
// (io_uring_prep_cancel(3), io_uring_prep_cancel_fd(3),
// io_uring_register_sync_cancel(3); io_uring/cancel.c io_async_cancel_prep,
// io_cancel_req_match, io_try_cancel, __io_async_cancel, io_sync_cancel).
// Spec rules I73-I92.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/control/control_util.h"

namespace ringcheck {
namespace {

using control::ExactlyThese;
using control::kMs;
using control::NowNs;
using control::Pipe;
using control::Sqe;
using control::SubmitExpect;

class Cancel : public control::ControlTest {
 protected:
  void SetUp() override {
    ControlTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    REQUIRE_FEATURE("op_async_cancel");
    p_ = Pipe::Make();
    q_ = Pipe::Make();
  }
  // A READ of an empty pipe: pending (poll-armed) until data comes.
  io_uring_sqe* QueueRead(uint64_t ud, int fd, uint8_t flags = 0) {
    io_uring_sqe* sqe = Sqe(r(), ud, flags);
    io_uring_prep_read(sqe, fd, buf_, sizeof buf_, 0);
    sqe->user_data = ud;
    sqe->flags = flags;
    return sqe;
  }
  io_uring_sqe* QueuePoll(uint64_t ud, int fd) {
    io_uring_sqe* sqe = Sqe(r(), ud);
    io_uring_prep_poll_add(sqe, fd, POLLIN);
    sqe->user_data = ud;
    return sqe;
  }
  io_uring_sqe* QueueCancel(uint64_t ud, uint64_t target, unsigned flags = 0) {
    io_uring_sqe* sqe = Sqe(r(), ud);
    io_uring_prep_cancel64(sqe, target, static_cast<int>(flags));
    sqe->user_data = ud;
    return sqe;
  }
  io_uring_sqe* QueueCancelFd(uint64_t ud, int fd, unsigned flags) {
    io_uring_sqe* sqe = Sqe(r(), ud);
    io_uring_prep_cancel_fd(sqe, fd, flags);
    sqe->user_data = ud;
    return sqe;
  }
  // A SPLICE from the empty pipe p_ into q_: io_uring cannot poll-arm it, so
  // it blocks in an io-wq worker.
  void StartBlockedSplice() {
    const std::set<std::string> earlier = PipeWaiters();
    io_uring_sqe* sp = Sqe(r(), 1);
    io_uring_prep_splice(sp, p_.r.get(), -1, q_.w.get(), -1, 16, 0);
    sp->user_data = 1;
    ASSERT_TRUE(SubmitExpect(r(), 1));
    EXPECT_TRUE(control::ReapUnchecked(r(), 1, std::chrono::milliseconds(30)).empty());
    WaitForNewPipeWaiter(earlier);
  }
  // The io-wq workers of this process (their thread ids) asleep in a pipe
  // wait: wchan pipe_wait (5.10) or pipe_wait_readable (later). A worker
  // left idle sleeps in io_wq_worker instead, and one still being created
  // elsewhere.
  static std::set<std::string> PipeWaiters() {
    std::set<std::string> out;
    DIR* d = opendir("/proc/self/task");
    if (d == nullptr) return out;
    while (dirent* e = readdir(d)) {
      const std::string dir = std::string("/proc/self/task/") + e->d_name;
      std::string comm, stat, wchan;
      std::getline(std::ifstream(dir + "/comm"), comm);
      if (comm.rfind("iou-wrk", 0) != 0) continue;
      std::getline(std::ifstream(dir + "/stat"), stat);
      std::getline(std::ifstream(dir + "/wchan"), wchan);
      size_t paren = stat.rfind(')');
      if (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'S' &&
          wchan.rfind("pipe_wait", 0) == 0) {
        out.insert(e->d_name);
      }
    }
    closedir(d);
    return out;
  }
  // Waits (bounded) until a worker that was not asleep in a pipe wait
  // before the splice is: the splice is then running in it, not still on
  // its way there (a cancel in between finds it nowhere, -ENOENT). The io-wq
  // is the task's, shared by its rings, so a worker of an earlier test can
  // still sleep in that test's splice until its ring's exit work cancels it
  // (seen as an I83 -ENOENT in loaded 6.1 and 7.2 guests): it does not count.
  static void WaitForNewPipeWaiter(const std::set<std::string>& earlier) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < until) {
      for (const std::string& tid : PipeWaiters()) {
        if (earlier.count(tid) == 0) return;
      }
      std::this_thread::yield();
    }
  }
  // The splice's CQE as the I83/I88 diagnostics read it.
  static std::string SpliceOutcome(const std::vector<Cqe>& splice) {
    if (splice.empty()) return "the splice posted nothing";
    if (splice[0].res < 0) {
      return "the splice was interrupted (" + Describe(splice[0]) + "): a cancel reached it";
    }
    return "the splice read the data fed to it (" + Describe(splice[0]) + "): no cancel reached it";
  }
  // Makes sure the splice of StartBlockedSplice has posted (feeding it if it
  // still waits); adds its CQE to `got`.
  void FinishSplice(std::vector<Cqe>& got) {
    if (!control::WithUserData(got, 1).empty()) return;
    auto rest = control::ReapUnchecked(r(), 1, std::chrono::milliseconds(300));
    if (rest.empty()) {
      p_.Put("z");
      rest = control::ReapUnchecked(r(), 1);
    }
    ASSERT_EQ(rest.size(), 1u) << "the splice never ended";
    got.push_back(rest[0]);
  }
  Pipe p_, q_;
  char buf_[8];
};

// I73: cancelling a pending request by user_data: the cancel posts 0 and the
// request -ECANCELED.
TEST_P(Cancel, ByUserDataCancelsPendingRead) {
  RINGCHECK_RULE("I73");
  QueueRead(1, p_.r.get());
  ASSERT_TRUE(SubmitExpect(r(), 1));
  QueueCancel(2, 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, -ECANCELED}, {2, 0}}));
  p_.Put("a");
  EXPECT_TRUE(Quiet()) << "the cancelled read still completed (rule I73)";
}

// I73: a pending POLL_ADD and a pending TIMEOUT are found the same way.
TEST_P(Cancel, ByUserDataCancelsPoll) {
  RINGCHECK_RULE("I73");
  QueuePoll(1, p_.r.get());
  ASSERT_TRUE(SubmitExpect(r(), 1));
  QueueCancel(2, 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, -ECANCELED}, {2, 0}}));
}

TEST_P(Cancel, ByUserDataCancelsTimeout) {
  RINGCHECK_RULE("I73");
  static __kernel_timespec ts = {30, 0};
  io_uring_sqe* t = Sqe(r(), 1);
  io_uring_prep_timeout(t, &ts, 0, 0);
  t->user_data = 1;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  QueueCancel(2, 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, -ECANCELED}, {2, 0}}));
}

// I74: cancelling a user_data nothing pending has is -ENOENT.
TEST_P(Cancel, UnknownUserDataEnoent) {
  RINGCHECK_RULE("I74");
  QueueCancel(2, 0x9999);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, -ENOENT}}));
}

// I74: a request that already completed is not found either.
TEST_P(Cancel, CompletedRequestEnoent) {
  RINGCHECK_RULE("I74");
  Sqe(r(), 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  ASSERT_EQ(ReapN(1).size(), 1u);
  QueueCancel(2, 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, -ENOENT}}));
}

// I75: without IORING_ASYNC_CANCEL_ALL one matching request is cancelled;
// with it every match is, and the cancel posts how many.
TEST_P(Cancel, WithoutAllCancelsOne) {
  RINGCHECK_RULE("I75");
  QueueRead(1, p_.r.get());
  QueueRead(1, q_.r.get());
  ASSERT_TRUE(SubmitExpect(r(), 2));
  QueueCancel(2, 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, -ECANCELED}, {2, 0}}));
  QueueCancel(3, 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, -ECANCELED}, {3, 0}}));
}

TEST_P(Cancel, AllCancelsEveryMatchAndCounts) {
  RINGCHECK_RULE("I75");
  REQUIRE_FEATURE("cancel_any");
  QueueRead(1, p_.r.get());
  QueueRead(1, q_.r.get());
  QueuePoll(1, p_.r.get());
  QueueRead(5, q_.r.get());
  ASSERT_TRUE(SubmitExpect(r(), 4));
  QueueCancel(2, 1, IORING_ASYNC_CANCEL_ALL);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(4), {{1, -ECANCELED}, {1, -ECANCELED}, {1, -ECANCELED}, {2, 3}}));
  QueueCancel(6, 5);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{5, -ECANCELED}, {6, 0}}));
}

// I76: IORING_ASYNC_CANCEL_FD matches on the file instead of user_data.
TEST_P(Cancel, ByFd) {
  RINGCHECK_RULE("I76");
  REQUIRE_FEATURE("cancel_fd");
  QueueRead(1, p_.r.get());
  QueueRead(3, q_.r.get());
  ASSERT_TRUE(SubmitExpect(r(), 2));
  QueueCancelFd(2, q_.r.get(), 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{3, -ECANCELED}, {2, 0}}));
  QueueCancelFd(4, p_.r.get(), 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, -ECANCELED}, {4, 0}}));
}

TEST_P(Cancel, ByFdAllCounts) {
  RINGCHECK_RULE("I76 I75");
  REQUIRE_FEATURE("cancel_fd");
  QueueRead(1, p_.r.get());
  QueuePoll(3, p_.r.get());
  QueueRead(5, q_.r.get());
  ASSERT_TRUE(SubmitExpect(r(), 3));
  QueueCancelFd(2, p_.r.get(), IORING_ASYNC_CANCEL_ALL);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(3), {{1, -ECANCELED}, {3, -ECANCELED}, {2, 2}}));
  QueueCancelFd(4, q_.r.get(), 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  ReapAllN(2);
}

// I76: a CANCEL_FD of a descriptor that is not open is -EBADF; of an open
// one nothing uses, -ENOENT.
TEST_P(Cancel, ByFdBadFdEbadf) {
  RINGCHECK_RULE("I76");
  REQUIRE_FEATURE("cancel_fd");
  QueueCancelFd(2, -1, 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, -EBADF}}));
}

TEST_P(Cancel, ByFdUnusedEnoent) {
  RINGCHECK_RULE("I76");
  REQUIRE_FEATURE("cancel_fd");
  QueueCancelFd(2, p_.w.get(), 0);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, -ENOENT}}));
}

// I77: IORING_ASYNC_CANCEL_FD_FIXED: the fd is an index into the fixed
// file table, matching requests that used that fixed file.
TEST_P(Cancel, ByFixedFd) {
  RINGCHECK_RULE("I77");
  REQUIRE_FEATURE("cancel_fd");
  int files[2] = {p_.r.get(), q_.r.get()};
  ASSERT_EQ(io_uring_register_files(r().get(), files, 2), 0);
  io_uring_sqe* rd = QueueRead(1, 1, IOSQE_FIXED_FILE);
  (void)rd;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  QueueCancelFd(2, 1, IORING_ASYNC_CANCEL_FD_FIXED);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, -ECANCELED}, {2, 0}}));
}

// I77: an empty fixed slot is -EBADF.
TEST_P(Cancel, ByFixedFdEmptySlotEbadf) {
  RINGCHECK_RULE("I77");
  REQUIRE_FEATURE("cancel_fd");
  int files[2] = {p_.r.get(), -1};
  ASSERT_EQ(io_uring_register_files(r().get(), files, 2), 0);
  QueueCancelFd(2, 1, IORING_ASYNC_CANCEL_FD_FIXED);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, -EBADF}}));
}

// I78: IORING_ASYNC_CANCEL_ANY cancels every pending request whatever its
// user_data, and posts how many.
TEST_P(Cancel, AnyCancelsEverything) {
  RINGCHECK_RULE("I78");
  REQUIRE_FEATURE("cancel_any");
  QueueRead(1, p_.r.get());
  QueuePoll(3, q_.r.get());
  ASSERT_TRUE(SubmitExpect(r(), 2));
  QueueCancel(2, 0, IORING_ASYNC_CANCEL_ANY);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(3), {{1, -ECANCELED}, {3, -ECANCELED}, {2, 2}}));
}

// I78: ANY with nothing pending is -ENOENT... (ANY counts: 0 matches).
TEST_P(Cancel, AnyWithNothingPending) {
  RINGCHECK_RULE("I78");
  REQUIRE_FEATURE("cancel_any");
  QueueCancel(2, 0, IORING_ASYNC_CANCEL_ANY);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, 0}}));
}

// I79: ANY combined with FD or OP is refused with -EINVAL, and so is an
// unknown flag.
TEST_P(Cancel, AnyWithFdEinval) {
  RINGCHECK_RULE("I79");
  REQUIRE_FEATURE("cancel_any");
  QueueCancelFd(2, p_.r.get(), IORING_ASYNC_CANCEL_ANY);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, -EINVAL}}));
}

TEST_P(Cancel, AnyWithOpEinval) {
  RINGCHECK_RULE("I79");
  REQUIRE_FEATURE("cancel_op");
  QueueCancel(2, 0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_OP)->len = IORING_OP_READ;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, -EINVAL}}));
}

TEST_P(Cancel, UnknownFlagEinval) {
  RINGCHECK_RULE("I79");
  QueueCancel(2, 1, 1U << 20);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{2, -EINVAL}}));
}

// I80: IORING_ASYNC_CANCEL_OP matches on the opcode in sqe->len: a cancel
// of READs leaves a POLL_ADD alone.
TEST_P(Cancel, ByOpcode) {
  RINGCHECK_RULE("I80");
  REQUIRE_FEATURE("cancel_op");
  QueueRead(1, p_.r.get());
  QueuePoll(3, q_.r.get());
  ASSERT_TRUE(SubmitExpect(r(), 2));
  QueueCancel(2, 0, IORING_ASYNC_CANCEL_OP | IORING_ASYNC_CANCEL_ALL)->len = IORING_OP_READ;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, -ECANCELED}, {2, 1}}));
  EXPECT_TRUE(Quiet()) << "the POLL_ADD was cancelled by an OP=READ cancel (rule I80)";
  QueueCancel(4, 3);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  ReapAllN(2);
}

// I81: IORING_ASYNC_CANCEL_USERDATA with OP matches both keys.
TEST_P(Cancel, ByOpcodeAndUserData) {
  RINGCHECK_RULE("I81");
  REQUIRE_FEATURE("cancel_op");
  QueueRead(1, p_.r.get());
  QueuePoll(1, q_.r.get());
  ASSERT_TRUE(SubmitExpect(r(), 2));
  QueueCancel(2, 1, IORING_ASYNC_CANCEL_OP | IORING_ASYNC_CANCEL_USERDATA)->len =
      IORING_OP_POLL_ADD;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  auto got = ReapAllN(2);
  EXPECT_TRUE(ExactlyThese(got, {{1, -ECANCELED}, {2, 0}}));
  // The READ is still there.
  QueueCancel(3, 1, IORING_ASYNC_CANCEL_OP | IORING_ASYNC_CANCEL_USERDATA)->len = IORING_OP_READ;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, -ECANCELED}, {3, 0}}));
}

// I82: a cancelled member of a chain fails the chain: the rest is
// cancelled too.
TEST_P(Cancel, CancelledMemberFailsItsChain) {
  RINGCHECK_RULE("I82");
  QueueRead(1, p_.r.get(), IOSQE_IO_LINK);
  Sqe(r(), 3);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  QueueCancel(2, 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(3), {{1, -ECANCELED}, {2, 0}, {3, -ECANCELED}}));
}

class CancelIoWq : public Cancel {};

// I83: a request blocked in an io-wq worker (a SPLICE from an empty pipe,
// which io_uring cannot poll-arm) is running, not pending: the cancel
// interrupts the worker and posts -EALREADY (found by the slow path over
// ctx->tctx_list). Not over SQPOLL rings: there the SQ thread owns the
// io-wq and whether the worker has started when the cancel runs is a race.
TEST_P(CancelIoWq, RunningInIoWqEalready) {
  RINGCHECK_RULE("I83");
  REQUIRE_FEATURE("op_splice");
  StartBlockedSplice();
  // A cancel that lands while the splice moves from the io-wq work list
  // into its worker finds it nowhere (-ENOENT) and leaves it running: while
  // the splice has posted nothing, ask again (a few times, 20 ms apart).
  std::vector<Cqe> got;
  int32_t res = -ENOENT;
  int asked = 0;
  for (uint64_t ud = 2; ud < 7 && res == -ENOENT && control::WithUserData(got, 1).empty(); ++ud) {
    if (ud > 2) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    QueueCancel(ud, 1);
    ASSERT_TRUE(SubmitExpect(r(), 1));
    ++asked;
    while (control::WithUserData(got, ud).empty()) {
      auto more = control::ReapUnchecked(r(), 1);
      ASSERT_EQ(more.size(), 1u) << "no CQE for the cancel (rule I83)";
      got.insert(got.end(), more.begin(), more.end());
    }
    res = control::One(got, ud).res;
  }
  // What the splice did tells the readings of an -ENOENT apart (spec I83):
  // interrupted (an error result, no data fed: a cancel reached it, and
  // the -ENOENT is io_try_cancel's lost -EALREADY) or not reached (it
  // reads the byte FinishSplice feeds).
  FinishSplice(got);
  const auto splice = control::WithUserData(got, 1);
  EXPECT_RESULT(res, -EALREADY, "I83") << "; " << asked << " cancel(s) asked; " << SpliceOutcome(splice)
                                       << "; all CQEs: " << Describe(got);
}

// I120 over a cancelled, interrupted SPLICE: the request's CQE must not carry
// the -ERESTARTSYS its interrupted pipe wait returned.
TEST_P(CancelIoWq, InterruptedSpliceLeaksNoInternalErrno) {
  RINGCHECK_RULE("I120");
  REQUIRE_FEATURE("op_splice");
  StartBlockedSplice();
  QueueCancel(2, 1);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  auto got = control::ReapUnchecked(r(), 1);
  ASSERT_EQ(got.size(), 1u);
  if (got[0].user_data == 1) got.push_back(control::ReapUnchecked(r(), 1).at(0));
  FinishSplice(got);
  control::CheckNoInternalErrno(got);
}

// I84: IORING_REGISTER_SYNC_CANCEL cancels a pending request before it
// returns 0; the request posts -ECANCELED.
TEST_P(Cancel, SyncCancelByUserData) {
  RINGCHECK_RULE("I84");
  REQUIRE_FEATURE("register_sync_cancel");
  QueueRead(1, p_.r.get());
  ASSERT_TRUE(SubmitExpect(r(), 1));
  io_uring_sync_cancel_reg reg = {};
  reg.addr = 1;
  reg.timeout.tv_sec = -1;
  reg.timeout.tv_nsec = -1;
  EXPECT_RESULT(io_uring_register_sync_cancel(r().get(), &reg), 0, "I84");
  EXPECT_TRUE(ExactlyThese(ReapAllN(1), {{1, -ECANCELED}}));
}

// I85: SYNC_CANCEL with nothing to cancel returns -ENOENT.
TEST_P(Cancel, SyncCancelUnknownEnoent) {
  RINGCHECK_RULE("I85");
  REQUIRE_FEATURE("register_sync_cancel");
  io_uring_sync_cancel_reg reg = {};
  reg.addr = 0x9999;
  reg.timeout.tv_sec = -1;
  reg.timeout.tv_nsec = -1;
  EXPECT_RESULT(io_uring_register_sync_cancel(r().get(), &reg), -ENOENT, "I85");
}

// I86: SYNC_CANCEL refuses unknown flags and non-zero padding with -EINVAL.
TEST_P(Cancel, SyncCancelBadArgsEinval) {
  RINGCHECK_RULE("I86");
  REQUIRE_FEATURE("register_sync_cancel");
  io_uring_sync_cancel_reg reg = {};
  reg.addr = 1;
  reg.flags = 1U << 20;
  EXPECT_RESULT(io_uring_register_sync_cancel(r().get(), &reg), -EINVAL, "I86");
  reg.flags = 0;
  reg.pad[0] = 1;
  EXPECT_RESULT(io_uring_register_sync_cancel(r().get(), &reg), -EINVAL, "I86");
}

// I87: SYNC_CANCEL by fd with ALL cancels every request on it and returns 0
// (not a count).
TEST_P(Cancel, SyncCancelFdAll) {
  RINGCHECK_RULE("I87");
  REQUIRE_FEATURE("register_sync_cancel");
  QueueRead(1, p_.r.get());
  QueuePoll(3, p_.r.get());
  ASSERT_TRUE(SubmitExpect(r(), 2));
  io_uring_sync_cancel_reg reg = {};
  reg.fd = p_.r.get();
  reg.flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL;
  reg.timeout.tv_sec = -1;
  reg.timeout.tv_nsec = -1;
  int ret = io_uring_register_sync_cancel(r().get(), &reg);
  EXPECT_GE(ret, 0) << "rule I87: " << ResultName(ret);
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, -ECANCELED}, {3, -ECANCELED}}));
}

// I88: SYNC_CANCEL of a request running in io-wq interrupts it and waits,
// up to its timeout, until the request has ended: it returns 0 once the
// interrupted SPLICE posted (or -ETIME, not before the timeout, if it had
// not).
TEST_P(CancelIoWq, SyncCancelRunningWaitsForIt) {
  RINGCHECK_RULE("I88");
  REQUIRE_FEATURE("register_sync_cancel");
  REQUIRE_FEATURE("op_splice");
  StartBlockedSplice();
  io_uring_sync_cancel_reg reg = {};
  reg.addr = 1;
  reg.timeout.tv_sec = 0;
  reg.timeout.tv_nsec = 200 * kMs;
  // As in I83: a cancel that lands while the splice moves into its worker
  // finds it nowhere (-ENOENT); ask again while the splice has posted
  // nothing (a few times, 20 ms apart).
  int64_t t0 = NowNs();
  int ret = io_uring_register_sync_cancel(r().get(), &reg);
  for (int again = 0; again < 4 && ret == -ENOENT && io_uring_cq_ready(r().get()) == 0; ++again) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    t0 = NowNs();
    ret = io_uring_register_sync_cancel(r().get(), &reg);
  }
  int64_t elapsed = NowNs() - t0;
  std::vector<Cqe> got;
  if (ret == 0) {
    got = control::ReapUnchecked(r(), 1);
    EXPECT_EQ(got.size(), 1u) << "SYNC_CANCEL returned 0 before the request ended (rule I88)";
    FinishSplice(got);
    return;
  }
  FinishSplice(got);  // as in I83: which -ENOENT it was
  EXPECT_RESULT(ret, -ETIME, "I88") << "; " << SpliceOutcome(control::WithUserData(got, 1));
  EXPECT_GE(elapsed, 200 * kMs) << "rule I88";
}

RINGCHECK_INSTANTIATE_DELIVERY_RINGS(Cancel);
INSTANTIATE_TEST_SUITE_P(IoWq, CancelIoWq,
                         ::testing::Values(ConfigNamed("default"),
                                           ConfigNamed("defer_taskrun_single_issuer"),
                                           ConfigNamed("coop_taskrun")),
                         ConfigParamName);

}  // namespace
}  // namespace ringcheck
