#include "harness/net.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ringcheck {
namespace {

int Errno() { return -errno; }

// An abstract AF_UNIX name no other test (or process) uses.
void UniqueUnixAddress(sockaddr_un* addr, socklen_t* len) {
  static std::atomic<unsigned> counter{0};
  std::memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  // sun_path[0] == '\0' makes the name abstract.
  int n = std::snprintf(addr->sun_path + 1, sizeof addr->sun_path - 1, "ringcheck-%d-%u-%lx",
                        static_cast<int>(getpid()), counter.fetch_add(1),
                        static_cast<unsigned long>(
                            std::chrono::steady_clock::now().time_since_epoch().count()));
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n);
}

void NoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

const char* TransportName(Transport transport) {
  return transport == Transport::kTcpLoopback ? "tcp_loopback" : "unix_stream";
}

int Listener::Create(Transport transport, Listener* out, int backlog) {
  out->transport_ = transport;
  const int domain = transport == Transport::kTcpLoopback ? AF_INET : AF_UNIX;
  out->fd_.reset(socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!out->fd_.valid()) return Errno();
  if (transport == Transport::kTcpLoopback) {
    sockaddr_in in = {};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    in.sin_port = 0;  // the kernel picks a free port
    if (bind(out->fd_.get(), reinterpret_cast<sockaddr*>(&in), sizeof in) != 0) return Errno();
    socklen_t len = sizeof out->addr_;
    if (getsockname(out->fd_.get(), reinterpret_cast<sockaddr*>(&out->addr_), &len) != 0) {
      return Errno();
    }
    out->addr_len_ = len;
  } else {
    sockaddr_un un;
    socklen_t len;
    UniqueUnixAddress(&un, &len);
    if (bind(out->fd_.get(), reinterpret_cast<sockaddr*>(&un), len) != 0) return Errno();
    std::memcpy(&out->addr_, &un, len);
    out->addr_len_ = len;
  }
  if (listen(out->fd_.get(), backlog) != 0) return Errno();
  return 0;
}

int Listener::Connect(UniqueFd* client) const {
  const int domain = transport_ == Transport::kTcpLoopback ? AF_INET : AF_UNIX;
  UniqueFd fd(socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Errno();
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr_), addr_len_) != 0) {
    return Errno();
  }
  if (transport_ == Transport::kTcpLoopback) NoDelay(fd.get());
  *client = std::move(fd);
  return 0;
}

bool Listener::WaitForPending(unsigned count, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd pfd = {fd_.get(), POLLIN, 0};
  if (poll(&pfd, 1, static_cast<int>(timeout.count())) != 1) return false;
  if (transport_ == Transport::kUnixStream) return true;
  // The last ACK of a loopback handshake may still be in the softirq backlog
  // when connect() returns; the queue length catches up within microseconds.
  for (;;) {
    tcp_info info = {};
    socklen_t len = sizeof info;
    if (getsockopt(fd_.get(), IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return false;
    if (info.tcpi_unacked >= count) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    sched_yield();
  }
}

int ConnectedPair(Transport transport, SocketPair* out) {
  if (transport == Transport::kUnixStream) {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return Errno();
    out->a.reset(fds[0]);
    out->b.reset(fds[1]);
    return 0;
  }
  Listener listener;
  int ret = Listener::Create(transport, &listener, 1);
  if (ret != 0) return ret;
  ret = listener.Connect(&out->a);
  if (ret != 0) return ret;
  out->b.reset(accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!out->b.valid()) return Errno();
  NoDelay(out->b.get());
  return 0;
}

int SendAll(int fd, const void* data, size_t len) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno();
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
  return 0;
}

bool WaitForReadable(int fd, size_t bytes, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int avail = 0;
    if (ioctl(fd, FIONREAD, &avail) != 0) return false;
    if (avail >= 0 && static_cast<size_t>(avail) >= bytes) return true;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    // Wakes on the next arrival; a partial arrival loops back to FIONREAD.
    pollfd pfd = {fd, POLLIN, 0};
    if (avail > 0) {
      sched_yield();
    } else if (poll(&pfd, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      return false;
    }
  }
}

}  // namespace ringcheck
