// IORING_OP_MSG_RING and IORING_REGISTER_SEND_MSG_RING
// (io_uring_prep_msg_ring(3), io_uring_prep_msg_ring_fd(3),
// io_uring_prep_msg_ring_cqe_flags(3); io_uring/msg_ring.c
// io_msg_ring_prep, io_msg_ring_data, io_msg_send_fd, io_uring_sync_msg_ring).
// Spec rules I89-I104.
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/control/control_util.h"

namespace ringcheck {
namespace {

using control::ExactlyThese;
using control::Pipe;
using control::Sqe;
using control::SubmitExpect;

#ifndef IORING_REGISTER_SEND_MSG_RING
#define IORING_REGISTER_SEND_MSG_RING 31
#endif

class MsgRing : public control::ControlTest {
 protected:
  void SetUp() override {
    ControlTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    REQUIRE_FEATURE("op_msg_ring");
    ASSERT_EQ(Ring::Create(ConfigNamed("default"), &target_), 0);
  }
  io_uring_sqe* QueueData(uint64_t ud, int fd, unsigned len, uint64_t data, unsigned flags = 0) {
    io_uring_sqe* sqe = Sqe(r(), ud);
    io_uring_prep_msg_ring(sqe, fd, len, data, flags);
    sqe->user_data = ud;
    return sqe;
  }
  std::unique_ptr<Ring> target_;
};

// I89: MSG_DATA posts a CQE on the target ring whose user_data is sqe->off
// and res sqe->len; the sender's own CQE says 0.
TEST_P(MsgRing, DataDeliversUserDataAndRes) {
  RINGCHECK_RULE("I89");
  QueueData(1, target_->fd(), 0x1234, 0xfeedbeef);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, 0}}));
  auto got = control::Reap(*target_, 1);
  EXPECT_TRUE(ExactlyThese(got, {{0xfeedbeef, 0x1234}})) << "rule I89";
  if (!got.empty()) {
    EXPECT_EQ(got[0].flags, 0u);
  }
}

// I89: several messages arrive in submission order.
TEST_P(MsgRing, DataMessagesArriveInOrder) {
  RINGCHECK_RULE("I89");
  for (uint64_t i = 1; i <= 4; ++i) QueueData(i, target_->fd(), static_cast<unsigned>(i), 100 + i, 0);
  ASSERT_TRUE(SubmitExpect(r(), 4));
  EXPECT_EQ(ReapAllN(4).size(), 4u);
  auto got = control::ReapAllChecked(*target_, 4);
  EXPECT_TRUE(ExactlyThese(got, {{101, 1}, {102, 2}, {103, 3}, {104, 4}}));
  EXPECT_TRUE(control::ArrivedInOrder(got, {101, 102, 103, 104})) << "rule I89";
}

// I90: a ring may message itself.
TEST_P(MsgRing, DataToItself) {
  RINGCHECK_RULE("I90");
  if (r().fd() < 0) GTEST_SKIP() << "environment:no ring fd";
  QueueData(1, r().fd(), 7, 0xabc);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, 0}, {0xabc, 7}}));
}

// I91: IORING_MSG_RING_CQE_SKIP is refused for MSG_DATA with -EINVAL (it
// only applies to SEND_FD); the sender's IOSQE_CQE_SKIP_SUCCESS only hides
// the sender's CQE.
TEST_P(MsgRing, CqeSkipFlagRefusedForData) {
  RINGCHECK_RULE("I91");
  QueueData(1, target_->fd(), 1, 2, IORING_MSG_RING_CQE_SKIP);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EINVAL}}));
  EXPECT_TRUE(control::Reap(*target_, 1, std::chrono::milliseconds(25)).empty());
}

