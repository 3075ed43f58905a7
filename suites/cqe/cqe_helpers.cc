#include "suites/cqe/cqe_helpers.h"

#include <poll.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "harness/errno_names.h"
#include "harness/features.h"
#include "harness/fd.h"
#include "harness/net.h"

namespace ringcheck {
namespace cqe {

std::vector<RingConfig> FlagConfigs() {
  std::vector<RingConfig> out;
  for (const char* name :
       {"default", "sqpoll", "defer_taskrun_single_issuer", "cqe32", "cqe_mixed"}) {
    out.push_back(ConfigNamed(name));
  }
  return out;
}

io_uring_sqe* QueueSqe(Ring& ring, uint64_t user_data, uint8_t sqe_flags) {
  io_uring_sqe* sqe = ring.NextSqe();
  if (sqe == nullptr) return nullptr;
  io_uring_prep_nop(sqe);
  sqe->user_data = user_data;
  sqe->flags = sqe_flags;
  return sqe;
}

void QueueNop(Ring& ring, uint64_t user_data, uint8_t sqe_flags) {
  io_uring_sqe* sqe = ring.NextSqe();
  ASSERT_NE(sqe, nullptr);
  io_uring_prep_nop(sqe);
  sqe->user_data = user_data;
  sqe->flags = sqe_flags;
}

void QueueFailingRead(Ring& ring, uint64_t user_data, uint8_t sqe_flags) {
  static char sink[8];
  io_uring_sqe* sqe = ring.NextSqe();
  ASSERT_NE(sqe, nullptr);
  io_uring_prep_read(sqe, -1, sink, sizeof sink, 0);
  sqe->user_data = user_data;
  sqe->flags = sqe_flags;
}

void WaitSqConsumed(Ring& ring) {
  io_uring* r = ring.get();
  if (!(r->flags & IORING_SETUP_SQPOLL)) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (io_uring_smp_load_acquire(r->sq.khead) != *r->sq.ktail &&
         std::chrono::steady_clock::now() < deadline) {
    if (IO_URING_READ_ONCE(*r->sq.kflags) & IORING_SQ_NEED_WAKEUP) {
      io_uring_enter(r->ring_fd, 0, 0, IORING_ENTER_SQ_WAKEUP, nullptr);
    }
    sched_yield();
  }
}

::testing::AssertionResult SubmitExpect(Ring& ring, int n) {
  WaitSqConsumed(ring);
  int ret = ring.Submit();
  if (ret == n) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "io_uring_submit returned " << ResultName(ret) << ", expected " << n;
}

void SkipTest::SetUpRing() {
  REQUIRE_FEATURE("feat_cqe_skip");
  SetUpSkipTest();
}

std::vector<Cqe> SkipTest::SubmitWithMarker(int n, size_t count) {
  EXPECT_TRUE(SubmitExpect(ring(), n));
  QueueNop(ring(), kMarker);
  EXPECT_TRUE(SubmitExpect(ring(), 1));
  return ReapAll(ring(), count);
}

}  // namespace cqe
}  // namespace ringcheck
