// liburing's io_uring_clone_buffers and io_uring_clone_buffers_offset
// (io_uring_clone_buffers(3); liburing 2.9 src/register.c): how they name the
// source and the destination (fd, or registered index), and what they
// return.
//
// What liburing 2.9 does, read from its code: the source is named by its
// registered index with IORING_REGISTER_SRC_REGISTERED when the source ring
// is registered and the kernel has IORING_FEAT_REG_REG_RING, else by its fd;
// the destination is called through its registered index under the same
// condition; the kernel's answer is returned unchanged.
#include <gtest/gtest.h>

#include <cerrno>

#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/task.h"
#include "suites/clone/clone_util.h"

namespace ringcheck {
namespace {

class LiburingClone : public CloneFixture {};

// C29, C31: with neither ring registered, io_uring_clone_buffers clones the
// whole table from the source's fd.
TEST_F(LiburingClone, ClonesTheWholeTable) {
  RINGCHECK_RULE("C29 C31");
  ASSERT_RESULT(io_uring_clone_buffers(dst_->get(), src_->get()), 0, "C29");
  for (unsigned i = 0; i < src_bufs_.count(); ++i) {
    EXPECT_TRUE(SlotMapsBuffer(*dst_, i, src_bufs_, i, file_.get())) << "rule C29, slot " << i;
  }
}

// C30: io_uring_clone_buffers_offset passes offsets, nr and DST_REPLACE on.
TEST_F(LiburingClone, OffsetVariantPassesRangeAndFlags) {
  RINGCHECK_RULE("C30 C27");
  REQUIRE_FEATURE("clone_buffers_offset");
  ASSERT_RESULT(io_uring_clone_buffers_offset(dst_->get(), src_->get(), /*dst_off=*/2,
                                              /*src_off=*/1, /*nr=*/1, 0),
                0, "C30");
  EXPECT_TRUE(SlotMapsBuffer(*dst_, 2, src_bufs_, 1, file_.get())) << "rule C30";
  EXPECT_RESULT(io_uring_clone_buffers_offset(dst_->get(), src_->get(), 0, 3, 1, 0), -EBUSY,
                "C30: no DST_REPLACE, table exists");
  ASSERT_RESULT(
      io_uring_clone_buffers_offset(dst_->get(), src_->get(), 0, 3, 1, IORING_REGISTER_DST_REPLACE),
      0, "C30: DST_REPLACE passed on");
  EXPECT_TRUE(SlotMapsBuffer(*dst_, 0, src_bufs_, 3, file_.get())) << "rule C30";
  EXPECT_TRUE(SlotMapsBuffer(*dst_, 2, src_bufs_, 1, file_.get())) << "rule C30: kept";
}

// C31: a registered source is named by its index, so cloning still works
// after its fd was closed.
TEST_F(LiburingClone, RegisteredSourceIsFoundByItsIndex) {
  RINGCHECK_RULE("C31");
  REQUIRE_FEATURE("register_ring_fds");
  REQUIRE_FEATURE("feat_reg_reg_ring");
  InFreshThread([&] {
    auto source = NewRing();
    if (source == nullptr) return;
    ASSERT_EQ(dst_bufs_.RegisterWith(source->get()), 0);
    ASSERT_EQ(io_uring_register_ring_fd(source->get()), 1);
    ASSERT_EQ(io_uring_close_ring_fd(source->get()), 1);
    EXPECT_RESULT(io_uring_clone_buffers(dst_->get(), source->get()), 0, "C31: by index");
  });
  EXPECT_TRUE(SlotMapsBuffer(*dst_, 3, dst_bufs_, 3, file_.get())) << "rule C31";
}

// C32: a registered destination is called through its index, so cloning
// into it still works after its fd was closed.
TEST_F(LiburingClone, RegisteredDestinationIsCalledThroughItsIndex) {
  RINGCHECK_RULE("C32");
  REQUIRE_FEATURE("register_ring_fds");
  REQUIRE_FEATURE("feat_reg_reg_ring");
  InFreshThread([&] {
    auto dest = NewRing();
    if (dest == nullptr) return;
    ASSERT_EQ(io_uring_register_ring_fd(dest->get()), 1);
    ASSERT_EQ(io_uring_close_ring_fd(dest->get()), 1);
    EXPECT_RESULT(io_uring_clone_buffers(dest->get(), src_->get()), 0, "C32: by index");
    EXPECT_TRUE(SlotMapsBuffer(*dest, 1, src_bufs_, 1, file_.get())) << "rule C32";
  });
}

// C33: the kernel's refusals come back unchanged.
TEST_F(LiburingClone, ReturnsTheKernelsAnswer) {
  RINGCHECK_RULE("C33");
  auto empty = NewRing();
  if (empty == nullptr) return;
  EXPECT_RESULT(io_uring_clone_buffers(dst_->get(), empty->get()), -ENXIO, "C33: empty source");
  ASSERT_RESULT(io_uring_clone_buffers(dst_->get(), src_->get()), 0, "C33");
  EXPECT_RESULT(io_uring_clone_buffers(dst_->get(), src_->get()), -EBUSY, "C33: busy");
}

// C34, C31: the source's index is looked up in the *calling* thread's table.
// A source registered by another thread is not found there (-EINVAL without
// an io_uring context), or worse, another ring at that index is cloned. The
// way out is the raw call with the source's fd (liburing 2.9 has no
// function that skips the index).
TEST_F(LiburingClone, RegisteredSourceResolvesInTheCallingThread) {
  RINGCHECK_RULE("C34 C31 C7");
  REQUIRE_FEATURE("register_ring_fds");
  REQUIRE_FEATURE("feat_reg_reg_ring");
  auto dst_a = NewRing();
  auto dst_b = NewRing();
  auto bystander = NewRing();  // a different ring, with dst_bufs_
  if (dst_a == nullptr || dst_b == nullptr || bystander == nullptr) return;
  ASSERT_EQ(dst_bufs_.RegisterWith(bystander->get()), 0);
  InFreshThread([&] {
    auto source = NewRing();
    if (source == nullptr) return;
    Buffers own(4);
    ASSERT_EQ(own.RegisterWith(source->get()), 0);
    ASSERT_EQ(io_uring_register_ring_fd(source->get()), 1);
    ASSERT_EQ(source->get()->enter_ring_fd, 0);
    InFreshThread([&] {
      EXPECT_RESULT(io_uring_clone_buffers(dst_a->get(), source->get()), -EINVAL,
                    "C34: no io_uring context in this thread");
    });
    InFreshThread([&] {
      ASSERT_EQ(RegisterRingSlot(bystander->fd(), 0), 0);
      EXPECT_RESULT(io_uring_clone_buffers(dst_a->get(), source->get()), 0, "C34");
      EXPECT_TRUE(SlotMapsBuffer(*dst_a, 0, dst_bufs_, 0, file_.get()))
          << "rule C34: index 0 here is the bystander, whose buffers were cloned";
      EXPECT_RESULT(CloneRaw(dst_b->fd(), CloneArg(static_cast<uint32_t>(source->fd()))), 0,
                    "C34: by fd");
      EXPECT_TRUE(SlotMapsBuffer(*dst_b, 0, own, 0, file_.get())) << "rule C34: the real source";
    });
  });
}

}  // namespace
}  // namespace ringcheck
