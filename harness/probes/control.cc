// Probes for the control suite (spec/control.md): ASYNC_CANCEL match keys
// and NOP's extended flags, which no opcode or feature bit announces.
#include <liburing.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <functional>

#include "harness/probe_registry.h"
#include "harness/uapi.h"


namespace {

// These requests complete at once (inline, at prep, or a zero timeout): a
// second is only a bound, never waited out on a kernel that answers.
constexpr int kInline = 1000;

// A cancel that matches nothing: -ENOENT (or 0, the count, for ANY) when the
// kernel knows the flags, -EINVAL when it does not.
bool CancelKnows(unsigned flags) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  int res = ringcheck::ProbeResultOf([&](io_uring_sqe* sqe) {
    io_uring_prep_cancel_fd(sqe, fds[0], 0);
    sqe->cancel_flags = flags;
    sqe->len = IORING_OP_NOP;
  }, kInline);
  close(fds[0]);
  close(fds[1]);
  return res == -ENOENT || res == 0;
}

// NOP's flags: kernels before them ignore nop_flags (and so answer 0),
// later ones refuse flags they do not know with -EINVAL.
int NopResult(unsigned nop_flags, int fd, unsigned len) {
  return ringcheck::ProbeResultOf([&](io_uring_sqe* sqe) {
    io_uring_prep_nop(sqe);
    sqe->nop_flags = nop_flags;
    sqe->fd = fd;
    sqe->len = len;
  }, kInline);
}

}  // namespace

RINGCHECK_PROBE(cancel_fd, "5.19", "IORING_ASYNC_CANCEL_FD on ASYNC_CANCEL") {
  return CancelKnows(IORING_ASYNC_CANCEL_FD);
}

RINGCHECK_PROBE(cancel_any, "5.19", "IORING_ASYNC_CANCEL_ANY on ASYNC_CANCEL") {
  return CancelKnows(IORING_ASYNC_CANCEL_ANY);
}

// Some kernels (Debian 6.1) ignore the OP bit instead of refusing it, so
// ask for a positive answer: a pending POLL_ADD found by its opcode alone.
RINGCHECK_PROBE(cancel_op, "6.6", "IORING_ASYNC_CANCEL_OP and _USERDATA on ASYNC_CANCEL") {
  io_uring ring;
  if (io_uring_queue_init(4, &ring, 0) != 0) return false;
  int fds[2];
  if (pipe(fds) != 0) {
    io_uring_queue_exit(&ring);
    return false;
  }
  io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  io_uring_prep_poll_add(sqe, fds[0], POLLIN);
  sqe->user_data = 7;
  sqe = io_uring_get_sqe(&ring);
  io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_OP);
  sqe->len = IORING_OP_POLL_ADD;
  sqe->user_data = 8;
  bool found = false;
  if (io_uring_submit(&ring) == 2) {
    for (int i = 0; i < 2; ++i) {
      io_uring_cqe* cqe = nullptr;
      if (io_uring_wait_cqe(&ring, &cqe) != 0) break;
      if (cqe->user_data == 8) found = cqe->res == 0;
      io_uring_cqe_seen(&ring, cqe);
      if (cqe->user_data == 8 && !found) break;
    }
  }
  io_uring_queue_exit(&ring);
  close(fds[0]);
  close(fds[1]);
  return found;
}

RINGCHECK_PROBE(nop_inject_result, "6.10", "IORING_NOP_INJECT_RESULT: NOP posts sqe->len") {
  return NopResult(IORING_NOP_INJECT_RESULT, -1, 1234) == 1234;
}

RINGCHECK_PROBE(nop_file, "6.13", "IORING_NOP_FILE: NOP looks up sqe->fd") {
  return NopResult(IORING_NOP_FILE, -1, 0) == -EBADF;
}

RINGCHECK_PROBE(nop_fixed_file, "6.13", "IORING_NOP_FIXED_FILE: NOP looks up a fixed file") {
  return NopResult(IORING_NOP_FILE | IORING_NOP_FIXED_FILE, 0, 0) == -EBADF;
}

RINGCHECK_PROBE(nop_fixed_buffer, "6.13", "IORING_NOP_FIXED_BUFFER: NOP looks up a fixed buffer") {
  return NopResult(IORING_NOP_FIXED_BUFFER, -1, 0) == -EFAULT;
}

// TW only shows in a kernel that checks nop_flags: there an unknown flag is
// -EINVAL, so the injected result coming back proves the flag is known.
RINGCHECK_PROBE(nop_tw, "6.15", "IORING_NOP_TW: NOP completes through task work") {
  return NopResult(IORING_NOP_INJECT_RESULT, -1, 1234) == 1234 &&
         NopResult(IORING_NOP_TW | IORING_NOP_INJECT_RESULT, -1, 1234) == 1234;
}

RINGCHECK_PROBE(timeout_etime_success, "6.0", "IORING_TIMEOUT_ETIME_SUCCESS on TIMEOUT") {
  static __kernel_timespec zero = {0, 0};
  return ringcheck::ProbeResultOf([](io_uring_sqe* sqe) {
           io_uring_prep_timeout(sqe, &zero, 0, IORING_TIMEOUT_ETIME_SUCCESS);
         }, kInline) == -ETIME;
}

RINGCHECK_PROBE(link_timeout_update, "5.15", "IORING_LINK_TIMEOUT_UPDATE on TIMEOUT_REMOVE") {
  static __kernel_timespec ts = {1, 0};
  return ringcheck::ProbeResultOf([](io_uring_sqe* sqe) {
           io_uring_prep_timeout_update(sqe, &ts, 0x5eed, IORING_LINK_TIMEOUT_UPDATE);
         }, kInline) == -ENOENT;
}

// A message to the ring itself: 0 when the kernel knows the flag, -EINVAL
// when it does not.
RINGCHECK_PROBE(msg_ring_flags_pass, "6.3", "IORING_MSG_RING_FLAGS_PASS on MSG_RING") {
  io_uring ring;
  if (io_uring_queue_init(4, &ring, 0) != 0) return false;
  io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  io_uring_prep_msg_ring_cqe_flags(sqe, ring.ring_fd, 0, 1, 0, 0);
  sqe->user_data = 2;
  bool known = false;
  io_uring_cqe* cqe = nullptr;
  if (io_uring_submit(&ring) == 1) {
    for (int i = 0; i < 2 && io_uring_wait_cqe(&ring, &cqe) == 0; ++i) {
      if (cqe->user_data == 2) known = cqe->res == 0;
      bool mine = cqe->user_data == 2;
      io_uring_cqe_seen(&ring, cqe);
      if (mine) break;
    }
  }
  io_uring_queue_exit(&ring);
  return known;
}
