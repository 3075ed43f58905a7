// IORING_REGISTER_CLONE_BUFFERS refusals, one per test (io_uring_register(2)
// "IORING_REGISTER_CLONE_BUFFERS", io_uring_clone_buffers(3); kernel
// register.c __io_uring_register, rsrc.c io_register_clone_buffers and
// io_clone_buffers). Which error wins when several apply is in
// clone_order_test.cc.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/pages.h"
#include "harness/task.h"
#include "suites/clone/clone_util.h"

namespace ringcheck {
namespace {

class CloneBuffers : public CloneFixture {};

// C1: the argument must be given, and nr_args must be exactly 1.
TEST_F(CloneBuffers, NullArgumentIsInvalid) {
  RINGCHECK_RULE("C1");
  EXPECT_RESULT(io_uring_register(dst_->fd(), IORING_REGISTER_CLONE_BUFFERS, nullptr, 1), -EINVAL,
                "C1: arg NULL");
}

TEST_F(CloneBuffers, NrArgsOtherThanOneIsInvalid) {
  RINGCHECK_RULE("C1");
  CloneBuffersArg arg = CloneArg(SrcFd());
  EXPECT_RESULT(io_uring_register(dst_->fd(), IORING_REGISTER_CLONE_BUFFERS, &arg, 0), -EINVAL,
                "C1: nr_args 0");
  EXPECT_RESULT(io_uring_register(dst_->fd(), IORING_REGISTER_CLONE_BUFFERS, &arg, 2), -EINVAL,
                "C1: nr_args 2");
  EXPECT_RESULT(CloneRaw(dst_->fd(), arg), 0, "C1: the same argument with nr_args 1 works");
}

// C3: an argument the kernel cannot read is -EFAULT.
TEST_F(CloneBuffers, UnreadableArgumentFaults) {
  RINGCHECK_RULE("C3");
  InaccessiblePage unreadable;
  ASSERT_TRUE(unreadable.ok());
  void* page = unreadable.get();
  EXPECT_RESULT(io_uring_register(dst_->fd(), IORING_REGISTER_CLONE_BUFFERS, page, 1), -EFAULT,
                "C3");
}

// C4: flags other than SRC_REGISTERED and DST_REPLACE are -EINVAL.
TEST_F(CloneBuffers, UnknownFlagIsInvalid) {
  RINGCHECK_RULE("C4");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), 1u << 2)), -EINVAL, "C4: bit 2");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), 1u << 31)), -EINVAL, "C4: bit 31");
}

// C5: a destination that already has buffers is -EBUSY without DST_REPLACE.
TEST_F(CloneBuffers, DestinationWithBuffersIsBusy) {
  RINGCHECK_RULE("C5");
  ASSERT_EQ(dst_bufs_.RegisterWith(dst_->get()), 0);
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd())), -EBUSY, "C5");
}

// C5: a sparse table (slots but no buffers) counts as a table.
TEST_F(CloneBuffers, SparseDestinationTableIsBusy) {
  RINGCHECK_RULE("C5");
  ASSERT_EQ(io_uring_register_buffers_sparse(dst_->get(), 2), 0);
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd())), -EBUSY, "C5: sparse table");
}

// C6: every word of pad[] must be zero.
TEST_F(CloneBuffers, NonZeroPadIsInvalid) {
  RINGCHECK_RULE("C6");
  for (unsigned i = 0; i < 3; ++i) {
    CloneBuffersArg arg = CloneArg(SrcFd());
    arg.pad[i] = 1;
    EXPECT_RESULT(CloneRaw(dst_->fd(), arg), -EINVAL, "C6: pad[" + std::to_string(i) + "]");
  }
}

// C7: SRC_REGISTERED from a task without an io_uring context is -EINVAL.
TEST_F(CloneBuffers, RegisteredSourceWithoutTaskContextIsInvalid) {
  RINGCHECK_RULE("C7");
  InFreshThread([&] {
    EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(0, IORING_REGISTER_SRC_REGISTERED)), -EINVAL,
                  "C7: no task context");
  });
}

// C7: SRC_REGISTERED with an index from 16 up is -EINVAL.
TEST_F(CloneBuffers, RegisteredSourceIndexSixteenIsInvalid) {
  RINGCHECK_RULE("C7");
  REQUIRE_FEATURE("register_ring_fds");
  InFreshThread([&] {
    ASSERT_EQ(RegisterRingSlot(src_->fd(), 0), 0);
    EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(16, IORING_REGISTER_SRC_REGISTERED)), -EINVAL,
                  "C7: index 16");
  });
}

