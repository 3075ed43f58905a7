// Probes for request flags that no opcode or feature bit announces: each
// submits one request on a scratch ring, and a kernel that does not know the
// flag refuses it at prep with -EINVAL.
#include <liburing.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <functional>

#include "harness/fd.h"
#include "harness/net.h"
#include "harness/probe_registry.h"

namespace ringcheck {
namespace {

// True unless the kernel answers the request with an immediate -EINVAL.
// Requests still pending are cancelled when the scratch ring is torn down.
bool Accepts(const std::function<void(io_uring_sqe*)>& prep) {
  io_uring ring;
  if (io_uring_queue_init(4, &ring, 0) != 0) return false;
  io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  prep(sqe);
  sqe->user_data = 1;
  bool accepted = io_uring_submit(&ring) == 1;
  io_uring_cqe* cqe = nullptr;
  if (accepted && io_uring_peek_cqe(&ring, &cqe) == 0 && cqe->res == -EINVAL) accepted = false;
  io_uring_queue_exit(&ring);
  return accepted;
}

bool OnPipe(const std::function<void(io_uring_sqe*, int read_fd)>& prep) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  UniqueFd r(fds[0]), w(fds[1]);
  return Accepts([&](io_uring_sqe* sqe) { prep(sqe, r.get()); });
}

bool OnListener(const std::function<void(io_uring_sqe*, int listen_fd)>& prep) {
  Listener listener;
  if (Listener::Create(Transport::kUnixStream, &listener) != 0) return false;
  return Accepts([&](io_uring_sqe* sqe) { prep(sqe, listener.fd()); });
}

bool OnSocketPair(const std::function<void(io_uring_sqe*, int fd)>& prep) {
  SocketPair pair;
  if (ConnectedPair(Transport::kUnixStream, &pair) != 0) return false;
  return Accepts([&](io_uring_sqe* sqe) { prep(sqe, pair.a.get()); });
}

}  // namespace
}  // namespace ringcheck

using ringcheck::Accepts;
using ringcheck::OnListener;
using ringcheck::OnPipe;
using ringcheck::OnSocketPair;

RINGCHECK_PROBE(poll_multishot, "5.13", "IORING_POLL_ADD_MULTI on POLL_ADD") {
  return OnPipe([](io_uring_sqe* sqe, int fd) { io_uring_prep_poll_multishot(sqe, fd, POLLIN); });
}

RINGCHECK_PROBE(accept_multishot, "5.19", "IORING_ACCEPT_MULTISHOT on ACCEPT") {
  return OnListener([](io_uring_sqe* sqe, int fd) {
    io_uring_prep_multishot_accept(sqe, fd, nullptr, nullptr, SOCK_CLOEXEC);
  });
}

RINGCHECK_PROBE(accept_dontwait, "6.10", "IORING_ACCEPT_DONTWAIT on ACCEPT") {
  return OnListener([](io_uring_sqe* sqe, int fd) {
    io_uring_prep_accept(sqe, fd, nullptr, nullptr, SOCK_CLOEXEC);
    sqe->ioprio |= IORING_ACCEPT_DONTWAIT;
  });
}

RINGCHECK_PROBE(recv_multishot, "6.0", "IORING_RECV_MULTISHOT on RECV") {
  return OnSocketPair([](io_uring_sqe* sqe, int fd) {
    io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = 0x7ff1;  // no such group: only prep is asked
  });
}

RINGCHECK_PROBE(timeout_multishot, "6.4", "IORING_TIMEOUT_MULTISHOT on TIMEOUT") {
  static __kernel_timespec ts = {10, 0};
  return Accepts([](io_uring_sqe* sqe) { io_uring_prep_timeout(sqe, &ts, 0, IORING_TIMEOUT_MULTISHOT); });
}

// AF_UNIX has no zero copy: a kernel that knows the flag fails the send with
// -EOPNOTSUPP at issue, one that does not refuses it at prep.
RINGCHECK_PROBE(send_zc_report_usage, "6.2", "IORING_SEND_ZC_REPORT_USAGE on SEND_ZC") {
  static char byte = 0;
  return OnSocketPair([](io_uring_sqe* sqe, int fd) {
    io_uring_prep_send_zc(sqe, fd, &byte, 1, 0, IORING_SEND_ZC_REPORT_USAGE);
  });
}

RINGCHECK_PROBE(pbuf_ring_inc, "6.12", "IOU_PBUF_RING_INC: incrementally consumed buffer rings") {
  io_uring ring;
  if (io_uring_queue_init(2, &ring, 0) != 0) return false;
  int err = 0;
  io_uring_buf_ring* br = io_uring_setup_buf_ring(&ring, 1, 0, IOU_PBUF_RING_INC, &err);
  if (br != nullptr) io_uring_free_buf_ring(&ring, br, 1, 0);
  io_uring_queue_exit(&ring);
  return br != nullptr;
}
