// How long a registered slot keeps its ring (rule B17; io_uring_register(2)
// "IORING_REGISTER_RING_FDS"; kernel tctx.c io_uring_unreg_ringfd, called by
// __io_uring_cancel at task exit and at exec): a slot holds a file reference,
// so the ring outlives close(fd) and is freed when the slot is emptied by
// UNREGISTER, by the thread's exit or by exec.
//
// A RingLifeline (a pipe whose write end only the ring holds) shows the
// moment the last reference goes: its read end reports POLLHUP. The ring's
// fd is not its only other reference: liburing's mmap of the rings holds the
// file too, so these tests close the fd *and* unmap (destroy the Ring) before
// they expect the slot to be all that is left.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "harness/child.h"
#include "harness/configs.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/task.h"
#include "suites/ringfd/ringfd_util.h"

namespace ringcheck {
namespace {

constexpr auto kStaysAlive = std::chrono::milliseconds(100);  // long enough to see a free
constexpr auto kFreed = std::chrono::seconds(5);              // ring teardown is async

constexpr char kExecSlotEnv[] = "RINGCHECK_RINGFD_EXEC_SLOT";

// ExecDropsSlots re-executes this binary with kExecSlotEnv set; the new image
// lands here before main(), reports what the slot does now, and exits.
const bool kExecHelper = [] {
  const char* slot = std::getenv(kExecSlotEnv);
  if (slot == nullptr) return false;
  _exit(ExitCodeFor(EnterThroughSlot(static_cast<unsigned>(std::atoi(slot)))));
}();

// Leaves the registered slot as the ring's only reference: closes the fd
// behind liburing's back, then io_uring_queue_exit (via the Ring's
// destructor) unmaps the rings and, with ring_fd = -1, closes nothing more.
// liburing knows nothing of the raw slot, so it unregisters nothing.
void DropAllButTheSlot(std::unique_ptr<Ring>* ring) {
  close((*ring)->fd());
  (*ring)->get()->ring_fd = -1;
  ring->reset();
}

// B17: with fd and mapping gone, the slot's reference keeps the ring alive
// and usable through the index.
TEST(RingFdLifetime, SlotKeepsClosedRingAlive) {
  RINGCHECK_RULE("B17");
  REQUIRE_FEATURE("enter_registered_ring");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  RingLifeline life;
  ASSERT_TRUE(life.Attach(ring->get()));
  InFreshThread([&] {
    int slot = RegisterRingSlot(ring->fd());
    ASSERT_SUCCESS(slot, "B17");
    DropAllButTheSlot(&ring);
    EXPECT_FALSE(life.RingFreedWithin(kStaysAlive)) << "rule B17: the slot holds a reference";
    EXPECT_RESULT(EnterThroughSlot(slot), 0, "B17: still usable through the index");
  });
}

// B17: UNREGISTER of the slot that held the last reference frees the ring.
TEST(RingFdLifetime, UnregisterOfLastReferenceFreesRing) {
  RINGCHECK_RULE("B17");
  REQUIRE_FEATURE("enter_registered_ring");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  CREATE_RING_OR_SKIP(helper, ConfigNamed("default"));  // to make the register call on
  RingLifeline life;
  ASSERT_TRUE(life.Attach(ring->get()));
  InFreshThread([&] {
    int slot = RegisterRingSlot(ring->fd());
    ASSERT_SUCCESS(slot, "B17");
    DropAllButTheSlot(&ring);
    ASSERT_FALSE(life.RingFreedWithin(kStaysAlive)) << "rule B17: freed while in a slot";
    EXPECT_RESULT(UnregisterRingSlot(helper->fd(), slot), 1, "B17");
    EXPECT_TRUE(life.RingFreedWithin(kFreed))
        << "rule B17: the emptied slot held the last reference";
  });
}

// B17: a thread's exit empties its slots (and so frees a ring only they held).
TEST(RingFdLifetime, ThreadExitReleasesItsSlots) {
  RINGCHECK_RULE("B17");
  REQUIRE_FEATURE("enter_registered_ring");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  RingLifeline life;
  ASSERT_TRUE(life.Attach(ring->get()));
  InFreshThread([&] {
    ASSERT_SUCCESS(RegisterRingSlot(ring->fd()), "B17");
    DropAllButTheSlot(&ring);
    EXPECT_FALSE(life.RingFreedWithin(kStaysAlive)) << "rule B17: freed while in a slot";
  });
  EXPECT_TRUE(life.RingFreedWithin(kFreed))
      << "rule B17: the thread exited holding the last reference";
}

// B17: exec empties the task's slots. The child registers a ring (whose fd is
// close-on-exec, so after exec only the slot could hold it) and re-executes
// this binary, which tries the slot before main(). Exec does more than empty
// the table: io_uring_cancel_generic, called for exec with cancel_all, frees
// the whole task context, so the index is -EINVAL (no context, rule B14),
// not -EBADF (empty slot).
TEST(RingFdLifetime, ExecDropsSlots) {
  RINGCHECK_RULE("B17 B14");
  REQUIRE_FEATURE("enter_registered_ring");
  ChildOutcome out = RunInChild([] {
    io_uring ring;
    if (io_uring_queue_init(4, &ring, 0) < 0) return 250;
    int slot = RegisterRingSlot(ring.ring_fd);
    if (slot < 0) return 251;
    if (EnterThroughSlot(static_cast<unsigned>(slot)) != 0) return 252;
    std::string env = std::string(kExecSlotEnv) + "=" + std::to_string(slot);
    char name[] = "ringfd_exec_probe";
    char* argv[] = {name, nullptr};
    char* envp[] = {env.data(), nullptr};
    execve("/proc/self/exe", argv, envp);
    return 253;
  });
  if (out.ExitedWith(253)) GTEST_SKIP() << "environment:exec of /proc/self/exe failed";
  ASSERT_FALSE(out.ExitedWith(250) || out.ExitedWith(251) || out.ExitedWith(252))
      << "the child could not set up its slot: " << out.Describe();
  EXPECT_RESULT(ResultFromExit(out), -EINVAL, "B17 B14: the slot after exec")
      << " (child " << out.Describe() << ")";
}

// B17, B27: with every fd above 2 closed (close_range), a ring registered
// with io_uring_register_ring_fd still submits and completes through its index.
TEST(RingFdLifetime, RingSurvivesCloseRangeOfAllFds) {
  RINGCHECK_RULE("B17 B27");
  REQUIRE_FEATURE("enter_registered_ring");
  ChildOutcome out = RunInChild([] {
    io_uring ring;
    if (io_uring_queue_init(4, &ring, 0) < 0) return 250;
    if (io_uring_register_ring_fd(&ring) != 1) return 251;
    if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0) return 252;
    if (fcntl(ring.ring_fd, F_GETFD) != -1) return 253;  // the fd really is gone
    io_uring_prep_nop(io_uring_get_sqe(&ring));
    int submitted = io_uring_submit(&ring);
    if (submitted != 1) return ExitCodeFor(submitted < 0 ? submitted : 230);
    io_uring_cqe* cqe = nullptr;
    int waited = io_uring_wait_cqe(&ring, &cqe);
    if (waited != 0) return ExitCodeFor(waited);
    return ExitCodeFor(cqe->res);
  });
  ASSERT_FALSE(out.ExitedWith(250) || out.ExitedWith(251) || out.ExitedWith(252) ||
               out.ExitedWith(253))
      << "setup in the child failed: " << out.Describe();
  EXPECT_RESULT(ResultFromExit(out), 0, "B17 B27: NOP through the index after close_range")
      << " (child " << out.Describe() << ")";
}

}  // namespace
}  // namespace ringcheck
