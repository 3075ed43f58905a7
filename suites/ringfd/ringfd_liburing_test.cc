// liburing's ring-fd helpers (io_uring_register_ring_fd(3),
// io_uring_close_ring_fd(3); liburing src/register.c, src/setup.c): what they
// return, in which order they check, and what a ring whose fd was closed can
// still do. liburing keeps the slot index in ring->enter_ring_fd and from then
// on enters (and, with IORING_FEAT_REG_REG_RING, registers) through it.
//
// Every ring here is created, registered and destroyed in one fresh thread:
// io_uring_queue_exit unregisters the slot in the calling thread's table
// (B30 destroys one in the wrong thread on purpose).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "harness/configs.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/task.h"
#include "suites/ringfd/ringfd_util.h"

namespace ringcheck {
namespace {

constexpr auto kStaysAlive = std::chrono::milliseconds(100);
constexpr auto kFreed = std::chrono::seconds(5);

std::unique_ptr<Ring> DefaultRing() {
  std::unique_ptr<Ring> r;
  Ring::Create(ConfigNamed("default"), &r);
  return r;
}

// A NOP through liburing's own submit and wait: its CQE's result, or the
// -errno of submit or wait.
int NopRoundTrip(io_uring* ring) {
  io_uring_prep_nop(io_uring_get_sqe(ring));
  int submitted = io_uring_submit(ring);
  if (submitted != 1) return submitted < 0 ? submitted : -EAGAIN;
  io_uring_cqe* cqe = nullptr;
  int ret = io_uring_wait_cqe(ring, &cqe);
  if (ret < 0) return ret;
  int res = cqe->res;
  io_uring_cqe_seen(ring, cqe);
  return res;
}

// B21: io_uring_register_ring_fd returns 1 and records the slot it got (the
// first free one) in enter_ring_fd; the fd stays as it was.
TEST(LiburingRingFd, RegisterReturnsOneAndRecordsTheSlot) {
  RINGCHECK_RULE("B21");
  REQUIRE_FEATURE("register_ring_fds");
  InFreshThread([] {
    auto ring = DefaultRing();
    ASSERT_NE(ring, nullptr);
    const int fd = ring->fd();
    EXPECT_RESULT(io_uring_register_ring_fd(ring->get()), 1, "B21");
    EXPECT_EQ(ring->get()->enter_ring_fd, 0) << "rule B21: a fresh thread's first slot";
    EXPECT_EQ(ring->fd(), fd);
    EXPECT_RESULT(EnterThroughSlot(0), 0, "B21: the slot holds the ring");
    EXPECT_RESULT(NopRoundTrip(ring->get()), 0, "B21: submit and wait through the slot");
  });
}

// B22: a second io_uring_register_ring_fd is -EEXIST and takes no slot.
TEST(LiburingRingFd, RegisterTwiceIsExist) {
  RINGCHECK_RULE("B22");
  REQUIRE_FEATURE("register_ring_fds");
  InFreshThread([] {
    auto ring = DefaultRing();
    ASSERT_NE(ring, nullptr);
    ASSERT_RESULT(io_uring_register_ring_fd(ring->get()), 1, "B22");
    EXPECT_RESULT(io_uring_register_ring_fd(ring->get()), -EEXIST, "B22");
    EXPECT_RESULT(RegisterRingSlot(ring->fd()), 1, "B22: slot 1 was still free");
    EXPECT_RESULT(UnregisterRingSlot(ring->fd(), 1), 1, "B22");
  });
}

// B24: on a kernel without RING_FDS the kernel's -EINVAL comes back as is.
TEST(LiburingRingFd, KernelWithoutRingFdsGivesEinval) {
  RINGCHECK_RULE("B24");
  if (Supported("register_ring_fds")) {
    GTEST_SKIP() << "environment:kernel_has_register_ring_fds (B24 is about kernels before 5.18)";
  }
  InFreshThread([] {
    auto ring = DefaultRing();
    ASSERT_NE(ring, nullptr);
    EXPECT_RESULT(io_uring_register_ring_fd(ring->get()), -EINVAL, "B24");
    EXPECT_RESULT(NopRoundTrip(ring->get()), 0, "B24: the ring still works through its fd");
  });
}

// B25: io_uring_unregister_ring_fd on a ring that is not registered is
// -EINVAL (liburing >= 2.4 checks before any syscall).
TEST(LiburingRingFd, UnregisterWhenNotRegisteredIsInvalid) {
  RINGCHECK_RULE("B25");
  InFreshThread([] {
    auto ring = DefaultRing();
    ASSERT_NE(ring, nullptr);
    EXPECT_RESULT(io_uring_unregister_ring_fd(ring->get()), -EINVAL, "B25");
  });
}

// B21, B22, B25, B26: the whole life of a registration, return by return.
TEST(LiburingRingFd, ReturnValuesInOrder) {
  RINGCHECK_RULE("B21 B22 B25 B26");
  REQUIRE_FEATURE("register_ring_fds");
  REQUIRE_FEATURE("feat_reg_reg_ring");
  InFreshThread([] {
    auto ring = DefaultRing();
    ASSERT_NE(ring, nullptr);
    io_uring* r = ring->get();
    EXPECT_RESULT(io_uring_unregister_ring_fd(r), -EINVAL, "B25: not registered");
    EXPECT_RESULT(io_uring_close_ring_fd(r), -EINVAL, "B26: not registered");
    EXPECT_RESULT(io_uring_register_ring_fd(r), 1, "B21");
    EXPECT_RESULT(io_uring_register_ring_fd(r), -EEXIST, "B22");
    EXPECT_RESULT(io_uring_close_ring_fd(r), 1, "B26: closes the fd");
    EXPECT_EQ(r->ring_fd, -1) << "rule B26";
    EXPECT_RESULT(io_uring_close_ring_fd(r), -EBADF, "B26: already closed");
    EXPECT_RESULT(io_uring_unregister_ring_fd(r), 1, "B25: the last reference goes");
    EXPECT_RESULT(io_uring_unregister_ring_fd(r), -EINVAL, "B25: not registered any more");
  });
}

// B26: close_ring_fd first asks for IORING_FEAT_REG_REG_RING: without it the
// answer is -EOPNOTSUPP even for a registered ring, and nothing is closed.
// On a kernel that has the feature the test hides the bit from liburing.
TEST(LiburingRingFd, CloseRingFdWithoutRegRegRingIsOpnotsupp) {
  RINGCHECK_RULE("B26");
  REQUIRE_FEATURE("register_ring_fds");
  InFreshThread([] {
    auto ring = DefaultRing();
    ASSERT_NE(ring, nullptr);
    io_uring* r = ring->get();
    ASSERT_RESULT(io_uring_register_ring_fd(r), 1, "B26");
    const unsigned saved = r->features;
    r->features &= ~IORING_FEAT_REG_REG_RING;
    EXPECT_RESULT(io_uring_close_ring_fd(r), -EOPNOTSUPP, "B26");
    r->features = saved;
    EXPECT_NE(fcntl(ring->fd(), F_GETFD), -1) << "rule B26: the fd must still be open";
  });
}

// B27: after io_uring_close_ring_fd the old fd is gone, and submit, wait and
// register keep working through the index in the registering thread.
TEST(LiburingRingFd, ClosedRingWorksThroughItsIndex) {
  RINGCHECK_RULE("B27");
  REQUIRE_FEATURE("register_ring_fds");
  REQUIRE_FEATURE("feat_reg_reg_ring");
  InFreshThread([] {
    auto ring = DefaultRing();
    ASSERT_NE(ring, nullptr);
    io_uring* r = ring->get();
    const int old_fd = r->ring_fd;
    ASSERT_RESULT(io_uring_register_ring_fd(r), 1, "B27");
    ASSERT_RESULT(io_uring_close_ring_fd(r), 1, "B27");
    EXPECT_RESULT(SysResult(fcntl(old_fd, F_GETFD)), -EBADF, "B27: the fd is closed");
    EXPECT_RESULT(NopRoundTrip(r), 0, "B27: submit and wait");
    static char buf[4096];
    iovec iov = {buf, sizeof buf};
    EXPECT_RESULT(io_uring_register_buffers(r, &iov, 1), 0, "B27: register");
    EXPECT_RESULT(io_uring_unregister_buffers(r), 0, "B27: unregister");
  });
}

// B28: the index is useless in another thread: io_uring_submit there is
// -EINVAL without an io_uring context and -EBADF with one.
TEST(LiburingRingFd, ClosedRingCannotBeSubmittedFromAnotherThread) {
  RINGCHECK_RULE("B28 B19");
  REQUIRE_FEATURE("register_ring_fds");
  REQUIRE_FEATURE("feat_reg_reg_ring");
  CREATE_RING_OR_SKIP(other, ConfigNamed("default"));
  InFreshThread([&] {
    auto ring = DefaultRing();
    ASSERT_NE(ring, nullptr);
    io_uring* r = ring->get();
    ASSERT_RESULT(io_uring_register_ring_fd(r), 1, "B28");
    ASSERT_EQ(r->enter_ring_fd, 0);
    ASSERT_RESULT(io_uring_close_ring_fd(r), 1, "B28");
    InFreshThread([&] {
      io_uring_prep_nop(io_uring_get_sqe(r));
      EXPECT_RESULT(io_uring_submit(r), -EINVAL, "B28: no io_uring context");
    });
    InFreshThread([&] {
      ASSERT_RESULT(RegisterRingSlot(other->fd(), 5), 5, "B28: a context, slot 0 empty");
      EXPECT_RESULT(io_uring_submit(r), -EBADF, "B28: slot 0 is empty here");
    });
    EXPECT_RESULT(io_uring_submit(r), 1, "B28: the registering thread submits the NOP");
  });
}

// B29: io_uring_queue_exit after close_ring_fd unregisters the slot, which
// drops the last reference: the ring is freed, and the slot is empty.
TEST(LiburingRingFd, QueueExitAfterCloseFreesTheRing) {
  RINGCHECK_RULE("B29");
  REQUIRE_FEATURE("register_ring_fds");
  REQUIRE_FEATURE("feat_reg_reg_ring");
  InFreshThread([] {
    auto ring = DefaultRing();
    ASSERT_NE(ring, nullptr);
    RingLifeline life;
    ASSERT_TRUE(life.Attach(ring->get()));
    ASSERT_RESULT(io_uring_register_ring_fd(ring->get()), 1, "B29");
    const unsigned slot = static_cast<unsigned>(ring->get()->enter_ring_fd);
    ASSERT_RESULT(io_uring_close_ring_fd(ring->get()), 1, "B29");
    ring.reset();  // io_uring_queue_exit
    EXPECT_TRUE(life.RingFreedWithin(kFreed)) << "rule B29: queue_exit dropped the last reference";
    EXPECT_RESULT(EnterThroughSlot(slot), -EBADF, "B29: the slot was emptied");
  });
}

// B30: io_uring_queue_exit called from another thread unregisters the index
// in *that* thread's table: an unrelated ring there is unregistered, while
// the closed ring lives on until the registering thread exits.
TEST(LiburingRingFd, QueueExitFromAnotherThreadHitsThatThreadsSlot) {
  RINGCHECK_RULE("B30");
  REQUIRE_FEATURE("register_ring_fds");
  REQUIRE_FEATURE("feat_reg_reg_ring");
  CREATE_RING_OR_SKIP(bystander, ConfigNamed("default"));
  RingLifeline life;
  InFreshThread([&] {
    auto ring = DefaultRing();
    ASSERT_NE(ring, nullptr);
    ASSERT_TRUE(life.Attach(ring->get()));
    ASSERT_RESULT(io_uring_register_ring_fd(ring->get()), 1, "B30");
    ASSERT_EQ(ring->get()->enter_ring_fd, 0);
    ASSERT_RESULT(io_uring_close_ring_fd(ring->get()), 1, "B30");
    InFreshThread([&] {
      ASSERT_RESULT(RegisterRingSlot(bystander->fd(), 0), 0, "B30: same index, other ring");
      ring.reset();  // io_uring_queue_exit in the wrong thread
      EXPECT_RESULT(EnterThroughSlot(0), -EBADF, "B30: the bystander's slot was emptied");
      EXPECT_FALSE(life.RingFreedWithin(kStaysAlive)) << "rule B30: the ring must leak";
    });
    EXPECT_RESULT(EnterThroughSlot(0), 0, "B30: still registered in its own thread");
  });
  EXPECT_TRUE(life.RingFreedWithin(kFreed)) << "rule B30: freed when its thread exited";
}

}  // namespace
}  // namespace ringcheck
