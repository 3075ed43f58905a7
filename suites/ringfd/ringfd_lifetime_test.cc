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
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "harness/configs.h"
#include "harness/errno_names.h"
#include "harness/fd.h"
#include "harness/features.h"
#include "harness/in_child.h"
#include "harness/matchers.h"
#include "harness/task.h"
#include "suites/ringfd/ringfd_util.h"

namespace ringcheck {
namespace {

constexpr auto kStaysAlive = std::chrono::milliseconds(100);  // long enough to see a free
constexpr auto kFreed = std::chrono::seconds(5);              // ring teardown is async

constexpr char kExecSlotEnv[] = "RINGCHECK_RINGFD_EXEC_SLOT";
constexpr char kExecReportEnv[] = "RINGCHECK_RINGFD_EXEC_REPORT";

// ExecDropsSlots re-executes this binary with kExecSlotEnv (the slot) and
// kExecReportEnv (an inherited pipe fd) set; the new image lands here before
// main(), writes what the slot does now to the pipe, and exits. Exec takes
// the child's InChild page away, so the pipe carries this one result.
const bool kExecHelper = [] {
  const char* slot = std::getenv(kExecSlotEnv);
  const char* report = std::getenv(kExecReportEnv);
  if (slot == nullptr || report == nullptr) return false;
  int result = EnterThroughSlot(static_cast<unsigned>(std::atoi(slot)));
  dprintf(std::atoi(report), "%d\n", result);
  _exit(0);
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
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0) << ErrnoName(errno);
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  ChildRun run = InChild([&](ChildChannel& child) {
    io_uring ring;
    ASSERT_RESULT(io_uring_queue_init(4, &ring, 0), 0, "a ring in the child");
    int slot = RegisterRingSlot(ring.ring_fd);
    ASSERT_SUCCESS(slot, "B17: the child's slot");
    ASSERT_RESULT(EnterThroughSlot(static_cast<unsigned>(slot)), 0, "B17: the slot before exec");
    ASSERT_EQ(fcntl(write_end.get(), F_SETFD, 0), 0) << ErrnoName(errno);
    std::string slot_env = std::string(kExecSlotEnv) + "=" + std::to_string(slot);
    std::string report_env = std::string(kExecReportEnv) + "=" + std::to_string(write_end.get());
    char name[] = "ringfd_exec_probe";
    char* argv[] = {name, nullptr};
    char* envp[] = {slot_env.data(), report_env.data(), nullptr};
    execve("/proc/self/exe", argv, envp);
    child.Skip("environment:exec of /proc/self/exe failed");
  });
  // A body that returned did not exec: it failed or skipped.
  if (run.finished) {
    ASSERT_CHILD_RAN(run);
    FAIL() << "the child returned without exec";
  }
  ASSERT_TRUE(run.outcome.ExitedWith(0)) << "the exec'd child: " << run.Describe();
  write_end.reset();
  char buf[32] = {};
  ASSERT_GT(read(read_end.get(), buf, sizeof buf - 1), 0) << "the exec'd child reported nothing";
  EXPECT_RESULT(std::atol(buf), -EINVAL, "B17 B14: the slot after exec");
}

// B17, B27: with every fd above 2 closed (close_range), a ring registered
// with io_uring_register_ring_fd still submits and completes through its index.
TEST(RingFdLifetime, RingSurvivesCloseRangeOfAllFds) {
  RINGCHECK_RULE("B17 B27");
  REQUIRE_FEATURE("enter_registered_ring");
  ChildRun run = InChild([](ChildChannel& child) {
    io_uring ring;
    ASSERT_RESULT(io_uring_queue_init(4, &ring, 0), 0, "a ring in the child");
    ASSERT_RESULT(io_uring_register_ring_fd(&ring), 1, "B27: io_uring_register_ring_fd");
    ASSERT_EQ(syscall(SYS_close_range, 3u, ~0u, 0u), 0) << "close_range: " << ErrnoName(errno);
    ASSERT_EQ(fcntl(ring.ring_fd, F_GETFD), -1) << "the ring fd survived close_range";
    io_uring_prep_nop(io_uring_get_sqe(&ring));
    child.Put(0, io_uring_submit(&ring));
    io_uring_cqe* cqe = nullptr;
    child.Put(1, io_uring_wait_cqe(&ring, &cqe));
    if (cqe != nullptr) child.Put(2, cqe->res);
  });
  ASSERT_CHILD_RAN(run);
  ASSERT_RESULT(run.Value(0), 1, "B17 B27: the submit through the index after close_range");
  ASSERT_RESULT(run.Value(1), 0, "B17 B27: the wait through the index");
  EXPECT_RESULT(run.Value(2), 0, "B17 B27: NOP through the index after close_range");
}

}  // namespace
}  // namespace ringcheck
