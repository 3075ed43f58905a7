// NOP's extended flags in sqe->nop_flags (io_uring/nop.c io_nop_prep,
// io_nop): IORING_NOP_INJECT_RESULT, IORING_NOP_FILE, IORING_NOP_FIXED_FILE,
// IORING_NOP_FIXED_BUFFER, IORING_NOP_TW. Each is probed (harness/probes/
// control.cc): kernels before them ignore nop_flags. Spec rules I121-I127.
#include <sys/uio.h>
#include <unistd.h>

#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/control/control_util.h"

namespace ringcheck {
namespace {

using control::ExactlyThese;
using control::Sqe;
using control::SubmitExpect;

class NopFlags : public control::ControlTest {
 protected:
  io_uring_sqe* Nop(uint64_t ud, unsigned nop_flags, uint8_t flags = 0) {
    io_uring_sqe* sqe = Sqe(r(), ud, flags);
    sqe->nop_flags = nop_flags;
    return sqe;
  }
  int32_t One(uint64_t ud, unsigned nop_flags, int fd = -1, unsigned len = 0,
              unsigned buf_index = 0, uint8_t flags = 0) {
    io_uring_sqe* sqe = Nop(ud, nop_flags, flags);
    sqe->fd = fd;
    sqe->len = len;
    sqe->buf_index = static_cast<uint16_t>(buf_index);
    if (!SubmitExpect(r(), 1)) return 1 << 30;
    auto got = ReapN(1);
    return got.size() == 1 ? got[0].res : (1 << 30);
  }
};

// I121: IORING_NOP_INJECT_RESULT posts sqe->len (as a signed value) as res.
TEST_P(NopFlags, InjectResultPostsLen) {
  RINGCHECK_RULE("I121");
  REQUIRE_FEATURE("nop_inject_result");
  EXPECT_RESULT(One(1, IORING_NOP_INJECT_RESULT, -1, 4321), 4321, "I121");
  EXPECT_RESULT(One(2, IORING_NOP_INJECT_RESULT, -1, static_cast<unsigned>(-EPERM)), -EPERM,
                "I121");
}

// I121: an injected error counts as a failure for the chain: the rest is
// cancelled; an injected positive result does not.
TEST_P(NopFlags, InjectedErrorBreaksTheChain) {
  RINGCHECK_RULE("I121 I2");
  REQUIRE_FEATURE("nop_inject_result");
  io_uring_sqe* a = Nop(1, IORING_NOP_INJECT_RESULT, IOSQE_IO_LINK);
  a->len = static_cast<unsigned>(-EIO);
  Sqe(r(), 2);
  io_uring_sqe* b = Nop(3, IORING_NOP_INJECT_RESULT, IOSQE_IO_LINK);
  b->len = 5;
  Sqe(r(), 4);
  ASSERT_TRUE(SubmitExpect(r(), 4));
  EXPECT_TRUE(ExactlyThese(ReapAllN(4), {{1, -EIO}, {2, -ECANCELED}, {3, 5}, {4, 0}}));
}

// I121: forced async, the injected result is the same.
TEST_P(NopFlags, InjectResultAsync) {
  RINGCHECK_RULE("I121 I16");
  REQUIRE_FEATURE("nop_inject_result");
  EXPECT_RESULT(One(1, IORING_NOP_INJECT_RESULT, -1, 77, 0, IOSQE_ASYNC), 77, "I121");
}

// I122: IORING_NOP_FILE looks sqe->fd up: -EBADF when not open, 0 when open.
TEST_P(NopFlags, FileLooksUpFd) {
  RINGCHECK_RULE("I122");
  REQUIRE_FEATURE("nop_file");
  EXPECT_RESULT(One(1, IORING_NOP_FILE, -1), -EBADF, "I122");
  control::Pipe p = control::Pipe::Make();
  EXPECT_RESULT(One(2, IORING_NOP_FILE, p.r.get()), 0, "I122");
}

// I123: with IORING_NOP_FIXED_FILE the fd is a fixed-table index: an empty
// or missing slot is -EBADF, a filled one 0.
TEST_P(NopFlags, FixedFileLooksUpSlot) {
  RINGCHECK_RULE("I123");
  REQUIRE_FEATURE("nop_fixed_file");
  control::Pipe p = control::Pipe::Make();
  int files[2] = {p.r.get(), -1};
  ASSERT_EQ(io_uring_register_files(r().get(), files, 2), 0);
  EXPECT_RESULT(One(1, IORING_NOP_FILE | IORING_NOP_FIXED_FILE, 0), 0, "I123");
  EXPECT_RESULT(One(2, IORING_NOP_FILE | IORING_NOP_FIXED_FILE, 1), -EBADF, "I123");
  EXPECT_RESULT(One(3, IORING_NOP_FILE | IORING_NOP_FIXED_FILE, 9), -EBADF, "I123");
}

// I124: IORING_NOP_FIXED_BUFFER looks sqe->buf_index up in the registered
// buffers: -EFAULT without one, 0 with one.
TEST_P(NopFlags, FixedBufferLooksUpIndex) {
  RINGCHECK_RULE("I124");
  REQUIRE_FEATURE("nop_fixed_buffer");
  EXPECT_RESULT(One(1, IORING_NOP_FIXED_BUFFER, -1, 0, 0), -EFAULT, "I124");
  static char buf[4096];
  iovec iov = {buf, sizeof buf};
  ASSERT_EQ(io_uring_register_buffers(r().get(), &iov, 1), 0);
  EXPECT_RESULT(One(2, IORING_NOP_FIXED_BUFFER, -1, 0, 0), 0, "I124");
  EXPECT_RESULT(One(3, IORING_NOP_FIXED_BUFFER, -1, 0, 5), -EFAULT, "I124");
}

// I125: IORING_NOP_TW completes through task work with the same result.
TEST_P(NopFlags, TaskWorkCompletionSameResult) {
  RINGCHECK_RULE("I125");
  REQUIRE_FEATURE("nop_tw");
  EXPECT_RESULT(One(1, IORING_NOP_TW), 0, "I125");
  EXPECT_RESULT(One(2, IORING_NOP_TW | IORING_NOP_INJECT_RESULT, -1, 12), 12, "I125");
}

// I125: task-work NOPs keep chain order.
TEST_P(NopFlags, TaskWorkNopsKeepChainOrder) {
  RINGCHECK_RULE("I125 I1");
  REQUIRE_FEATURE("nop_tw");
  for (uint64_t ud = 1; ud <= 4; ++ud) Nop(ud, IORING_NOP_TW, ud < 4 ? IOSQE_IO_LINK : 0);
  ASSERT_TRUE(SubmitExpect(r(), 4));
  auto got = ReapAllN(4);
  EXPECT_TRUE(control::ArrivedInOrder(got, {1, 2, 3, 4})) << "rule I125";
}

// I126: on kernels that know the flags, an unknown nop_flags bit is -EINVAL.
TEST_P(NopFlags, UnknownFlagEinval) {
  RINGCHECK_RULE("I126");
  REQUIRE_FEATURE("nop_inject_result");
  EXPECT_RESULT(One(1, 1U << 30), -EINVAL, "I126");
}

// I127: ASYNC_CANCEL does not find a NOP (it completes at issue): a chain
// NOP -> cancel of that NOP posts -ENOENT.
TEST_P(NopFlags, CompletedNopIsNotCancellable) {
  RINGCHECK_RULE("I127 I74");
  Sqe(r(), 1, IOSQE_IO_LINK);
  io_uring_sqe* c = Sqe(r(), 2);
  io_uring_prep_cancel64(c, 1, 0);
  c->user_data = 2;
  ASSERT_TRUE(SubmitExpect(r(), 2));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, 0}, {2, -ENOENT}}));
}

RINGCHECK_INSTANTIATE_DELIVERY_RINGS(NopFlags);

}  // namespace
}  // namespace ringcheck
