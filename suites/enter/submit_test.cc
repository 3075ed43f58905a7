// io_uring_enter(2) submission: to_submit against what is queued, invalid
// SQ array entries (the dropped counter), SQPOLL's SQ_WAKEUP and SQ_WAIT,
// REGISTERED_RING and CQ overflow (kernel io_uring.c io_uring_enter,
// io_submit_sqes, io_get_sqe; sqpoll.c io_sq_thread, io_sqpoll_wait_sq).
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include <cerrno>

#include "harness/configs.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/register/register_util.h"

namespace ringcheck {
namespace {

// Queues `count` NOPs and publishes the SQ tail without entering the kernel.
void QueueNops(Ring& ring, unsigned count, uint64_t base) {
  io_uring* r = ring.get();
  for (unsigned i = 0; i < count; ++i) {
    io_uring_sqe* sqe = io_uring_get_sqe(r);
    io_uring_prep_nop(sqe);
    sqe->user_data = base + i;
  }
  __atomic_store_n(r->sq.ktail, r->sq.sqe_tail, __ATOMIC_RELEASE);
}

// J93, J94: to_submit larger than what is queued (or than the SQ) submits
// what is queued and returns that count.
TEST(EnterSubmit, ToSubmitLargerThanQueuedSubmitsWhatIsThere) {
  RINGCHECK_RULE("J93");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  QueueNops(*ring, 3, 1);
  EXPECT_RESULT(EnterRaw(ring->fd(), 6, 0, 0, nullptr, 0), 3, "J93");
  EXPECT_EQ(ring->Reap(3).size(), 3u);
}

TEST(EnterSubmit, ToSubmitLargerThanTheSqSubmitsTheSq) {
  RINGCHECK_RULE("J94");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  unsigned entries = ring->get()->sq.ring_entries;
  QueueNops(*ring, entries, 1);
  EXPECT_RESULT(EnterRaw(ring->fd(), entries * 4 + 1000, 0, 0, nullptr, 0),
                static_cast<long>(entries), "J94");
  EXPECT_EQ(ring->Reap(entries).size(), entries);
}

// A ring set up without liburing (which asks for NO_SQARRAY where it can),
// so that it has an SQ index array.
class RawRing {
 public:
  RawRing() {
    io_uring_params p = {};
    fd_ = static_cast<int>(syscall(__NR_io_uring_setup, 4, &p));
    if (fd_ < 0) return;
    params_ = p;
    sq_size_ = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
    if (cq_size > sq_size_) sq_size_ = cq_size;  // one mapping (FEAT_SINGLE_MMAP)
    sq_ = mmap(nullptr, sq_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_,
               IORING_OFF_SQ_RING);
    sqes_ = static_cast<io_uring_sqe*>(mmap(nullptr, p.sq_entries * sizeof(io_uring_sqe),
                                            PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                                            fd_, IORING_OFF_SQES));
  }
  ~RawRing() {
    if (sqes_ != nullptr && sqes_ != MAP_FAILED)
      munmap(sqes_, params_.sq_entries * sizeof(io_uring_sqe));
    if (sq_ != nullptr && sq_ != MAP_FAILED) munmap(sq_, sq_size_);
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const {
    return fd_ >= 0 && sq_ != MAP_FAILED && sqes_ != MAP_FAILED &&
           (params_.features & IORING_FEAT_SINGLE_MMAP);
  }
  int fd() const { return fd_; }
  unsigned* Field(unsigned off) { return reinterpret_cast<unsigned*>(static_cast<char*>(sq_) + off); }
  unsigned* array() { return Field(params_.sq_off.array); }
  unsigned* head() { return Field(params_.sq_off.head); }
  unsigned* tail() { return Field(params_.sq_off.tail); }
  unsigned* dropped() { return Field(params_.sq_off.dropped); }
  unsigned* cq_head() { return Field(params_.cq_off.head); }
  unsigned* cq_tail() { return Field(params_.cq_off.tail); }
  io_uring_cqe* cqes() {
    return reinterpret_cast<io_uring_cqe*>(static_cast<char*>(sq_) + params_.cq_off.cqes);
  }
  io_uring_sqe* sqes() { return sqes_; }
  const io_uring_params& params() const { return params_; }

 private:
  int fd_ = -1;
  io_uring_params params_ = {};
  void* sq_ = nullptr;
  size_t sq_size_ = 0;
  io_uring_sqe* sqes_ = nullptr;
};

// J95: an SQ array entry naming no SQE (index >= sq_entries) is skipped:
// the kernel consumes it, counts it in sq.dropped and posts no CQE; a
// valid entry behind it is submitted by a later call.
TEST(EnterSubmit, InvalidSqIndexIsDropped) {
  RINGCHECK_RULE("J95");
  RawRing ring;
  ASSERT_TRUE(ring.ok()) << "raw io_uring_setup and mmap failed";
  std::memset(&ring.sqes()[0], 0, sizeof(io_uring_sqe));
  ring.sqes()[0].opcode = IORING_OP_NOP;
  ring.sqes()[0].user_data = 95;
  ring.array()[0] = ring.params().sq_entries + 100;  // no such SQE
  __atomic_store_n(ring.tail(), 1u, __ATOMIC_RELEASE);
  long ret = EnterRaw(ring.fd(), 1, 0, 0, nullptr, 0);
  EXPECT_TRUE(ret == 0 || ret == -EAGAIN) << "J95: " << ResultName(ret);
  EXPECT_EQ(__atomic_load_n(ring.dropped(), __ATOMIC_ACQUIRE), 1u) << "J95: sq.dropped";
  EXPECT_EQ(__atomic_load_n(ring.head(), __ATOMIC_ACQUIRE), 1u) << "J95: entry consumed";
  ring.array()[1] = 0;  // now a valid entry
  __atomic_store_n(ring.tail(), 2u, __ATOMIC_RELEASE);
  EXPECT_RESULT(EnterRaw(ring.fd(), 1, 1, IORING_ENTER_GETEVENTS, nullptr, 0), 1, "J95");
  unsigned cq_tail = __atomic_load_n(ring.cq_tail(), __ATOMIC_ACQUIRE);
  ASSERT_EQ(cq_tail - *ring.cq_head(), 1u) << "J95: one CQE, for the valid entry";
  EXPECT_EQ(ring.cqes()[*ring.cq_head() & (ring.params().cq_entries - 1)].user_data, 95u);
}

class Sqpoll : public ::testing::Test {
 protected:
  void SetUp() override {
    RingConfig config = ConfigNamed("sqpoll");
    config.sq_thread_idle = 10;
    config.entries = 4;
    std::string why;
    if (CreateRingForTest(config, &ring_, &why) != 0) GTEST_SKIP() << why;
  }
  unsigned SqFlags() { return __atomic_load_n(ring_->get()->sq.kflags, __ATOMIC_ACQUIRE); }
  bool WaitForNeedWakeup() {
    int64_t deadline = MonotonicNs() + 10'000'000'000;
    while (!(SqFlags() & IORING_SQ_NEED_WAKEUP) && MonotonicNs() < deadline) sched_yield();
    return SqFlags() & IORING_SQ_NEED_WAKEUP;
  }
  std::unique_ptr<Ring> ring_;
};

// J102: an idle SQ thread sets IORING_SQ_NEED_WAKEUP and stops reading the
// SQ; SQ_WAKEUP wakes it and it consumes what is queued.
TEST_F(Sqpoll, IdleThreadNeedsWakeup) {
  RINGCHECK_RULE("J102");
  ASSERT_TRUE(WaitForNeedWakeup()) << "J102: NEED_WAKEUP never set with a 10 ms idle time";
  QueueNops(*ring_, 1, 21);
  EXPECT_TRUE(ring_->Reap(1, std::chrono::milliseconds(200)).empty())
      << "J102: a sleeping SQ thread consumed an SQE without a wakeup";
  EXPECT_SUCCESS(EnterRaw(ring_->fd(), 0, 0, IORING_ENTER_SQ_WAKEUP, nullptr, 0), "J102");
  Cqe c = ReapOne(*ring_);
  EXPECT_EQ(c.user_data, 21u) << "J102: nothing after SQ_WAKEUP";
}

// J103: on an SQPOLL ring io_uring_enter returns to_submit without
// submitting anything itself.
TEST_F(Sqpoll, EnterReturnsToSubmit) {
  RINGCHECK_RULE("J103");
  EXPECT_RESULT(EnterRaw(ring_->fd(), 3, 0, IORING_ENTER_SQ_WAKEUP, nullptr, 0), 3, "J103");
}

// J104: SQ_WAIT returns once the SQ has room.
TEST_F(Sqpoll, SqWaitReturnsWithRoom) {
  RINGCHECK_RULE("J104");
  unsigned entries = ring_->get()->sq.ring_entries;
  QueueNops(*ring_, entries, 100);
  EXPECT_SUCCESS(
      EnterRaw(ring_->fd(), 0, 0, IORING_ENTER_SQ_WAKEUP | IORING_ENTER_SQ_WAIT, nullptr, 0),
      "J104");
  // The kernel's own head (cached_sq_head) moved; the shared one follows
  // when the SQ thread commits its batch.
  int64_t deadline = MonotonicNs() + 5'000'000'000;
  while (ring_->get()->sq.sqe_tail - __atomic_load_n(ring_->get()->sq.khead, __ATOMIC_ACQUIRE) ==
             entries &&
         MonotonicNs() < deadline) {
    sched_yield();
  }
  EXPECT_LT(ring_->get()->sq.sqe_tail - *ring_->get()->sq.khead, entries) << "J104";
  EXPECT_EQ(ring_->Reap(entries).size(), entries);
  ring_->get()->sq.sqe_head = ring_->get()->sq.sqe_tail;
}

// J105: IORING_ENTER_REGISTERED_RING takes a registered index instead of
// the fd (spec/ringfd.md B1-B12 has the rules); an index with nothing
// registered is -EINVAL... here: a registered index enters the ring.
TEST(EnterRegisteredRing, IndexEntersTheRing) {
  RINGCHECK_RULE("J105");
  REQUIRE_FEATURE("enter_registered_ring");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  ASSERT_EQ(io_uring_register_ring_fd(ring->get()), 1);
  unsigned index = static_cast<unsigned>(ring->get()->enter_ring_fd);
  QueueNops(*ring, 1, 5);
  EXPECT_RESULT(EnterRaw(static_cast<int>(index), 1, 1,
                         IORING_ENTER_GETEVENTS | IORING_ENTER_REGISTERED_RING, nullptr, 0),
                1, "J105");
  EXPECT_EQ(ring->Drain().size(), 1u);
  EXPECT_SOME_ERROR(EnterRaw(ring->fd(), 0, 0, IORING_ENTER_REGISTERED_RING, nullptr, 0),
                    "J105: the fd is not a registered index");
  io_uring_unregister_ring_fd(ring->get());
}

// J106: a full CQ does not lose completions on IORING_FEAT_NODROP kernels;
// the counts, -EBADR and -EBUSY are spec/cqe.md D14-D19. Here: enter keeps
// submitting with a full CQ and the backlog is flushed as space frees.
TEST(EnterOverflow, SubmitWithFullCqKeepsCompletions) {
  RINGCHECK_RULE("J106");
  REQUIRE_FEATURE("feat_nodrop");
  RingConfig config = ConfigNamed("default");
  config.entries = 4;
  CREATE_RING_OR_SKIP(ring, config);
  unsigned cq = ring->get()->cq.ring_entries;
  unsigned total = cq + 4;
  for (unsigned sent = 0; sent < total;) {
    unsigned n = std::min(4u, total - sent);
    ASSERT_EQ(SubmitNops(*ring, n, 1000 + sent), static_cast<int>(n)) << "J106";
    sent += n;
  }
  EXPECT_EQ(ring->Reap(total).size(), total) << "J106: completions lost";
}

}  // namespace
}  // namespace ringcheck
