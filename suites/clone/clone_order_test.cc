// Which refusal wins when several apply: the order of the checks in the
// kernel (6.13+: register.c __io_uring_register, then rsrc.c
// io_register_clone_buffers, then io_clone_buffers). 6.12 checked "busy"
// first (rule C26, clone_612_test.cc); those pairs here need the probe
// clone_buffers_offset, which only 6.13+ passes.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "harness/configs.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/pages.h"
#include "harness/task.h"
#include "suites/clone/clone_util.h"

namespace ringcheck {
namespace {

class CloneBuffersOrder : public CloneFixture {
 protected:
  // A number that is not an open fd.
  static uint32_t ClosedFd() {
    int fd = dup(0);
    close(fd);
    return static_cast<uint32_t>(fd);
  }
};

// C1, C2: the generic "not the submitter" check of io_uring_register comes
// before the opcode looks at its argument.
TEST_F(CloneBuffersOrder, SubmitterCheckPrecedesArgumentCheck) {
  RINGCHECK_RULE("C1 C2");
  REQUIRE_FEATURE("setup_single_issuer");
  std::unique_ptr<Ring> owned;
  InFreshThread([&] { owned = NewRing("single_issuer"); });
  if (owned == nullptr) return;
  EXPECT_RESULT(io_uring_register(owned->fd(), IORING_REGISTER_CLONE_BUFFERS, nullptr, 0), -EEXIST,
                "C2 before C1");
}

// C3, C5: the argument is copied before "busy" is looked at (6.13+).
TEST_F(CloneBuffersOrder, FaultPrecedesBusy) {
  RINGCHECK_RULE("C3 C5");
  REQUIRE_FEATURE("clone_buffers_offset");
  ASSERT_EQ(dst_bufs_.RegisterWith(dst_->get()), 0);
  InaccessiblePage unreadable;
  ASSERT_TRUE(unreadable.ok());
  void* page = unreadable.get();
  EXPECT_RESULT(io_uring_register(dst_->fd(), IORING_REGISTER_CLONE_BUFFERS, page, 1), -EFAULT,
                "C3 before C5");
}

// C4, C5: unknown flags are refused before "busy" (6.13+).
TEST_F(CloneBuffersOrder, UnknownFlagPrecedesBusy) {
  RINGCHECK_RULE("C4 C5");
  REQUIRE_FEATURE("clone_buffers_offset");
  ASSERT_EQ(dst_bufs_.RegisterWith(dst_->get()), 0);
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), 1u << 2)), -EINVAL, "C4 before C5");
}

// C5, C6, C9: "busy" comes before pad[] and before the source is looked up
// (on 6.12 as well).
TEST_F(CloneBuffersOrder, BusyPrecedesPadAndSource) {
  RINGCHECK_RULE("C5 C6 C9");
  ASSERT_EQ(dst_bufs_.RegisterWith(dst_->get()), 0);
  CloneBuffersArg arg = CloneArg(ClosedFd());
  arg.pad[0] = 1;
  EXPECT_RESULT(CloneRaw(dst_->fd(), arg), -EBUSY, "C5 before C6 and C9");
}

// C6, C9: pad[] is checked before the source is looked up.
TEST_F(CloneBuffersOrder, PadPrecedesSourceLookup) {
  RINGCHECK_RULE("C6 C9");
  CloneBuffersArg arg = CloneArg(ClosedFd());
  arg.pad[2] = 1;
  EXPECT_RESULT(CloneRaw(dst_->fd(), arg), -EINVAL, "C6 before C9");
}

// C10, C16: a non-ring source is refused before anything about its buffers.
TEST_F(CloneBuffersOrder, NotARingPrecedesRangeChecks) {
  RINGCHECK_RULE("C10 C16");
  REQUIRE_FEATURE("clone_buffers_offset");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(static_cast<uint32_t>(file_.get()), 0, 0, 0, 99)),
                -EOPNOTSUPP, "C10 before C16");
}

// C13, C15: offsets without nr are refused before the source's table is
// looked at.
TEST_F(CloneBuffersOrder, OffsetsWithoutNrPrecedeEmptySource) {
  RINGCHECK_RULE("C13 C15");
  REQUIRE_FEATURE("clone_buffers_offset");
  auto empty = NewRing();
  if (empty == nullptr) return;
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(static_cast<uint32_t>(empty->fd()), 0, 0, 1, 0)),
                -EINVAL, "C13 before C15");
}

// C15, C16: an empty source is -ENXIO whatever nr asks for.
TEST_F(CloneBuffersOrder, EmptySourcePrecedesRangeChecks) {
  RINGCHECK_RULE("C15 C16 C18");
  REQUIRE_FEATURE("clone_buffers_offset");
  auto empty = NewRing();
  if (empty == nullptr) return;
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(static_cast<uint32_t>(empty->fd()), 0, 7, 0, 5)),
                -ENXIO, "C15 before C16 and C18");
}

// C16, C18: nr above the table size is -EINVAL even when the range would
// also overflow.
TEST_F(CloneBuffersOrder, NrAboveTablePrecedesSourceOverflow) {
  RINGCHECK_RULE("C16 C18");
  REQUIRE_FEATURE("clone_buffers_offset");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), 0, 0xffffffffu, 0, 5)), -EINVAL,
                "C16 before C18");
}

// C18, C20: the source range is checked before the destination's size.
TEST_F(CloneBuffersOrder, SourceOverflowPrecedesDestinationLimit) {
  RINGCHECK_RULE("C18 C20");
  REQUIRE_FEATURE("clone_buffers_offset");
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), 0, 3, kMaxRegBuffers, 2)), -EOVERFLOW,
                "C18 before C20");
}

}  // namespace
}  // namespace ringcheck
