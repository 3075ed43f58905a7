// CLONE_BUFFERS as Linux 6.12 first shipped it (rule C26; io_uring_clone_buffers(3):
// "6.12 would fail that operation with -EBUSY"): the 32-byte argument was
// { src_fd, flags, pad[6] }, "busy" was checked before the argument was even
// copied, and only SRC_REGISTERED was a known flag. These tests run where the
// probe clone_buffers_offset fails, i.e. CLONE_BUFFERS exists but rejects a
// non-zero nr; newer kernels SKIP them (their rules are C3-C6 and C13-C20).
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cerrno>

#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/pages.h"
#include "suites/clone/clone_util.h"

namespace ringcheck {
namespace {

class CloneBuffers612 : public CloneFixture {
 protected:
  void SetUpCast() override {
    if (Supported("clone_buffers_offset")) {
      GTEST_SKIP() << "environment:kernel_has_clone_buffers_offset (C26 describes 6.12)";
    }
  }
};

// C26: "busy" wins even over an argument that cannot be read.
TEST_F(CloneBuffers612, BusyPrecedesFault) {
  RINGCHECK_RULE("C26");
  ASSERT_EQ(dst_bufs_.RegisterWith(dst_->get()), 0);
  InaccessiblePage unreadable;
  ASSERT_TRUE(unreadable.ok());
  void* page = unreadable.get();
  EXPECT_RESULT(io_uring_register(dst_->fd(), IORING_REGISTER_CLONE_BUFFERS, page, 1), -EBUSY,
                "C26");
}

// C26: "busy" wins over an unknown flag.
TEST_F(CloneBuffers612, BusyPrecedesUnknownFlag) {
  RINGCHECK_RULE("C26");
  ASSERT_EQ(dst_bufs_.RegisterWith(dst_->get()), 0);
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), 1u << 2)), -EBUSY, "C26");
}

// C26: DST_REPLACE is an unknown flag.
TEST_F(CloneBuffers612, ReplaceFlagIsInvalid) {
  RINGCHECK_RULE("C26");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), IORING_REGISTER_DST_REPLACE)), -EINVAL,
                "C26");
}

// C26: src_off, dst_off and nr lie in pad[]: any non-zero value is -EINVAL.
TEST_F(CloneBuffers612, RangeFieldsArePadding) {
  RINGCHECK_RULE("C26");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), 0, 1, 0, 1)), -EINVAL, "C26: src_off");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), 0, 0, 1, 1)), -EINVAL, "C26: dst_off");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), 0, 0, 0, 4)), -EINVAL, "C26: nr");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd())), 0, "C26: all zero clones everything");
}

}  // namespace
}  // namespace ringcheck
