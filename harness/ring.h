// A ring owned by a test (RAII), built from a named configuration.
#ifndef RINGCHECK_HARNESS_RING_H_
#define RINGCHECK_HARNESS_RING_H_

#include <liburing.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "harness/hugepages.h"

namespace ringcheck {

// How long a test waits before it concludes that no further CQE is coming
// (the absence checks: a skipped CQE, a cancelled link). A CQE that the
// kernel posts later than this is missed, never mistaken.
constexpr std::chrono::milliseconds kNoMoreCqes(50);

// IORING_REGISTER_RING_FDS with one entry: registers `ring_fd` at `slot`
// (-1U: the first free slot) of the calling thread's table of registered
// rings. The slot it went to, or the -errno of the call.
int RegisterRingSlot(int ring_fd, unsigned slot = -1U);
// IORING_UNREGISTER_RING_FDS with one entry: empties `slot` of the calling
// thread's table. The kernel's return value (1: one slot emptied), or -errno.
int UnregisterRingSlot(int ring_fd, unsigned slot);

// How the SQ/CQ rings and the SQE array get their memory.
enum class Mapping {
  kKernel,          // the kernel allocates, liburing mmaps (the classic way)
  kNoMmapLiburing,  // IORING_SETUP_NO_MMAP with memory liburing allocates
  kNoMmapUser,      // IORING_SETUP_NO_MMAP with the caller's memory (io_uring_queue_init_mem)
};

struct RingConfig {
  std::string name;  // readable, used as the test parameter name
  unsigned entries = 8;
  uint32_t flags = 0;         // IORING_SETUP_*; NO_MMAP is implied by the mapping
  unsigned cq_entries = 0;    // with IORING_SETUP_CQSIZE
  unsigned sq_thread_idle = 0;  // with IORING_SETUP_SQPOLL, milliseconds
  Mapping mapping = Mapping::kKernel;

  uint32_t SetupFlags() const;  // flags plus what the mapping implies
  bool BigCqes() const;         // 32-byte CQEs everywhere (CQE32)
};

// For GoogleTest: print a configuration by its name.
void PrintTo(const RingConfig& config, std::ostream* os);

// One completion, copied out of the CQ ring.
struct Cqe {
  uint64_t user_data = 0;
  int32_t res = 0;
  uint32_t flags = 0;
  bool big = false;          // a 32-byte CQE (CQE32 ring, or F_32 on CQE_MIXED)
  uint64_t extra[2] = {0, 0};  // big CQEs only
};

class Ring {
 public:
  // Sets up a ring; returns 0 or the -errno from liburing/the kernel. R_DISABLED
  // rings are enabled before return unless keep_disabled is set.
  static int Create(const RingConfig& config, std::unique_ptr<Ring>* out,
                    bool keep_disabled = false);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  io_uring* get() { return &ring_; }
  const RingConfig& config() const { return config_; }
  const io_uring_params& params() const { return params_; }
  int fd() const { return ring_.ring_fd; }  // -1 for REGISTERED_FD_ONLY rings

  // The next free SQE, submitting what is queued when the SQ is full.
  // Never null on a working ring; zeroed by liburing's prep helpers.
  io_uring_sqe* NextSqe();
  int Submit();  // io_uring_submit: number submitted or -errno

  // Waits until `count` CQEs (F_SKIP fillers of CQE_MIXED rings excepted)
  // have arrived or the timeout passes; returns those that arrived, in order.
  std::vector<Cqe> Reap(size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(5),
                        bool keep_skip_fillers = false);
  // Collects whatever is in the CQ now (after one non-blocking GETEVENTS
  // enter, so deferred task work runs); waits for nothing.
  std::vector<Cqe> Drain(bool keep_skip_fillers = false);

 private:
  Ring() = default;
  bool CollectOne(Cqe* out);
  void NoteQueuedOpcodes();  // the opcodes about to be submitted count as exercised  // copies and consumes the CQE at head; false if empty

  io_uring ring_ = {};
  io_uring_params params_ = {};
  RingConfig config_;
  std::unique_ptr<HugePageReservation> hugepages_;  // kNoMmapLiburing on a machine without free ones
  void* user_mem_ = nullptr;
  size_t user_mem_size_ = 0;
  bool initialized_ = false;
};

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_RING_H_
