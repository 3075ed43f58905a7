// io_uring_ring_dontfork(3) as a call: its errors, its idempotence, and the
// memory a ring uses that it does not cover (rules A1, A2, A3, A5, A6 and A9
// of spec/fork.md).
#include <gtest/gtest.h>
#include <liburing.h>
#include <sys/uio.h>

#include <cstring>

#include "harness/capabilities.h"
#include "harness/child_probe.h"
#include "harness/configs.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/pages.h"

namespace ringcheck {
namespace {

#define SKIP_UNLESS_IO_URING()                                               \
  do {                                                                       \
    std::string why_ = UnsupportedReason(ConfigNamed("default"));            \
    if (!why_.empty()) GTEST_SKIP() << why_;                                 \
  } while (0)

// A1: a ring that was never set up has NULL pointers: -EINVAL, no madvise.
TEST(RingDontfork, NeverMappedRingIsEinval) {
  RINGCHECK_RULE("A1");
  io_uring ring;
  std::memset(&ring, 0, sizeof ring);
  EXPECT_RESULT(io_uring_ring_dontfork(&ring), -EINVAL, "A1");
}

// A1: the NULL check comes before any madvise: with only the CQ pointer
// missing, the (valid) SQE array must not have been advised either.
TEST(RingDontfork, MissingCqPointerIsEinvalBeforeAnyAdvice) {
  RINGCHECK_RULE("A1");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  io_uring copy = *ring->get();
  copy.cq.ring_ptr = nullptr;
  EXPECT_RESULT(io_uring_ring_dontfork(&copy), -EINVAL, "A1");
  EXPECT_TRUE(ReadableInChild(copy.sq.sqes)) << "SQEs were advised before the NULL check (rule A1)";
}

// A3: with IORING_FEAT_SINGLE_MMAP the CQ ring lives in the SQ ring's
// mapping, so liburing records one pointer for both.
TEST(RingDontfork, SingleMmapSharesOneRingPointer) {
  RINGCHECK_RULE("A3");
  REQUIRE_FEATURE("feat_single_mmap");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  EXPECT_EQ(ring->get()->cq.ring_ptr, ring->get()->sq.ring_ptr) << "rule A3";
}

// A5: a second call succeeds and the first call's advice stays.
TEST(RingDontfork, SecondCallIsIdempotent) {
  RINGCHECK_RULE("A5");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  ASSERT_RESULT(io_uring_ring_dontfork(ring->get()), 0, "A5");
  EXPECT_RESULT(io_uring_ring_dontfork(ring->get()), 0, "A5");
  EXPECT_TRUE(FaultsInChild(ring->get()->sq.sqes)) << "rule A5";
  EXPECT_TRUE(FaultsInChild(ring->get()->sq.khead)) << "rule A5";
}

// A6: io_uring_queue_exit unmaps but leaves the pointers stale, not NULL,
// so the madvise meets unmapped memory: -ENOMEM.
TEST(RingDontfork, AfterQueueExitIsEnomem) {
  RINGCHECK_RULE("A6");
  SKIP_UNLESS_IO_URING();
  io_uring ring;
  std::memset(&ring, 0, sizeof ring);
  ASSERT_RESULT(io_uring_queue_init(8, &ring, 0), 0, "A6");
  io_uring_queue_exit(&ring);
  ASSERT_NE(ring.sq.sqes, nullptr) << "liburing cleared the pointers; rule A6 expects them stale";
  EXPECT_RESULT(io_uring_ring_dontfork(&ring), -ENOMEM, "A6");
}

// A9: NO_MMAP with an SQE array larger than a page: liburing 2.9 takes one
// 2 MiB huge page for SQEs and rings and records ring sizes of 0, so only
// the SQE bytes are advised; a part of a hugetlb mapping cannot be split
// off, so madvise fails with -EINVAL.
TEST(RingDontfork, NoMmapHugePageSqeArrayIsEinval) {
  RINGCHECK_RULE("A9");
  RingConfig config = ConfigNamed("no_mmap");
  config.entries = 128;  // 128 * 64 bytes: two pages of SQEs
  CREATE_RING_OR_SKIP(ring, config);
  EXPECT_RESULT(io_uring_ring_dontfork(ring->get()), -EINVAL, "A9");
}

// Not covered (rule A2): a provided-buffer ring from
// io_uring_setup_buf_ring is the application's own mapping; dontfork
// advises only the SQE array and the rings (A2), so the child keeps it.
TEST(RingDontfork, BufferRingStaysReadableInChild) {
  RINGCHECK_RULE("A2");
  REQUIRE_FEATURE("register_pbuf_ring");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  constexpr unsigned kEntries = 8;
  constexpr int kGroup = 7;
  int err = 0;
  io_uring_buf_ring* br = io_uring_setup_buf_ring(ring->get(), kEntries, kGroup, 0, &err);
  ASSERT_NE(br, nullptr) << "io_uring_setup_buf_ring: " << ResultName(err);
  struct Free {
    io_uring* r;
    io_uring_buf_ring* br;
    ~Free() { io_uring_free_buf_ring(r, br, kEntries, kGroup); }
  } free_br{ring->get(), br};
  ASSERT_RESULT(io_uring_ring_dontfork(ring->get()), 0, "A2");
  EXPECT_TRUE(ReadableInChild(br)) << "buffer ring (rule A2: not one of the advised ranges)";
  EXPECT_TRUE(FaultsInChild(ring->get()->sq.sqes)) << "control: SQEs (rule A2)";
}

// Not covered (rule A2): registered buffers are the
// application's memory; they stay in the child.
TEST(RingDontfork, RegisteredBufferStaysReadableInChild) {
  RINGCHECK_RULE("A2");
  REQUIRE_FEATURE("register_buffers");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  Pages buf(1);
  ASSERT_TRUE(buf.ok());
  iovec iov = {buf.page(0), buf.size()};
  ASSERT_RESULT(io_uring_register_buffers(ring->get(), &iov, 1), 0, "A2");
  ASSERT_RESULT(io_uring_ring_dontfork(ring->get()), 0, "A2");
  EXPECT_TRUE(ReadableInChild(buf.page(0))) << "registered buffer (rule A2)";
  EXPECT_TRUE(FaultsInChild(ring->get()->sq.sqes)) << "control: SQEs (rule A2)";
}

}  // namespace
}  // namespace ringcheck
