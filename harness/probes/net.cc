// Probes for the network suite (spec/net.md): request flags and socket
// commands that no opcode or feature bit announces. Each runs one request on
// a scratch ring and reads how the kernel answered.
#include <liburing.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <functional>

#include "harness/fd.h"
#include "harness/net.h"
#include "harness/probe_registry.h"

namespace ringcheck {
namespace {

int OnUnixStream(const std::function<void(io_uring_sqe*, int fd)>& prep) {
  SocketPair pair;
  if (ConnectedPair(Transport::kUnixStream, &pair) != 0) return -ENOSYS;
  return ProbeResultOf([&](io_uring_sqe* sqe) { prep(sqe, pair.a.get()); }, 0);
}

int SockCmdOnTcp(int cmd_op, int optname) {
  SocketPair pair;
  if (ConnectedPair(Transport::kTcpLoopback, &pair) != 0) return -ENOSYS;
  static int val = 1;
  return ProbeResultOf([&](io_uring_sqe* sqe) {
    io_uring_prep_cmd_sock(sqe, cmd_op, pair.a.get(), SOL_SOCKET, optname, &val, sizeof val);
  }, 1000);
}

}  // namespace
}  // namespace ringcheck

// An empty accept queue: a kernel that knows the flag waits (no CQE), one
// that does not refuses it at prep with -EINVAL.
RINGCHECK_PROBE(accept_poll_first, "6.10", "IORING_ACCEPT_POLL_FIRST on ACCEPT") {
  ringcheck::Listener listener;
  if (ringcheck::Listener::Create(ringcheck::Transport::kUnixStream, &listener) != 0) return false;
  return ringcheck::ProbeResultOf([&](io_uring_sqe* sqe) {
           io_uring_prep_accept(sqe, listener.fd(), nullptr, nullptr, SOCK_CLOEXEC);
           sqe->ioprio |= IORING_ACCEPT_POLL_FIRST;
         }, 0) != -EINVAL;
}

// An empty socket: multishot recv with a bundle waits; unknown flags fail
// prep with -EINVAL.
RINGCHECK_PROBE(recv_bundle, "6.10", "IORING_RECVSEND_BUNDLE on RECV") {
  return ringcheck::OnUnixStream([](io_uring_sqe* sqe, int fd) {
           io_uring_prep_recv(sqe, fd, nullptr, 0, 0);
           sqe->ioprio |= IORING_RECVSEND_BUNDLE;
           sqe->flags |= IOSQE_BUFFER_SELECT;
           sqe->buf_group = 0x7ff2;
         }) != -EINVAL;
}

RINGCHECK_PROBE(sock_cmd_ioctl, "6.7", "SOCKET_URING_OP_SIOCINQ/SIOCOUTQ on URING_CMD") {
  return ringcheck::SockCmdOnTcp(SOCKET_URING_OP_SIOCINQ, 0) >= 0;
}

RINGCHECK_PROBE(sock_cmd_getsockopt, "6.7", "SOCKET_URING_OP_GETSOCKOPT on URING_CMD") {
  return ringcheck::SockCmdOnTcp(SOCKET_URING_OP_GETSOCKOPT, SO_TYPE) >= 0;
}

RINGCHECK_PROBE(sock_cmd_setsockopt, "6.7", "SOCKET_URING_OP_SETSOCKOPT on URING_CMD") {
  return ringcheck::SockCmdOnTcp(SOCKET_URING_OP_SETSOCKOPT, SO_KEEPALIVE) >= 0;
}

// pbuf_ring_mmap is probed in harness/probes/register.cc.

// IORING_REGISTER_ZCRX_IFQ that gets as far as reading its region
// descriptor: a well-formed call whose region_ptr is NULL is -EFAULT on a
// kernel with zero-copy receive built in; older kernels refuse the opcode
// (-EINVAL) and kernels built without CONFIG_IO_URING_ZCRX answer
// -EOPNOTSUPP. Needs a DEFER_TASKRUN ring with 32-byte CQEs.
RINGCHECK_PROBE(zcrx_ifq, "6.15", "IORING_REGISTER_ZCRX_IFQ (zero-copy receive built in)") {
  io_uring ring;
  unsigned flags = IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_CQE32;
  if (io_uring_queue_init(4, &ring, flags) != 0) return false;
  struct {
    uint32_t if_idx, if_rxq, rq_entries, flags;
    uint64_t area_ptr, region_ptr;
    uint64_t offsets[4];
    uint32_t zcrx_id, resv2;
    uint64_t resv[3];
  } reg = {};
  reg.if_idx = 1;
  reg.rq_entries = 64;
  int ret = io_uring_register(ring.ring_fd, 32 /* IORING_REGISTER_ZCRX_IFQ */, &reg, 1);
  io_uring_queue_exit(&ring);
  return ret == -EFAULT;
}

// AF_UNIX stream sockets report the bytes left after a receive (msg_inq),
// which io_uring turns into IORING_CQE_F_SOCK_NONEMPTY, since they accept
// SO_INQ.
RINGCHECK_PROBE(unix_so_inq, "6.17", "SO_INQ on AF_UNIX stream sockets (msg_inq after recv)") {
  ringcheck::SocketPair pair;
  if (ringcheck::ConnectedPair(ringcheck::Transport::kUnixStream, &pair) != 0) return false;
  int one = 1;
  return setsockopt(pair.a.get(), SOL_SOCKET, 84 /* SO_INQ */, &one, sizeof one) == 0;
}

// An empty socket: a RECV with IORING_RECVSEND_POLL_FIRST waits; a kernel
// that does not know ioprio flags on RECV refuses it with -EINVAL.
RINGCHECK_PROBE(recvsend_poll_first, "5.19", "IORING_RECVSEND_POLL_FIRST on SEND/RECV") {
  static char byte;
  return ringcheck::OnUnixStream([](io_uring_sqe* sqe, int fd) {
           io_uring_prep_recv(sqe, fd, &byte, 1, 0);
           sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
         }) == ringcheck::kProbePending;
}

// A length on a multishot RECV (a cap per completion): kernels before it
// refuse a non-zero len at prep with -EINVAL.
RINGCHECK_PROBE(recv_multishot_len, "6.15", "a non-zero len on multishot RECV caps each completion") {
  return ringcheck::OnUnixStream([](io_uring_sqe* sqe, int fd) {
           io_uring_prep_recv_multishot(sqe, fd, nullptr, 16, 0);
           sqe->flags |= IOSQE_BUFFER_SELECT;
           sqe->buf_group = 0x7ff3;
         }) != -EINVAL;
}
