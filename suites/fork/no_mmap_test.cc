// IORING_SETUP_NO_MMAP rings and the memory the caller gives them
// (io_uring_setup(2), io_uring_queue_init_mem(3); rules A11-A13 of
// spec/fork.md), the setups whose ranges io_uring_ring_dontfork covers
// differently.
#include <gtest/gtest.h>
#include <liburing.h>
#include <sys/mman.h>

#include <cstring>

#include "harness/configs.h"
#include "harness/errno_names.h"
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

// mmap of a ring fd at `offset`: 0 if it mapped (and is unmapped again),
// else -errno.
long MmapRingAt(int fd, off_t offset) {
  void* p = mmap(nullptr, PageSize(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, offset);
  if (p == MAP_FAILED) return -errno;
  munmap(p, PageSize());
  return 0;
}

// An mmap offset for which no kernel so far has a region (the known ones are
// 0, 0x8000000, 0x10000000, 0x20000000, 0x30000000 and 0x80000000 | id).
constexpr off_t kNoRegionOffset = 0x40000000;

// A13: the rings of a NO_MMAP ring live in the caller's memory; mapping
// them through the fd is refused. The errno is decided where every refused
// io_uring mmap is decided, in io_uring_get_unmapped_area: up to 6.18 it
// turns the refusal into -ENOMEM, on 7.2 it passes on -EINVAL. So the test
// asks the same kernel about an offset with no region at all and expects
// the same answer for the SQ ring and the SQE array.
TEST(NoMmap, MmapOfSqRingIsRefusedLikeAnOffsetWithoutRegion) {
  RINGCHECK_RULE("A13");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("no_mmap_user_memory"));
  const long no_region = MmapRingAt(ring->fd(), kNoRegionOffset);
  ASSERT_TRUE(no_region == -ENOMEM || no_region == -EINVAL)
      << "mmap at an offset without a region gave " << ResultName(no_region)
      << ", neither -ENOMEM nor -EINVAL (rule A13)";
  EXPECT_RESULT(MmapRingAt(ring->fd(), IORING_OFF_SQ_RING), no_region, "A13") << " (SQ ring)";
  EXPECT_RESULT(MmapRingAt(ring->fd(), IORING_OFF_SQES), no_region, "A13") << " (SQE array)";
}

}  // namespace
}  // namespace ringcheck