// C8: SRC_REGISTERED naming an empty slot is -EBADF; the full one works.
TEST_F(CloneBuffers, RegisteredSourceEmptySlotIsBadf) {
  RINGCHECK_RULE("C8");
  REQUIRE_FEATURE("register_ring_fds");
  InFreshThread([&] {
    ASSERT_EQ(RegisterRingSlot(src_->fd(), 0), 0);
    EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(1, IORING_REGISTER_SRC_REGISTERED)), -EBADF,
                  "C8: slot 1 is empty");
    EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(0, IORING_REGISTER_SRC_REGISTERED)), 0,
                  "C8: slot 0 holds the source");
  });
}

// C9: a plain src_fd that is not open is -EBADF.
TEST_F(CloneBuffers, SourceFdNotOpenIsBadf) {
  RINGCHECK_RULE("C9");
  int unused = dup(0);
  ASSERT_GE(unused, 0);
  close(unused);
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(static_cast<uint32_t>(unused))), -EBADF, "C9");
}

// C10: a src_fd that is open but not an io_uring is -EOPNOTSUPP.
TEST_F(CloneBuffers, SourceNotARingIsOpnotsupp) {
  RINGCHECK_RULE("C10");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(static_cast<uint32_t>(file_.get()))), -EOPNOTSUPP,
                "C10: a regular file");
}

// C13: src_off or dst_off without nr is -EINVAL.
TEST_F(CloneBuffers, OffsetsWithoutNrAreInvalid) {
  RINGCHECK_RULE("C13 C27");
  REQUIRE_FEATURE("clone_buffers_offset");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), 0, 1, 0, 0)), -EINVAL, "C13: src_off");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), 0, 0, 1, 0)), -EINVAL, "C13: dst_off");
}

// C15: a source without a buffer table is -ENXIO.
TEST_F(CloneBuffers, EmptySourceIsNxio) {
  RINGCHECK_RULE("C15");
  auto empty = NewRing();
  if (empty == nullptr) return;
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(static_cast<uint32_t>(empty->fd()))), -ENXIO, "C15");
}

// C16: nr larger than the source table is -EINVAL.
TEST_F(CloneBuffers, NrAboveSourceTableIsInvalid) {
  RINGCHECK_RULE("C16 C27");
  REQUIRE_FEATURE("clone_buffers_offset");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), 0, 0, 0, 5)), -EINVAL, "C16: nr 5 of 4");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), 0, 0, 0, 4)), 0, "C16: nr 4 of 4");
}

// C17: nr above IORING_MAX_REG_BUFFERS is -EINVAL, even from the largest
// possible source table (16384 sparse slots). The kernel's own "nr > 16384"
// branch can never be the one that fires: a table holds at most 16384, so
// the "nr > table size" check (C16) always comes first with the same errno.
TEST_F(CloneBuffers, NrAboveMaxRegBuffersIsInvalid) {
  RINGCHECK_RULE("C17 C16");
  REQUIRE_FEATURE("clone_buffers_offset");
  auto big = NewRing();
  if (big == nullptr) return;
  ASSERT_EQ(io_uring_register_buffers_sparse(big->get(), kMaxRegBuffers), 0);
  const uint32_t big_fd = static_cast<uint32_t>(big->fd());
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(big_fd, 0, 0, 0, kMaxRegBuffers + 1)), -EINVAL,
                "C17: nr 16385");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(big_fd, 0, 0, 0, kMaxRegBuffers)), 0,
                "C17: nr 16384 is allowed");
}

// C18: a source range that ends past the table, or whose end overflows a
// u32, is -EOVERFLOW.
TEST_F(CloneBuffers, SourceRangePastTableIsOverflow) {
  RINGCHECK_RULE("C18 C27");
  REQUIRE_FEATURE("clone_buffers_offset");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), 0, 3, 0, 2)), -EOVERFLOW,
                "C18: slots 3..4 of 4");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), 0, 0xffffffffu, 0, 1)), -EOVERFLOW,
                "C18: src_off + nr wraps");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), 0, 2, 0, 2)), 0, "C18: slots 2..3 fit");
}

// C19: dst_off + nr overflowing a u32 is -EOVERFLOW.
TEST_F(CloneBuffers, DestinationOffsetWrapIsOverflow) {
  RINGCHECK_RULE("C19 C27");
  REQUIRE_FEATURE("clone_buffers_offset");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), 0, 0, 0xffffffffu, 1)), -EOVERFLOW, "C19");
}

// C20: a destination table past IORING_MAX_REG_BUFFERS is -EINVAL; ending
// exactly at 16384 is allowed.
TEST_F(CloneBuffers, DestinationPastMaxRegBuffersIsInvalid) {
  RINGCHECK_RULE("C20 C27");
  REQUIRE_FEATURE("clone_buffers_offset");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), 0, 0, kMaxRegBuffers - 1, 2)), -EINVAL,
                "C20: ends at 16385");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), 0, 0, kMaxRegBuffers - 1, 1)), 0,
                "C20: ends at 16384");
}

}  // namespace
}  // namespace ringcheck
