// Using a ring through its registered index: io_uring_enter(2)
// IORING_ENTER_REGISTERED_RING and io_uring_register(2)
// IORING_REGISTER_USE_REGISTERED_RING, and whose table an index is looked up
// in (the calling thread's; kernel io_uring.c io_uring_enter, register.c
// io_uring_register_get_file).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>

#include "harness/configs.h"
#include "harness/features.h"
#include "harness/in_child.h"
#include "harness/matchers.h"
#include "harness/task.h"
#include "suites/ringfd/ringfd_util.h"

namespace ringcheck {
namespace {

// B14: a task that has no io_uring context has no table: -EINVAL.
TEST(RingFdIndex, EnterWithoutTaskContextIsInvalid) {
  RINGCHECK_RULE("B14");
  REQUIRE_FEATURE("enter_registered_ring");
  InFreshThread([] { EXPECT_RESULT(EnterThroughSlot(0), -EINVAL, "B14: no task context"); });
}

// B14: an index from 16 up is -EINVAL even with a table.
TEST(RingFdIndex, EnterWithIndexSixteenIsInvalid) {
  RINGCHECK_RULE("B14");
  REQUIRE_FEATURE("enter_registered_ring");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  InFreshThread([&] {
    ASSERT_RESULT(RegisterRingSlot(ring->fd(), 0), 0, "B14: gives the thread a table");
    EXPECT_RESULT(EnterThroughSlot(kRingSlots), -EINVAL, "B14: index 16");
    EXPECT_RESULT(EnterThroughSlot(0xffffffffu), -EINVAL, "B14: index -1U");
  });
}

// B15: an empty slot is -EBADF.
TEST(RingFdIndex, EnterThroughEmptySlotIsBadf) {
  RINGCHECK_RULE("B15");
  REQUIRE_FEATURE("enter_registered_ring");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  InFreshThread([&] {
    ASSERT_RESULT(RegisterRingSlot(ring->fd(), 0), 0, "B15: gives the thread a table");
    EXPECT_RESULT(EnterThroughSlot(0), 0, "B15: slot 0 holds the ring");
    EXPECT_RESULT(EnterThroughSlot(1), -EBADF, "B15: slot 1 is empty");
  });
}

// B16: io_uring_register with USE_REGISTERED_RING resolves the index like
// io_uring_enter does: works for a full slot, -EINVAL without a table or
// from index 16, -EBADF for an empty slot.
TEST(RingFdIndex, RegisterThroughSlotFollowsEnterRules) {
  RINGCHECK_RULE("B16");
  REQUIRE_FEATURE("register_use_registered_ring");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  InFreshThread([&] {
    EXPECT_RESULT(ProbeThroughSlot(0), -EINVAL, "B16: no task context");
    ASSERT_RESULT(RegisterRingSlot(ring->fd(), 0), 0, "B16");
    EXPECT_RESULT(ProbeThroughSlot(0), 0, "B16: full slot");
    EXPECT_RESULT(ProbeThroughSlot(1), -EBADF, "B16: empty slot");
    EXPECT_RESULT(ProbeThroughSlot(kRingSlots), -EINVAL, "B16: index 16");
  });
}

// B16: what the register opcode acts on is the ring in the slot: buffers
// registered through the index belong to that ring.
TEST(RingFdIndex, RegisterThroughSlotActsOnThatRing) {
  RINGCHECK_RULE("B16");
  REQUIRE_FEATURE("register_use_registered_ring");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  InFreshThread([&] {
    ASSERT_RESULT(RegisterRingSlot(ring->fd(), 3), 3, "B16");
    static char buf[4096];
    iovec iov = {buf, sizeof buf};
    EXPECT_RESULT(io_uring_register(
                      3, IORING_REGISTER_BUFFERS | IORING_REGISTER_USE_REGISTERED_RING, &iov, 1),
                  0, "B16");
    // The ring now has a buffer table: a second registration on its fd is busy.
    EXPECT_RESULT(io_uring_register_buffers(ring->get(), &iov, 1), -EBUSY,
                  "B16: the buffers went to the ring in slot 3");
  });
}

// B18: a forked child does not inherit the parent's slots; it has no io_uring
// task context at all, so the index is -EINVAL there.
TEST(RingFdIndex, ForkedChildHasNoSlots) {
  RINGCHECK_RULE("B18");
  REQUIRE_FEATURE("enter_registered_ring");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  InFreshThread([&] {
    ASSERT_RESULT(RegisterRingSlot(ring->fd(), 0), 0, "B18");
    ASSERT_RESULT(EnterThroughSlot(0), 0, "B18: the parent's slot works");
    ChildRun run = InChild([](ChildChannel& child) { child.Put(0, EnterThroughSlot(0)); });
    ASSERT_CHILD_RAN(run);
    EXPECT_RESULT(run.Value(0), -EINVAL, "B18: slot 0 in the child");
  });
}

// B19: another thread without an io_uring context gets -EINVAL for an index
// the first thread registered.
TEST(RingFdIndex, OtherThreadWithoutContextIsInvalid) {
  RINGCHECK_RULE("B19");
  REQUIRE_FEATURE("enter_registered_ring");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  InFreshThread([&] {
    ASSERT_RESULT(RegisterRingSlot(ring->fd(), 0), 0, "B19");
    InFreshThread([] { EXPECT_RESULT(EnterThroughSlot(0), -EINVAL, "B19: other thread"); });
    EXPECT_RESULT(EnterThroughSlot(0), 0, "B19: still fine in the registering thread");
  });
}

// B19: another thread with a context of its own finds the slot empty.
TEST(RingFdIndex, OtherThreadWithContextIsBadf) {
  RINGCHECK_RULE("B19");
  REQUIRE_FEATURE("enter_registered_ring");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  CREATE_RING_OR_SKIP(other, ConfigNamed("default"));
  InFreshThread([&] {
    ASSERT_RESULT(RegisterRingSlot(ring->fd(), 0), 0, "B19");
    InFreshThread([&] {
      ASSERT_RESULT(RegisterRingSlot(other->fd(), 5), 5, "B19: a table of its own");
      EXPECT_RESULT(EnterThroughSlot(0), -EBADF, "B19: slot 0 is empty here");
    });
  });
}

// B19: if the other thread registered a different ring at the same index,
// the index silently names that ring.
TEST(RingFdIndex, SameIndexNamesEachThreadsOwnRing) {
  RINGCHECK_RULE("B19");
  REQUIRE_FEATURE("enter_registered_ring");
  CREATE_RING_OR_SKIP(first, ConfigNamed("default"));
  CREATE_RING_OR_SKIP(second, ConfigNamed("default"));
  InFreshThread([&] {
    ASSERT_RESULT(RegisterRingSlot(first->fd(), 0), 0, "B19");
    InFreshThread([&] {
      ASSERT_RESULT(RegisterRingSlot(second->fd(), 0), 0, "B19");
      // Both rings have a NOP waiting; index 0 submits from `second` only.
      PublishNop(first->get(), 1);
      EXPECT_RESULT(SubmitNopThroughSlot(second->get(), 0, 2), 1, "B19");
      EXPECT_EQ(SqConsumed(second->get()), 1u) << "rule B19: index 0 is `second` here";
      EXPECT_EQ(SqConsumed(first->get()), 0u) << "rule B19: `first` was not touched";
    });
    // And in the first thread index 0 is still `first`.
    EXPECT_RESULT(io_uring_enter(0, 1, 0, IORING_ENTER_REGISTERED_RING, nullptr), 1, "B19");
    EXPECT_EQ(SqConsumed(first->get()), 1u);
  });
}

}  // namespace
}  // namespace ringcheck
