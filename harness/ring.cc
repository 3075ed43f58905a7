#include "harness/ring.h"

#include <sched.h>
#include <sys/mman.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "harness/facts.h"
#include "harness/features.h"
#include "harness/uapi.h"

namespace ringcheck {

uint32_t RingConfig::SetupFlags() const {
  uint32_t f = flags;
  if (mapping != Mapping::kKernel) f |= IORING_SETUP_NO_MMAP;
  if (cq_entries != 0) f |= IORING_SETUP_CQSIZE;
  return f;
}

bool RingConfig::BigCqes() const { return (flags & IORING_SETUP_CQE32) != 0; }

void PrintTo(const RingConfig& config, std::ostream* os) { *os << config.name; }

int Ring::Create(const RingConfig& config, std::unique_ptr<Ring>* out, bool keep_disabled) {
  std::unique_ptr<Ring> r(new Ring());
  r->config_ = config;
  std::memset(&r->params_, 0, sizeof r->params_);
  r->params_.flags = config.SetupFlags();
  r->params_.cq_entries = config.cq_entries;
  r->params_.sq_thread_idle = config.sq_thread_idle;
  int ret;
  if (config.mapping == Mapping::kNoMmapUser) {
    // Page aligned and large enough for the SQE array and both rings.
    r->user_mem_size_ = 1 << 20;
    r->user_mem_ = mmap(nullptr, r->user_mem_size_, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (r->user_mem_ == MAP_FAILED) {
      r->user_mem_ = nullptr;
      return -ENOMEM;
    }
    ret = io_uring_queue_init_mem(config.entries, &r->ring_, &r->params_, r->user_mem_,
                                  r->user_mem_size_);
    if (ret > 0) ret = 0;  // liburing returns the number of bytes it used
  } else {
    if (config.mapping == Mapping::kNoMmapLiburing) {
      // liburing 2.9 to 2.13 put NO_MMAP ring memory in a 2 MiB huge page
      // (rule A8): have one free for this ring, for as long as it lives.
      std::string why_not;
      r->hugepages_ = HugePageReservation::Ensure(1, &why_not);
    }
    ret = io_uring_queue_init_params(config.entries, &r->ring_, &r->params_);
    if (r->hugepages_) r->hugepages_->Settle();  // the ring has its page now
  }
  if (ret < 0) return ret;
  r->initialized_ = true;
  if ((config.flags & IORING_SETUP_R_DISABLED) && !keep_disabled) {
    ret = io_uring_enable_rings(&r->ring_);
    if (ret < 0) return ret;
  }
  *out = std::move(r);
  return 0;
}

Ring::~Ring() {
  if (initialized_) io_uring_queue_exit(&ring_);
  if (user_mem_ != nullptr) munmap(user_mem_, user_mem_size_);
  hugepages_.reset();  // after the ring's memory is gone
}

io_uring_sqe* Ring::NextSqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    NoteQueuedOpcodes();
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  // An SQPOLL thread consumes SQEs on its own time. IORING_ENTER_SQ_WAIT
  // returns once the thread has fetched an SQE, which can be before it
  // publishes the new SQ head that io_uring_get_sqe() reads: wait again
  // until the head moves (bounded).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (sqe == nullptr && (ring_.flags & IORING_SETUP_SQPOLL) &&
         std::chrono::steady_clock::now() < deadline) {
    io_uring_sqring_wait(&ring_);
    sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) sched_yield();
  }
  return sqe;
}

int Ring::Submit() {
  NoteQueuedOpcodes();
  return io_uring_submit(&ring_);
}

void Ring::NoteQueuedOpcodes() {
  const unsigned shift = (ring_.flags & IORING_SETUP_SQE128) ? 1 : 0;
  std::string ops;
  for (unsigned i = ring_.sq.sqe_head; i != ring_.sq.sqe_tail; ++i) {
    const io_uring_sqe& sqe = ring_.sq.sqes[(i & ring_.sq.ring_mask) << shift];
    std::string name = OpcodeName(sqe.opcode);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string id = "op_" + name;
    if (FindFeature(id) != nullptr && ops.find(id + " ") == std::string::npos) ops += id + " ";
  }
  if (!ops.empty()) NoteFeatures(ops);
}

