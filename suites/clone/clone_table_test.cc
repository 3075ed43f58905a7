// What a successful clone leaves in the destination's buffer table (C22-C24;
// io_uring_clone_buffers(3); kernel rsrc.c io_clone_buffers): which slot maps
// which memory, where the holes are, how large the table becomes.
//
// A slot is identified by fixed-buffer I/O: READ_FIXED through slot i into
// buffer b succeeds (and fills b) only if slot i maps b; a hole or an index
// past the table fails the request with -EFAULT.
#include <gtest/gtest.h>

#include <cerrno>

#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/clone/clone_util.h"

namespace ringcheck {
namespace {

class CloneBuffersTable : public CloneFixture {};

// C22: a plain clone gives the destination the source's table: same size,
// slot i mapping the source's buffer i.
TEST_F(CloneBuffersTable, WholeTableMapsTheSameMemory) {
  RINGCHECK_RULE("C22");
  ASSERT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd())), 0, "C22");
  for (unsigned i = 0; i < src_bufs_.count(); ++i) {
    EXPECT_TRUE(SlotMapsBuffer(*dst_, i, src_bufs_, i, file_.get())) << "rule C22, slot " << i;
  }
  EXPECT_TRUE(SlotIsEmpty(*dst_, src_bufs_.count(), {&src_bufs_, &dst_bufs_}, file_.get()))
      << "rule C22: an index past the table";
  EXPECT_EQ(BufferTableSizeDestructive(dst_->get()), 4) << "rule C22";
}

// C22: empty source slots become empty destination slots.
TEST_F(CloneBuffersTable, EmptySourceSlotsStayEmpty) {
  RINGCHECK_RULE("C22");
  auto sparse = NewRing();
  if (sparse == nullptr) return;
  ASSERT_EQ(io_uring_register_buffers_sparse(sparse->get(), 3), 0);
  ASSERT_EQ(
      io_uring_register_buffers_update_tag(sparse->get(), 1, dst_bufs_.iovecs() + 1, nullptr, 1),
      1);
  ASSERT_RESULT(CloneRaw(dst_->fd(), CloneArg(static_cast<uint32_t>(sparse->fd()))), 0, "C22");
  EXPECT_TRUE(SlotIsEmpty(*dst_, 0, {&src_bufs_, &dst_bufs_}, file_.get())) << "rule C22";
  EXPECT_TRUE(SlotMapsBuffer(*dst_, 1, dst_bufs_, 1, file_.get())) << "rule C22";
  EXPECT_TRUE(SlotIsEmpty(*dst_, 2, {&src_bufs_, &dst_bufs_}, file_.get())) << "rule C22";
  EXPECT_EQ(BufferTableSizeDestructive(dst_->get()), 3) << "rule C22";
}

// C22, C27: cloning to dst_off on an empty destination leaves holes below it.
TEST_F(CloneBuffersTable, DestinationOffsetLeavesHolesBelow) {
  RINGCHECK_RULE("C22 C27");
  REQUIRE_FEATURE("clone_buffers_offset");
  ASSERT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), 0, /*src_off=*/1, /*dst_off=*/2, 2)), 0,
                "C22");
  EXPECT_TRUE(SlotIsEmpty(*dst_, 0, {&src_bufs_, &dst_bufs_}, file_.get())) << "rule C22: hole";
  EXPECT_TRUE(SlotIsEmpty(*dst_, 1, {&src_bufs_, &dst_bufs_}, file_.get())) << "rule C22: hole";
  EXPECT_TRUE(SlotMapsBuffer(*dst_, 2, src_bufs_, 1, file_.get())) << "rule C22";
  EXPECT_TRUE(SlotMapsBuffer(*dst_, 3, src_bufs_, 2, file_.get())) << "rule C22";
  EXPECT_TRUE(SlotIsEmpty(*dst_, 4, {&src_bufs_, &dst_bufs_}, file_.get()))
      << "rule C22: past the table";
  EXPECT_EQ(BufferTableSizeDestructive(dst_->get()), 4) << "rule C22: dst_off + nr";
}

// C22, C27: DST_REPLACE of a range keeps the destination's other slots.
TEST_F(CloneBuffersTable, ReplacedRangeKeepsOtherSlots) {
  RINGCHECK_RULE("C22 C27");
  REQUIRE_FEATURE("clone_buffers_offset");
  ASSERT_EQ(dst_bufs_.RegisterWith(dst_->get()), 0);
  ASSERT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), IORING_REGISTER_DST_REPLACE, 3, 1, 1)), 0,
                "C22");
  EXPECT_TRUE(SlotMapsBuffer(*dst_, 0, dst_bufs_, 0, file_.get())) << "rule C22: kept";
  EXPECT_TRUE(SlotMapsBuffer(*dst_, 1, src_bufs_, 3, file_.get())) << "rule C22: replaced";
  EXPECT_TRUE(SlotMapsBuffer(*dst_, 2, dst_bufs_, 2, file_.get())) << "rule C22: kept";
  EXPECT_TRUE(SlotMapsBuffer(*dst_, 3, dst_bufs_, 3, file_.get())) << "rule C22: kept";
  EXPECT_EQ(BufferTableSizeDestructive(dst_->get()), 4) << "rule C22: size unchanged";
}