TEST_P(MsgRing, SenderSkipSuccessHidesOnlyTheSenderCqe) {
  REQUIRE_FEATURE("feat_cqe_skip");
  RINGCHECK_RULE("I91");
  QueueData(1, target_->fd(), 5, 6)->flags |= IOSQE_CQE_SKIP_SUCCESS;
  Sqe(r(), 2);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  EXPECT_TRUE(ExactlyThese(ReapAllN(1), {{2, 0}}));
  EXPECT_TRUE(ExactlyThese(control::ReapAllChecked(*target_, 1), {{6, 5}}));
}

// I92: IORING_MSG_RING_FLAGS_PASS puts sqe->file_index into the target
// CQE's flags; without it a non-zero file_index is -EINVAL.
TEST_P(MsgRing, FlagsPassSetsTargetFlags) {
  RINGCHECK_RULE("I92");
  REQUIRE_FEATURE("msg_ring_flags_pass");
  io_uring_sqe* sqe = Sqe(r(), 1);
  io_uring_prep_msg_ring_cqe_flags(sqe, target_->fd(), 3, 4, 0, 0x00020000);
  sqe->user_data = 1;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  auto mine = ReapN(1);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_RESULT(mine[0].res, 0, "I92");
  auto got = control::Reap(*target_, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].flags, 0x00020000u) << "rule I92";
  EXPECT_EQ(got[0].res, 3);
}

TEST_P(MsgRing, FileIndexWithoutFlagsPassEinval) {
  RINGCHECK_RULE("I92");
  QueueData(1, target_->fd(), 1, 2)->file_index = 9;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EINVAL}}));
}

// I93: a descriptor that is not an io_uring is -EBADFD.
TEST_P(MsgRing, NonRingFdEbadfd) {
  RINGCHECK_RULE("I93");
  Pipe p = Pipe::Make();
  QueueData(1, p.r.get(), 1, 2);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EBADFD}}));
}

// I93: a descriptor that is not open is -EBADF.
TEST_P(MsgRing, ClosedFdEbadf) {
  RINGCHECK_RULE("I93");
  QueueData(1, -1, 1, 2);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EBADF}}));
}

// I94: an unknown command (sqe->addr) and unknown msg_ring_flags are -EINVAL.
TEST_P(MsgRing, UnknownCommandEinval) {
  RINGCHECK_RULE("I94");
  QueueData(1, target_->fd(), 1, 2)->addr = 77;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EINVAL}}));
}

TEST_P(MsgRing, UnknownFlagEinval) {
  RINGCHECK_RULE("I94");
  QueueData(1, target_->fd(), 1, 2, 1U << 7);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EINVAL}}));
}

// I95: IORING_MSG_SEND_FD installs the sender's fixed file (addr3 = its
// slot) into the target's fixed table (slot file_index - 1); the target
// gets a CQE with the given user_data and res 0, and the file works there.
TEST_P(MsgRing, SendFdInstallsIntoTargetTable) {
  RINGCHECK_RULE("I95");
  Pipe p = Pipe::Make();
  int mine[1] = {p.r.get()};
  ASSERT_EQ(io_uring_register_files(r().get(), mine, 1), 0);
  int theirs[2] = {-1, -1};
  ASSERT_EQ(io_uring_register_files(target_->get(), theirs, 2), 0);
  io_uring_sqe* sqe = Sqe(r(), 1);
  io_uring_prep_msg_ring_fd(sqe, target_->fd(), 0, 1, 0x55, 0);
  sqe->user_data = 1;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, 0}}));
  EXPECT_TRUE(ExactlyThese(control::Reap(*target_, 1), {{0x55, 0}})) << "rule I95";
  // The target reads the pipe through slot 1.
  p.Put("fd");
  char buf[2];
  io_uring_sqe* rd = target_->NextSqe();
  io_uring_prep_read(rd, 1, buf, 2, 0);
  rd->flags |= IOSQE_FIXED_FILE;
  rd->user_data = 9;
  ASSERT_EQ(target_->Submit(), 1);
  EXPECT_TRUE(ExactlyThese(control::Reap(*target_, 1), {{9, 2}})) << "rule I95";
}

