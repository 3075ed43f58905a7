// IORING_SETUP_NO_MMAP rings and the memory the caller gives them
// (io_uring_setup(2), io_uring_queue_init_mem(3); rules A11-A13 of
// spec/semantics.md), the setups whose ranges io_uring_ring_dontfork covers
// differently.
#include <gtest/gtest.h>
#include <liburing.h>
#include <sys/mman.h>

#include <cstring>

#include "harness/configs.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/setup_call.h"
#include "harness/pages.h"

namespace ringcheck {
namespace {

// A11: the caller's memory must be page aligned (the kernel pins whole
// pages from user_addr): -EINVAL.
TEST(NoMmap, UnalignedUserMemoryIsEinval) {
  RINGCHECK_RULE("A11");
  REQUIRE_FEATURE("setup_no_mmap");
  Pages mem(64);
  ASSERT_TRUE(mem.ok());
  io_uring ring;
  std::memset(&ring, 0, sizeof ring);
  io_uring_params p;
  std::memset(&p, 0, sizeof p);
  int ret = io_uring_queue_init_mem(8, &ring, &p, mem.page(0) + 64, mem.size() - 64);
  if (ret >= 0) io_uring_queue_exit(&ring);
  EXPECT_RESULT(ret, -EINVAL, "A11");
}

// A12: NO_MMAP with no address for the rings: -EFAULT.
TEST(NoMmap, NullUserAddressIsEfault) {
  RINGCHECK_RULE("A12");
  REQUIRE_FEATURE("setup_no_mmap");
  io_uring_params p;
  std::memset(&p, 0, sizeof p);
  p.flags = IORING_SETUP_NO_MMAP;
  SetupAttempt a = TrySetup(8, p, /*provide_memory=*/false);
  EXPECT_RESULT(a.result, -EFAULT, "A12");
}

// A13: the rings of a NO_MMAP ring live in the caller's memory; mapping
// them through the fd is refused, and get_unmapped_area reports -ENOMEM.
TEST(NoMmap, MmapOfSqRingIsEnomem) {
  RINGCHECK_RULE("A13");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("no_mmap_user_memory"));
  void* p = mmap(nullptr, PageSize(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                 ring->fd(), IORING_OFF_SQ_RING);
  long ret = p == MAP_FAILED ? -errno : 0;
  if (p != MAP_FAILED) munmap(p, PageSize());
  EXPECT_RESULT(ret, -ENOMEM, "A13");
}

}  // namespace
}  // namespace ringcheck
