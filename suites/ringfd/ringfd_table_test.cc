// The kernel's table of registered ring fds: IORING_REGISTER_RING_FDS and
// IORING_UNREGISTER_RING_FDS (io_uring_register(2), "IORING_REGISTER_RING_FDS";
// kernel io_uring/tctx.c io_ringfd_register / io_ringfd_unregister).
//
// The table belongs to the calling task (thread), so every test that
// registers does it in a fresh thread: the kernel empties that thread's table
// when it exits, whatever the test did, and the test thread's table is never
// touched.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "harness/configs.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/pages.h"
#include "harness/task.h"
#include "suites/ringfd/ringfd_util.h"

namespace ringcheck {
namespace {

#define REQUIRE_RING_FDS() REQUIRE_FEATURE("register_ring_fds")

// B1 (io_uring_register(2): RING_FDS, UNREGISTER_RING_FDS and
// IORING_ENTER_REGISTERED_RING arrived together in 5.18): a kernel has all
// three or none; without them each is refused with -EINVAL.
TEST(RingFdTable, InterfaceIsAllOrNothing) {
  RINGCHECK_RULE("B1");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  const bool has = Supported("register_ring_fds");
  InFreshThread([&] {
    // A NOP gives this thread an io_uring task context, so an unknown enter
    // flag (-EINVAL) cannot be mistaken for "no context" (also -EINVAL).
    io_uring_prep_nop(ring->NextSqe());
    ASSERT_EQ(ring->Submit(), 1);
    ASSERT_EQ(ring->Reap(1).size(), 1u);
    io_uring_rsrc_update reg = SlotEntry(kAnySlot, static_cast<uint64_t>(ring->fd()));
    int registered = RegisterRingFds(ring->fd(), &reg, 1);
    int entered = io_uring_enter(has ? reg.offset : 0, 0, 0, IORING_ENTER_REGISTERED_RING, nullptr);
    io_uring_rsrc_update unreg = SlotEntry(has ? reg.offset : 0, 0);
    int unregistered = UnregisterRingFds(ring->fd(), &unreg, 1);
    if (has) {
      EXPECT_RESULT(registered, 1, "B1: RING_FDS registers one entry");
      EXPECT_RESULT(entered, 0, "B1: ENTER_REGISTERED_RING finds the slot");
      EXPECT_RESULT(unregistered, 1, "B1: UNREGISTER_RING_FDS empties one entry");
    } else {
      EXPECT_RESULT(registered, -EINVAL, "B1: the probe says RING_FDS is unknown");
      EXPECT_RESULT(entered, -EINVAL, "B1: ENTER_REGISTERED_RING unknown before 5.18");
      EXPECT_RESULT(unregistered, -EINVAL, "B1: UNREGISTER_RING_FDS unknown before 5.18");
    }
  });
}

// B2, B5, B6, B8: sixteen slots per task; -1U takes the lowest free one and
// the same ring may fill all of them; the seventeenth is -EBUSY.
TEST(RingFdTable, SixteenSlotsPerTaskThenBusy) {
  RINGCHECK_RULE("B2 B5 B6 B8");
  REQUIRE_RING_FDS();
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  InFreshThread([&] {
    for (unsigned i = 0; i < kRingSlots; ++i) {
      EXPECT_RESULT(RegisterRingSlot(ring->fd()), static_cast<long>(i), "B5 B8: next free slot");
    }
    EXPECT_RESULT(RegisterRingSlot(ring->fd()), -EBUSY, "B6: all 16 slots used");
    EXPECT_RESULT(EnterThroughSlot(kRingSlots - 1), 0, "B2: slot 15 is the last one");
  });
}

// B5: the slot chosen for -1U is written back into the entry's offset.
TEST(RingFdTable, AutoSlotIsWrittenBack) {
  RINGCHECK_RULE("B5");
  REQUIRE_RING_FDS();
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  InFreshThread([&] {
    ASSERT_RESULT(RegisterRingSlot(ring->fd(), 0), 0, "B5: explicit slot 0");
    io_uring_rsrc_update e = SlotEntry(kAnySlot, static_cast<uint64_t>(ring->fd()));
    EXPECT_RESULT(RegisterRingFds(ring->fd(), &e, 1), 1, "B5");
    EXPECT_EQ(e.offset, 1u) << "rule B5: -1U must be replaced by the slot used (1)";
  });
}

// B6: an explicit offset that is already taken is -EBUSY.
TEST(RingFdTable, OccupiedExplicitSlotIsBusy) {
  RINGCHECK_RULE("B6");
  REQUIRE_RING_FDS();
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  InFreshThread([&] {
    ASSERT_RESULT(RegisterRingSlot(ring->fd(), 7), 7, "B6");
    EXPECT_RESULT(RegisterRingSlot(ring->fd(), 7), -EBUSY, "B6");
  });
}

// B3: nr_args must be 1..16.
TEST(RingFdTable, EntryCountOutsideOneToSixteenIsInvalid) {
  RINGCHECK_RULE("B3");
  REQUIRE_RING_FDS();
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  InFreshThread([&] {
    io_uring_rsrc_update e[kRingSlots + 1];
    for (auto& x : e) x = SlotEntry(kAnySlot, static_cast<uint64_t>(ring->fd()));
    EXPECT_RESULT(RegisterRingFds(ring->fd(), e, 0), -EINVAL, "B3: nr_args 0");
    EXPECT_RESULT(RegisterRingFds(ring->fd(), e, kRingSlots + 1), -EINVAL, "B3: nr_args 17");
  });
}

// B4: a reserved field that is not zero is -EINVAL.
TEST(RingFdTable, NonZeroResvIsInvalid) {
  RINGCHECK_RULE("B4");
  REQUIRE_RING_FDS();
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  InFreshThread([&] {
    io_uring_rsrc_update e = SlotEntry(kAnySlot, static_cast<uint64_t>(ring->fd()), 1);
    EXPECT_RESULT(RegisterRingFds(ring->fd(), &e, 1), -EINVAL, "B4: resv != 0");
  });
}

// B4: offsets from 16 up (other than -1U) are -EINVAL, not clamped.
TEST(RingFdTable, OffsetSixteenIsInvalid) {
  RINGCHECK_RULE("B4");
  REQUIRE_RING_FDS();
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  InFreshThread([&] {
    EXPECT_RESULT(RegisterRingSlot(ring->fd(), kRingSlots), -EINVAL, "B4: offset 16");
    EXPECT_RESULT(RegisterRingSlot(ring->fd(), 0xfffffffeu), -EINVAL, "B4: offset -2U");
  });
}

// B4: an entry array the kernel cannot read is -EFAULT.
TEST(RingFdTable, UnreadableEntryFaults) {
  RINGCHECK_RULE("B4");
  REQUIRE_RING_FDS();
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  InaccessiblePage unreadable;
  ASSERT_TRUE(unreadable.ok());
  void* page = unreadable.get();
  InFreshThread([&] {
    EXPECT_RESULT(RegisterRingFds(ring->fd(), static_cast<io_uring_rsrc_update*>(page), 1), -EFAULT,
                  "B4: copy_from_user fails");
  });
}

// B7: data that is not an open fd is -EBADF.
TEST(RingFdTable, DataNotAnOpenFdIsBadf) {
  RINGCHECK_RULE("B7");
  REQUIRE_RING_FDS();
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  int unused = dup(0);
  ASSERT_GE(unused, 0);
  close(unused);  // a number that is certainly not open now
  InFreshThread([&] {
    io_uring_rsrc_update e = SlotEntry(kAnySlot, static_cast<uint64_t>(unused));
    EXPECT_RESULT(RegisterRingFds(ring->fd(), &e, 1), -EBADF, "B7: not an open fd");
  });
}

// B7: data that is an open fd but not an io_uring is -EOPNOTSUPP.
TEST(RingFdTable, DataNotARingIsOpnotsupp) {
  RINGCHECK_RULE("B7");
  REQUIRE_RING_FDS();
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  InFreshThread([&] {
    io_uring_rsrc_update e = SlotEntry(kAnySlot, static_cast<uint64_t>(r.get()));
    EXPECT_RESULT(RegisterRingFds(ring->fd(), &e, 1), -EOPNOTSUPP, "B7: a pipe");
  });
}

// B8: the data need not be the ring the call is made on: any ring fd can be
// registered through any ring, and one ring may sit in several slots.
TEST(RingFdTable, SameRingInTwoSlots) {
  RINGCHECK_RULE("B8");
  REQUIRE_RING_FDS();
  CREATE_RING_OR_SKIP(through, ConfigNamed("default"));
  CREATE_RING_OR_SKIP(target, ConfigNamed("default"));
  InFreshThread([&] {
    ASSERT_RESULT(RegisterRingSlot(target->fd(), 2), 2, "B8");
    io_uring_rsrc_update e = SlotEntry(3, static_cast<uint64_t>(target->fd()));
    ASSERT_RESULT(RegisterRingFds(through->fd(), &e, 1), 1, "B8: via another ring");
    // Both slots name `target`: a NOP through either is consumed from its SQ.
    EXPECT_RESULT(SubmitNopThroughSlot(target->get(), 2, 1), 1, "B8");
    EXPECT_RESULT(SubmitNopThroughSlot(target->get(), 3, 2), 1, "B8");
    EXPECT_EQ(SqConsumed(target->get()), 2u);
    EXPECT_EQ(SqConsumed(through->get()), 0u);
  });
}

// B9: the return value counts the entries processed before the first error;
// only when the first entry fails is its error returned.
TEST(RingFdTable, ReturnsEntriesProcessedBeforeAnError) {
  RINGCHECK_RULE("B9");
  REQUIRE_RING_FDS();
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  InFreshThread([&] {
    const uint64_t fd = static_cast<uint64_t>(ring->fd());
    io_uring_rsrc_update e[3] = {SlotEntry(0, fd), SlotEntry(1, fd, /*resv=*/1), SlotEntry(2, fd)};
    EXPECT_RESULT(RegisterRingFds(ring->fd(), e, 3), 1, "B9: second entry is bad");
    EXPECT_RESULT(EnterThroughSlot(0), 0, "B9: the first entry stays registered");
    EXPECT_RESULT(EnterThroughSlot(2), -EBADF, "B9: nothing after the bad entry");
    io_uring_rsrc_update all[3] = {SlotEntry(5, fd), SlotEntry(kAnySlot, fd), SlotEntry(9, fd)};
    EXPECT_RESULT(RegisterRingFds(ring->fd(), all, 3), 3, "B9: three good entries");
  });
}

// B10: UNREGISTER_RING_FDS with nr_args 0 or above 16 is -EINVAL.
TEST(RingFdTable, UnregisterCountOutsideOneToSixteenIsInvalid) {
  RINGCHECK_RULE("B10");
  REQUIRE_RING_FDS();
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  InFreshThread([&] {
    io_uring_rsrc_update e[kRingSlots + 1];
    for (auto& x : e) x = SlotEntry(0, 0);
    EXPECT_RESULT(UnregisterRingFds(ring->fd(), e, 0), -EINVAL, "B10: nr_args 0");
    EXPECT_RESULT(UnregisterRingFds(ring->fd(), e, kRingSlots + 1), -EINVAL, "B10: 17");
  });
}

// B11: a task that never used io_uring has nothing to unregister: 0, and the
// entries are not even read (this one would be -EINVAL by rule B12).
TEST(RingFdTable, UnregisterWithoutTaskContextReturnsZero) {
  RINGCHECK_RULE("B11");
  REQUIRE_RING_FDS();
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  InFreshThread([&] {
    io_uring_rsrc_update e = SlotEntry(0, 0, /*resv=*/1);
    EXPECT_RESULT(UnregisterRingFds(ring->fd(), &e, 1), 0, "B11");
  });
}

// B12: UNREGISTER entries with resv, data or an offset from 16 are -EINVAL.
TEST(RingFdTable, UnregisterEntryMustBeClean) {
  RINGCHECK_RULE("B12");
  REQUIRE_RING_FDS();
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  InFreshThread([&] {
    ASSERT_RESULT(RegisterRingSlot(ring->fd(), 0), 0, "B12: gives the thread a task context");
    io_uring_rsrc_update resv = SlotEntry(0, 0, 1);
    io_uring_rsrc_update data = SlotEntry(0, static_cast<uint64_t>(ring->fd()));
    io_uring_rsrc_update high = SlotEntry(kRingSlots, 0);
    EXPECT_RESULT(UnregisterRingFds(ring->fd(), &resv, 1), -EINVAL, "B12: resv");
    EXPECT_RESULT(UnregisterRingFds(ring->fd(), &data, 1), -EINVAL, "B12: data");
    EXPECT_RESULT(UnregisterRingFds(ring->fd(), &high, 1), -EINVAL, "B12: offset 16");
    EXPECT_RESULT(EnterThroughSlot(0), 0, "B12: the refused calls left slot 0 alone");
  });
}

// B13: unregistering an empty slot is not an error; it counts as processed.
TEST(RingFdTable, UnregisterOfEmptySlotCounts) {
  RINGCHECK_RULE("B13");
  REQUIRE_RING_FDS();
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  InFreshThread([&] {
    ASSERT_RESULT(RegisterRingSlot(ring->fd(), 0), 0, "B13: gives the thread a task context");
    EXPECT_RESULT(UnregisterRingSlot(ring->fd(), 4), 1, "B13: slot 4 was empty");
    EXPECT_RESULT(UnregisterRingSlot(ring->fd(), 0), 1, "B13: slot 0 was full");
    EXPECT_RESULT(UnregisterRingSlot(ring->fd(), 0), 1, "B13: slot 0 is empty now");
    EXPECT_RESULT(EnterThroughSlot(0), -EBADF, "B13: slot 0 was emptied");
  });
}

}  // namespace
}  // namespace ringcheck
