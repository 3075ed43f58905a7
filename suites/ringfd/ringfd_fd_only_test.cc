// IORING_SETUP_REGISTERED_FD_ONLY (io_uring_setup(2); kernel io_uring.c
// io_uring_create): the ring gets a slot in the creating thread's table and
// no fd at all. liburing (src/setup.c) then keeps ring_fd = -1 and uses the
// index for everything. The rings here use the caller's memory for NO_MMAP:
// liburing 2.9 would take a huge page for its own.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "harness/configs.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/task.h"
#include "suites/ringfd/ringfd_util.h"

namespace ringcheck {
namespace {

const RingConfig& FdOnlyConfig() { return ConfigNamed("registered_fd_only_no_mmap"); }

// The number the next open() would get.
int NextFreeFd() {
  int fd = dup(0);
  if (fd >= 0) close(fd);
  return fd;
}

// B20: REGISTERED_FD_ONLY without NO_MMAP is refused by the kernel.
TEST(RegisteredFdOnly, KernelRequiresNoMmap) {
  RINGCHECK_RULE("B20");
  REQUIRE_FEATURE("setup_registered_fd_only");
  InFreshThread([] {  // should the kernel accept it, the slot goes with the thread
    io_uring_params p;
    std::memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_REGISTERED_FD_ONLY;
    EXPECT_RESULT(io_uring_setup(4, &p), -EINVAL, "B20");
  });
}

// B31: liburing's io_uring_queue_init_params refuses the same combination.
TEST(RegisteredFdOnly, LiburingRequiresNoMmap) {
  RINGCHECK_RULE("B31");
  REQUIRE_FEATURE("setup_registered_fd_only");
  InFreshThread([] {
    io_uring ring;
    io_uring_params p;
    std::memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_REGISTERED_FD_ONLY;
    int ret = io_uring_queue_init_params(4, &ring, &p);
    EXPECT_RESULT(ret, -EINVAL, "B31");
    if (ret == 0) io_uring_queue_exit(&ring);
  });
}

// B20, B31: setup hands out the first free slot and installs no fd; liburing
// records the slot as enter_ring_fd, ring_fd = -1, and the ring works.
TEST(RegisteredFdOnly, SetupReturnsSlotAndInstallsNoFd) {
  RINGCHECK_RULE("B20 B31");
  REQUIRE_FEATURE("setup_registered_fd_only");
  InFreshThread([] {
    const int next_fd = NextFreeFd();
    std::unique_ptr<Ring> ring;
    std::string why;
    int ret = CreateRingForTest(FdOnlyConfig(), &ring, &why);
    ASSERT_RESULT(ret, 0, "B20: setup of " + FdOnlyConfig().name) << why;
    EXPECT_EQ(NextFreeFd(), next_fd) << "rule B20: setup installed an fd";
    EXPECT_EQ(ring->get()->ring_fd, -1) << "rule B31";
    EXPECT_EQ(ring->get()->enter_ring_fd, 0) << "rule B20: a fresh thread's first slot";
    EXPECT_RESULT(EnterThroughSlot(0), 0, "B20: slot 0 holds the ring");
    io_uring_prep_nop(ring->NextSqe());
    EXPECT_RESULT(ring->Submit(), 1, "B31: submit through the index");
    EXPECT_EQ(ring->Reap(1).size(), 1u);
  });
}

// B20: the slot comes from the same table of 16: when it is full, setup
// fails with -EBUSY.
TEST(RegisteredFdOnly, SetupWithFullTableIsBusy) {
  RINGCHECK_RULE("B20");
  REQUIRE_FEATURE("register_ring_fds");
  REQUIRE_FEATURE("setup_registered_fd_only");
  CREATE_RING_OR_SKIP(filler, ConfigNamed("default"));
  InFreshThread([&] {
    for (unsigned i = 0; i < kRingSlots; ++i) ASSERT_SUCCESS(RegisterRingSlot(filler->fd()), "B20");
    std::unique_ptr<Ring> ring;
    EXPECT_RESULT(Ring::Create(FdOnlyConfig(), &ring), -EBUSY, "B20: 16 slots in use");
  });
}

// B31: io_uring_close_ring_fd on such a ring is -EBADF: there is no fd.
TEST(RegisteredFdOnly, CloseRingFdIsBadf) {
  RINGCHECK_RULE("B31");
  REQUIRE_FEATURE("setup_registered_fd_only");
  InFreshThread([] {
    std::unique_ptr<Ring> ring;
    std::string why;
    ASSERT_RESULT(CreateRingForTest(FdOnlyConfig(), &ring, &why), 0, "B31") << why;
    EXPECT_RESULT(io_uring_close_ring_fd(ring->get()), -EBADF, "B31");
  });
}

}  // namespace
}  // namespace ringcheck