bool Ring::CollectOne(Cqe* out) {
  unsigned head = *ring_.cq.khead;
  unsigned tail = io_uring_smp_load_acquire(ring_.cq.ktail);
  if (head == tail) return false;
  const bool cqe32_ring = (ring_.flags & IORING_SETUP_CQE32) != 0;
  const unsigned shift = cqe32_ring ? 1 : 0;
  const io_uring_cqe* cqe = &ring_.cq.cqes[(head & ring_.cq.ring_mask) << shift];
  out->user_data = cqe->user_data;
  out->res = cqe->res;
  out->flags = cqe->flags;
  const bool mixed_big = (ring_.flags & IORING_SETUP_CQE_MIXED) && (cqe->flags & IORING_CQE_F_32);
  out->big = cqe32_ring || mixed_big;
  if (out->big) {
    out->extra[0] = cqe->big_cqe[0];
    out->extra[1] = cqe->big_cqe[1];
  }
  // On a CQE_MIXED ring a 32-byte CQE takes two slots.
  io_uring_cq_advance(&ring_, mixed_big ? 2 : 1);
  return true;
}

std::vector<Cqe> Ring::Reap(size_t count, std::chrono::milliseconds timeout,
                            bool keep_skip_fillers) {
  std::vector<Cqe> got;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const bool mixed = (ring_.flags & IORING_SETUP_CQE_MIXED) != 0;
  size_t counted = 0;
  while (counted < count) {
    Cqe c;
    if (CollectOne(&c)) {
      if (c.user_data == LIBURING_UDATA_TIMEOUT) continue;  // liburing's own wait timeout
      bool filler = mixed && (c.flags & IORING_CQE_F_SKIP);
      if (!filler) ++counted;
      if (!filler || keep_skip_fillers) got.push_back(c);
      continue;
    }
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::nanoseconds(0)) break;
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    __kernel_timespec ts = {ns / 1000000000, ns % 1000000000};
    io_uring_cqe* cqe = nullptr;
    const auto waited_from = std::chrono::steady_clock::now();
    int ret = io_uring_wait_cqe_timeout(&ring_, &cqe, &ts);
    // Debian 5.10 (the 5.15 io_uring) now and then answers a timed wait on an
    // SQPOLL ring with -ETIME at once, long before its timeout, while the
    // completions are on their way. Reap waits on so that the test checks its
    // own rule, but says so in the test's result (an observation), and
    // NopWait.TimedWaitOnSqpollRingRunsItsCourse checks the wait itself.
    if (ret == -ETIME && std::chrono::steady_clock::now() + std::chrono::milliseconds(2) < deadline) {
      const auto ms = [](auto d) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
      };
      NoteObservation("a timed CQ wait returned -ETIME after " +
                      std::to_string(ms(std::chrono::steady_clock::now() - waited_from)) + " ms of " +
                      std::to_string(ms(deadline - waited_from)) + " ms (" +
                      SetupFlagsString(ring_.flags) + " ring); Ring::Reap waited on");
      continue;
    }
    if (ret == -ETIME) break;
    if (ret < 0 && ret != -EINTR && ret != -EAGAIN) break;
  }
  return got;
}

std::vector<Cqe> Ring::Drain(bool keep_skip_fillers) {
  // A GETEVENTS enter with min_complete 0 runs deferred task work and flushes
  // an overflow backlog without blocking.
  io_uring_get_events(&ring_);
  std::vector<Cqe> got;
  const bool mixed = (ring_.flags & IORING_SETUP_CQE_MIXED) != 0;
  Cqe c;
  while (CollectOne(&c)) {
    if (c.user_data == LIBURING_UDATA_TIMEOUT) continue;
    bool filler = mixed && (c.flags & IORING_CQE_F_SKIP);
    if (!filler || keep_skip_fillers) got.push_back(c);
  }
  return got;
}

int RegisterRingSlot(int ring_fd, unsigned slot) {
  io_uring_rsrc_update entry;
  std::memset(&entry, 0, sizeof entry);
  entry.offset = slot;
  entry.data = static_cast<uint64_t>(ring_fd);
  int ret = io_uring_register(static_cast<unsigned>(ring_fd), IORING_REGISTER_RING_FDS, &entry, 1);
  return ret == 1 ? static_cast<int>(entry.offset) : ret;
}

int UnregisterRingSlot(int ring_fd, unsigned slot) {
  io_uring_rsrc_update entry;
  std::memset(&entry, 0, sizeof entry);
  entry.offset = slot;
  return io_uring_register(static_cast<unsigned>(ring_fd), IORING_UNREGISTER_RING_FDS, &entry, 1);
}

}  // namespace ringcheck