// I96: with IORING_MSG_RING_CQE_SKIP the file is installed and the target
// gets no CQE.
TEST_P(MsgRing, SendFdWithCqeSkip) {
  RINGCHECK_RULE("I96");
  Pipe p = Pipe::Make();
  int mine[1] = {p.r.get()};
  ASSERT_EQ(io_uring_register_files(r().get(), mine, 1), 0);
  int theirs[1] = {-1};
  ASSERT_EQ(io_uring_register_files(target_->get(), theirs, 1), 0);
  io_uring_sqe* sqe = Sqe(r(), 1);
  io_uring_prep_msg_ring_fd(sqe, target_->fd(), 0, 0, 0x55, IORING_MSG_RING_CQE_SKIP);
  sqe->user_data = 1;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, 0}}));
  EXPECT_TRUE(control::Reap(*target_, 1, std::chrono::milliseconds(25)).empty()) << "rule I96";
  p.Put("x");
  char buf[1];
  io_uring_sqe* rd = target_->NextSqe();
  io_uring_prep_read(rd, 0, buf, 1, 0);
  rd->flags |= IOSQE_FIXED_FILE;
  rd->user_data = 9;
  ASSERT_EQ(target_->Submit(), 1);
  EXPECT_TRUE(ExactlyThese(control::Reap(*target_, 1), {{9, 1}})) << "rule I96";
}

// I97: SEND_FD from an empty source slot is -EBADF; to the sending ring
// itself -EINVAL.
TEST_P(MsgRing, SendFdFromEmptySlotEbadf) {
  RINGCHECK_RULE("I97");
  int mine[1] = {-1};
  ASSERT_EQ(io_uring_register_files(r().get(), mine, 1), 0);
  int theirs[1] = {-1};
  ASSERT_EQ(io_uring_register_files(target_->get(), theirs, 1), 0);
  io_uring_sqe* sqe = Sqe(r(), 1);
  io_uring_prep_msg_ring_fd(sqe, target_->fd(), 0, 0, 1, 0);
  sqe->user_data = 1;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EBADF}}));
}

TEST_P(MsgRing, SendFdToItselfEinval) {
  RINGCHECK_RULE("I97");
  if (r().fd() < 0) GTEST_SKIP() << "environment:no ring fd";
  Pipe p = Pipe::Make();
  int mine[2] = {p.r.get(), -1};
  ASSERT_EQ(io_uring_register_files(r().get(), mine, 2), 0);
  io_uring_sqe* sqe = Sqe(r(), 1);
  io_uring_prep_msg_ring_fd(sqe, r().fd(), 0, 1, 1, 0);
  sqe->user_data = 1;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EINVAL}}));
}

// I98: a message to a target whose CQ is full is not lost: the sender gets
// 0 and the target's CQE waits in the overflow backlog, after the CQEs that
// filled the CQ.
TEST_P(MsgRing, FullTargetCqOverflowsInOrder) {
  RINGCHECK_RULE("I98");
  REQUIRE_FEATURE("feat_nodrop");
  const unsigned cq = target_->params().cq_entries;
  for (unsigned i = 0; i < cq; ++i) {
    io_uring_sqe* n = target_->NextSqe();
    io_uring_prep_nop(n);
    n->user_data = 1000 + i;
  }
  ASSERT_GE(target_->Submit(), 0);
  QueueData(1, target_->fd(), 42, 0x4242);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, 0}}));
  auto got = control::ReapAllChecked(*target_, cq + 1);
  ASSERT_EQ(got.size(), cq + 1) << control::Describe(got);
  EXPECT_EQ(got.back().user_data, 0x4242u) << "rule I98";
  EXPECT_EQ(got.back().res, 42);
}

