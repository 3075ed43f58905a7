#include "suites/ringfd/ringfd_util.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ringcheck {

io_uring_rsrc_update SlotEntry(unsigned offset, uint64_t data, uint32_t resv) {
  io_uring_rsrc_update e;
  std::memset(&e, 0, sizeof e);
  e.offset = offset;
  e.resv = resv;
  e.data = data;
  return e;
}

int RegisterRingFds(int ring_fd, io_uring_rsrc_update* entries, unsigned nr) {
  return io_uring_register(static_cast<unsigned>(ring_fd), IORING_REGISTER_RING_FDS, entries, nr);
}

int UnregisterRingFds(int ring_fd, io_uring_rsrc_update* entries, unsigned nr) {
  return io_uring_register(static_cast<unsigned>(ring_fd), IORING_UNREGISTER_RING_FDS, entries, nr);
}

int EnterThroughSlot(unsigned index) {
  return io_uring_enter(index, 0, 0, IORING_ENTER_REGISTERED_RING | IORING_ENTER_GETEVENTS,
                        nullptr);
}

int ProbeThroughSlot(unsigned index) {
  char buf[sizeof(io_uring_probe) + 8 * sizeof(io_uring_probe_op)] = {};
  return io_uring_register(index, IORING_REGISTER_PROBE | IORING_REGISTER_USE_REGISTERED_RING, buf,
                           8);
}

void PublishNop(io_uring* ring, uint64_t user_data) {
  io_uring_sqe* sqe = io_uring_get_sqe(ring);
  if (sqe == nullptr) return;
  io_uring_prep_nop(sqe);
  sqe->user_data = user_data;
  // What liburing's submit does before it enters: publish the new tail. The
  // SQ array (if any) is the identity map liburing set up at init.
  ring->sq.sqe_head = ring->sq.sqe_tail;
  io_uring_smp_store_release(ring->sq.ktail, ring->sq.sqe_tail);
}

int SubmitNopThroughSlot(io_uring* ring, unsigned index, uint64_t user_data) {
  PublishNop(ring, user_data);
  return io_uring_enter(index, 1, 0, IORING_ENTER_REGISTERED_RING, nullptr);
}

unsigned SqConsumed(io_uring* ring) { return io_uring_smp_load_acquire(ring->sq.khead); }

bool RingLifeline::Attach(io_uring* ring) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end_.reset(fds[0]);
  UniqueFd write_end(fds[1]);
  return io_uring_register_files(ring, &fds[1], 1) == 0;
}

bool RingLifeline::RingFreedWithin(std::chrono::milliseconds timeout) const {
  pollfd p = {read_end_.get(), POLLIN, 0};
  int n;
  do {
    n = poll(&p, 1, static_cast<int>(timeout.count()));
  } while (n < 0 && errno == EINTR);
  return n > 0 && (p.revents & POLLHUP) != 0;
}

}  // namespace ringcheck
