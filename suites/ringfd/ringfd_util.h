// Raw access to the per-task table of registered ring fds (rules B1-B20),
// without liburing's bookkeeping in between.
#ifndef RINGCHECK_SUITES_RINGFD_RINGFD_UTIL_H_
#define RINGCHECK_SUITES_RINGFD_RINGFD_UTIL_H_

#include <liburing.h>

#include <chrono>
#include <cstdint>

#include "harness/fd.h"
#include "harness/ring.h"

namespace ringcheck {

constexpr unsigned kRingSlots = 16;  // IO_RINGFD_REG_MAX
constexpr unsigned kAnySlot = -1U;   // "the first free slot"

// One io_uring_rsrc_update entry as RING_FDS reads it.
io_uring_rsrc_update SlotEntry(unsigned offset, uint64_t data, uint32_t resv = 0);

// IORING_(UN)REGISTER_RING_FDS through `ring_fd`: the kernel's return value.
int RegisterRingFds(int ring_fd, io_uring_rsrc_update* entries, unsigned nr);
int UnregisterRingFds(int ring_fd, io_uring_rsrc_update* entries, unsigned nr);

// One slot at a time: RegisterRingSlot/UnregisterRingSlot (harness/ring.h).

// io_uring_enter(index, 0, 0, IORING_ENTER_REGISTERED_RING | GETEVENTS):
// 0 when the index names a ring in the calling thread's table.
int EnterThroughSlot(unsigned index);
// IORING_REGISTER_PROBE with IORING_REGISTER_USE_REGISTERED_RING: 0 when the
// index names a ring in the calling thread's table.
int ProbeThroughSlot(unsigned index);

// Queues a NOP on `ring` and makes it visible to the kernel (the SQ tail),
// without entering the kernel.
void PublishNop(io_uring* ring, uint64_t user_data);
// PublishNop, then io_uring_enter(index, 1, 0, REGISTERED_RING): the number
// of SQEs the kernel consumed from the ring that `index` names, or -errno.
int SubmitNopThroughSlot(io_uring* ring, unsigned index, uint64_t user_data);
// How many SQEs the kernel has consumed from `ring` so far (its SQ head).
unsigned SqConsumed(io_uring* ring);

// A pipe whose write end only a ring keeps open: the read end reports
// POLLHUP once the ring is freed (its fixed-file table released). That is
// how a test sees when the last reference to a ring went away.
class RingLifeline {
 public:
  // Registers the write end as fixed file 0 of `ring` and closes this
  // process's own copy. false if either step failed.
  bool Attach(io_uring* ring);
  // Waits up to `timeout` for the ring to be freed.
  bool RingFreedWithin(std::chrono::milliseconds timeout) const;

 private:
  UniqueFd read_end_;
};

}  // namespace ringcheck

#endif  // RINGCHECK_SUITES_RINGFD_RINGFD_UTIL_H_