// C22: a range reaching past the destination's table grows it; slots between
// the old end and dst_off become holes.
TEST_F(CloneBuffersTable, ReplacePastTheEndGrowsTheTable) {
  RINGCHECK_RULE("C22 C27");
  REQUIRE_FEATURE("clone_buffers_offset");
  Buffers own(2);
  ASSERT_EQ(own.RegisterWith(dst_->get()), 0);
  ASSERT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), IORING_REGISTER_DST_REPLACE, 0, 3, 2)), 0,
                "C22");
  EXPECT_TRUE(SlotMapsBuffer(*dst_, 0, own, 0, file_.get())) << "rule C22: kept";
  EXPECT_TRUE(SlotMapsBuffer(*dst_, 1, own, 1, file_.get())) << "rule C22: kept";
  EXPECT_TRUE(SlotIsEmpty(*dst_, 2, {&src_bufs_, &dst_bufs_, &own}, file_.get()))
      << "rule C22: new hole";
  EXPECT_TRUE(SlotMapsBuffer(*dst_, 3, src_bufs_, 0, file_.get())) << "rule C22";
  EXPECT_TRUE(SlotMapsBuffer(*dst_, 4, src_bufs_, 1, file_.get())) << "rule C22";
  EXPECT_EQ(BufferTableSizeDestructive(dst_->get()), 5) << "rule C22: max(old, dst_off + nr)";
}

// C22: replacing with a whole smaller source keeps the destination's slots
// past the source's size (the table is max(old, new) long).
TEST_F(CloneBuffersTable, ReplaceWithSmallerSourceKeepsTheTail) {
  RINGCHECK_RULE("C22 C27");
  REQUIRE_FEATURE("clone_buffers_offset");
  ASSERT_EQ(dst_bufs_.RegisterWith(dst_->get()), 0);
  auto small = NewRing();
  if (small == nullptr) return;
  Buffers two(2);
  ASSERT_EQ(two.RegisterWith(small->get()), 0);
  ASSERT_RESULT(CloneRaw(dst_->fd(),
                         CloneArg(static_cast<uint32_t>(small->fd()), IORING_REGISTER_DST_REPLACE)),
                0, "C22");
  EXPECT_TRUE(SlotMapsBuffer(*dst_, 0, two, 0, file_.get())) << "rule C22: replaced";
  EXPECT_TRUE(SlotMapsBuffer(*dst_, 1, two, 1, file_.get())) << "rule C22: replaced";
  EXPECT_TRUE(SlotMapsBuffer(*dst_, 2, dst_bufs_, 2, file_.get())) << "rule C22: kept";
  EXPECT_TRUE(SlotMapsBuffer(*dst_, 3, dst_bufs_, 3, file_.get())) << "rule C22: kept";
}

// C23: DST_REPLACE on a destination without a table is a plain clone.
TEST_F(CloneBuffersTable, ReplaceWithoutDestinationTableIsPlainClone) {
  RINGCHECK_RULE("C23 C27");
  REQUIRE_FEATURE("clone_buffers_offset");
  ASSERT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd(), IORING_REGISTER_DST_REPLACE)), 0, "C23");
  for (unsigned i = 0; i < src_bufs_.count(); ++i) {
    EXPECT_TRUE(SlotMapsBuffer(*dst_, i, src_bufs_, i, file_.get())) << "rule C23, slot " << i;
  }
  EXPECT_EQ(BufferTableSizeDestructive(dst_->get()), 4) << "rule C23";
}

// C24: a ring cloning from itself already has a table: -EBUSY.
TEST_F(CloneBuffersTable, SelfCloneIsBusy) {
  RINGCHECK_RULE("C24 C5");
  EXPECT_RESULT(CloneRaw(src_->fd(), CloneArg(SrcFd())), -EBUSY, "C24");
}

// C24: with DST_REPLACE a ring copies slots within its own table.
TEST_F(CloneBuffersTable, SelfCloneWithReplaceCopiesWithinTheRing) {
  RINGCHECK_RULE("C24 C27");
  REQUIRE_FEATURE("clone_buffers_offset");
  ASSERT_RESULT(CloneRaw(src_->fd(), CloneArg(SrcFd(), IORING_REGISTER_DST_REPLACE, 0, 2, 2)), 0,
                "C24");
  EXPECT_TRUE(SlotMapsBuffer(*src_, 0, src_bufs_, 0, file_.get())) << "rule C24";
  EXPECT_TRUE(SlotMapsBuffer(*src_, 1, src_bufs_, 1, file_.get())) << "rule C24";
  EXPECT_TRUE(SlotMapsBuffer(*src_, 2, src_bufs_, 0, file_.get())) << "rule C24: copy of 0";
  EXPECT_TRUE(SlotMapsBuffer(*src_, 3, src_bufs_, 1, file_.get())) << "rule C24: copy of 1";
}

}  // namespace
}  // namespace ringcheck
