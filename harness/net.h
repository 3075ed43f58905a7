// Sockets for tests that do network I/O without touching a network: TCP over
// 127.0.0.1 (kernel-chosen port) and AF_UNIX stream sockets (abstract names,
// so nothing is left in the file system). Everything is RAII.
#ifndef RINGCHECK_HARNESS_NET_H_
#define RINGCHECK_HARNESS_NET_H_

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <string>

#include "harness/fd.h"

namespace ringcheck {

enum class Transport { kTcpLoopback, kUnixStream };

// "tcp_loopback" / "unix_stream", for test names.
const char* TransportName(Transport transport);

// A listening socket with a connectable address.
class Listener {
 public:
  // Binds and listens; returns 0 or -errno.
  static int Create(Transport transport, Listener* out, int backlog = 16);

  int fd() const { return fd_.get(); }
  Transport transport() const { return transport_; }

  // A new client socket connected to this listener (blocking connect).
  // Returns 0 or -errno.
  int Connect(UniqueFd* client) const;

  // Waits until at least `count` connections wait in the accept queue.
  // TCP: the queue length read with TCP_INFO (a listener's tcpi_unacked);
  // AF_UNIX: connect() queues the connection before it returns, so this
  // only checks that the listener is readable.
  bool WaitForPending(unsigned count, std::chrono::milliseconds timeout) const;

 private:
  Transport transport_ = Transport::kTcpLoopback;
  UniqueFd fd_;
  sockaddr_storage addr_ = {};
  socklen_t addr_len_ = 0;
};

// Two connected stream sockets; returns 0 or -errno.
struct SocketPair {
  UniqueFd a;
  UniqueFd b;
};
int ConnectedPair(Transport transport, SocketPair* out);

// Writes all of `len` bytes (blocking); returns 0 or -errno.
int SendAll(int fd, const void* data, size_t len);

// Waits until `fd` has at least `bytes` bytes to read (FIONREAD), or the
// timeout passes; true when they are there.
bool WaitForReadable(int fd, size_t bytes, std::chrono::milliseconds timeout);

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_NET_H_