// I99: a target created with IORING_SETUP_R_DISABLED and not yet enabled
// refuses messages with -EBADFD.
TEST_P(MsgRing, DisabledTargetEbadfd) {
  RINGCHECK_RULE("I99");
  REQUIRE_FEATURE("setup_r_disabled");
  std::unique_ptr<Ring> off;
  ASSERT_EQ(Ring::Create(ConfigNamed("r_disabled"), &off, /*keep_disabled=*/true), 0);
  QueueData(1, off->fd(), 1, 2);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapN(1), {{1, -EBADFD}}));
}

// I100: a DEFER_TASKRUN target owned by another task gets the message as
// task work for its owner: the sender (another thread) gets 0 at once, the
// CQE appears when the owner enters the kernel.
TEST_P(MsgRing, DeferTaskrunTargetOwnedByAnotherTask) {
  RINGCHECK_RULE("I100");
  REQUIRE_FEATURE("setup_defer_taskrun");
  std::unique_ptr<Ring> owned;
  ASSERT_EQ(Ring::Create(ConfigNamed("defer_taskrun_single_issuer"), &owned), 0);
  int sender_res = 1 << 30;
  int target_fd = owned->fd();
  std::thread sender([&] {
    io_uring ring;
    if (io_uring_queue_init(4, &ring, 0) != 0) return;
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_msg_ring(sqe, target_fd, 9, 0x99, 0);
    io_uring_submit(&ring);
    io_uring_cqe* cqe;
    if (io_uring_wait_cqe(&ring, &cqe) == 0) sender_res = cqe->res;
    io_uring_queue_exit(&ring);
  });
  sender.join();
  EXPECT_RESULT(sender_res, 0, "I100");
  EXPECT_TRUE(ExactlyThese(control::Reap(*owned, 1), {{0x99, 9}})) << "rule I100";
}

// I101: IORING_REGISTER_SEND_MSG_RING sends a MSG_DATA SQE without a source
// ring (fd -1, nr_args 1): the call returns 0 and the target gets the CQE.
TEST_P(MsgRing, RegisterSendMsgRingWithoutSourceRing) {
  RINGCHECK_RULE("I101");
  REQUIRE_FEATURE("register_send_msg_ring");
  io_uring_sqe sqe = {};
  io_uring_prep_msg_ring(&sqe, target_->fd(), 11, 0x1111, 0);
  long ret = syscall(__NR_io_uring_register, -1, IORING_REGISTER_SEND_MSG_RING, &sqe, 1);
  EXPECT_RESULT(SysResult(ret), 0, "I101");
  EXPECT_TRUE(ExactlyThese(control::Reap(*target_, 1), {{0x1111, 11}}));
}

// I102: it takes only MSG_DATA (SEND_FD needs a source ring: -EINVAL) and
// exactly one SQE (nr_args other than 1: -EINVAL).
TEST_P(MsgRing, RegisterSendMsgRingRefusesSendFd) {
  RINGCHECK_RULE("I102");
  REQUIRE_FEATURE("register_send_msg_ring");
  io_uring_sqe sqe = {};
  io_uring_prep_msg_ring_fd(&sqe, target_->fd(), 0, 0, 1, 0);
  long ret = syscall(__NR_io_uring_register, -1, IORING_REGISTER_SEND_MSG_RING, &sqe, 1);
  EXPECT_RESULT(SysResult(ret), -EINVAL, "I102");
}

TEST_P(MsgRing, RegisterSendMsgRingNeedsOneSqe) {
  RINGCHECK_RULE("I102");
  REQUIRE_FEATURE("register_send_msg_ring");
  io_uring_sqe sqe[2] = {};
  io_uring_prep_msg_ring(&sqe[0], target_->fd(), 1, 1, 0);
  io_uring_prep_msg_ring(&sqe[1], target_->fd(), 1, 1, 0);
  long ret = syscall(__NR_io_uring_register, -1, IORING_REGISTER_SEND_MSG_RING, sqe, 2);
  EXPECT_RESULT(SysResult(ret), -EINVAL, "I102");
}

RINGCHECK_INSTANTIATE_DELIVERY_RINGS(MsgRing);

}  // namespace
}  // namespace ringcheck
