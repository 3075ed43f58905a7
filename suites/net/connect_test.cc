// CONNECT and SHUTDOWN (spec/net.md H15-H20; io_uring_prep_connect(3),
// io_uring_prep_shutdown(3); kernel net.c io_connect, io_shutdown).
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "suites/net/net_util.h"

namespace ringcheck {
namespace net {
namespace {

class Connect : public NetTest {
 protected:
  // A TCP listener on 127.0.0.1 and its address.
  void Listen() {
    listener_.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    LoopbackAddress(AF_INET, &addr_, &len_);
    ASSERT_EQ(bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr_), len_), 0);
    ASSERT_EQ(getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr_), &len_), 0);
    ASSERT_EQ(listen(listener_.get(), 4), 0);
  }
  Cqe ConnectWith(int fd) {
    io_uring_prep_connect(Sqe(ring(), 1), fd, reinterpret_cast<sockaddr*>(&addr_), len_);
    return SubmitOne(ring());
  }
  UniqueFd listener_;
  sockaddr_storage addr_ = {};
  socklen_t len_ = 0;
};

// H15: CONNECT to a listening address completes with 0 and leaves the
// socket connected to it.
TEST_P(Connect, ToListenerSucceeds) {
  RINGCHECK_RULE("H15");
  ASSERT_NO_FATAL_FAILURE(Listen());
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_RESULT(ConnectWith(fd.get()).res, 0, "H15");
  sockaddr_in peer = {};
  socklen_t plen = sizeof peer;
  ASSERT_EQ(getpeername(fd.get(), reinterpret_cast<sockaddr*>(&peer), &plen), 0) << "H15";
  EXPECT_EQ(peer.sin_port, reinterpret_cast<sockaddr_in*>(&addr_)->sin_port) << "H15";
}

// H16: on a nonblocking socket CONNECT still completes with the final
// result: io_connect turns -EINPROGRESS into a poll and never posts it.
TEST_P(Connect, NonblockingSocketNeverShowsInprogress) {
  RINGCHECK_RULE("H16");
  ASSERT_NO_FATAL_FAILURE(Listen());
  for (int i = 0; i < 3; ++i) {
    UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    Cqe c = ConnectWith(fd.get());
    EXPECT_RESULT(c.res, 0, "H16: not -EINPROGRESS, not -EAGAIN");
    UniqueFd accepted(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  }
}

// H17: CONNECT to a port nobody listens on is -ECONNREFUSED, blocking or not.
TEST_P(Connect, ClosedPortIsRefused) {
  RINGCHECK_RULE("H17");
  ASSERT_EQ(ClosedTcpPort(&addr_, &len_), 0);
  UniqueFd blocking(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_RESULT(ConnectWith(blocking.get()).res, -ECONNREFUSED, "H17: blocking socket");
  UniqueFd nonblocking(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  EXPECT_RESULT(ConnectWith(nonblocking.get()).res, -ECONNREFUSED, "H17: nonblocking socket");
}

// H18: CONNECT on a socket that is already connected is -EISCONN.
TEST_P(Connect, AlreadyConnectedIsIsconn) {
  RINGCHECK_RULE("H18");
  ASSERT_NO_FATAL_FAILURE(Listen());
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(connect(fd.get(), reinterpret_cast<sockaddr*>(&addr_), len_), 0);
  EXPECT_RESULT(ConnectWith(fd.get()).res, -EISCONN, "H18");
}

// H15 over UDP: CONNECT sets the default destination of a datagram socket.
TEST_P(Connect, UdpSetsPeer) {
  RINGCHECK_RULE("H15");
  SocketPair holder;
  ASSERT_EQ(MakePair(Family::kUdp4, &holder), 0);
  len_ = sizeof addr_;
  ASSERT_EQ(getsockname(holder.a.get(), reinterpret_cast<sockaddr*>(&addr_), &len_), 0);
  UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_RESULT(ConnectWith(fd.get()).res, 0, "H15");
  EXPECT_EQ(send(fd.get(), "x", 1, 0), 1) << "H15: a connected UDP socket sends without an address";
}

class Shutdown : public NetTest {};

// H19: SHUTDOWN(SHUT_WR) completes with 0 and the peer reads end of file.
TEST_P(Shutdown, WriteSideGivesPeerEof) {
  RINGCHECK_RULE("H19");
  REQUIRE_FEATURE("op_shutdown");
  SocketPair pair;
  ASSERT_EQ(MakePair(Family::kTcp4, &pair), 0);
  io_uring_prep_shutdown(Sqe(ring(), 1), pair.a.get(), SHUT_WR);
  ASSERT_RESULT(SubmitOne(ring()).res, 0, "H19");
  char byte;
  EXPECT_EQ(recv(pair.b.get(), &byte, 1, 0), 0) << "H19: the peer sees EOF";
  EXPECT_EQ(send(pair.a.get(), "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EPIPE) << "H19: no more sending after SHUT_WR";
}

// H20: SHUTDOWN of an unconnected TCP socket is -ENOTCONN; an invalid `how`
// is -EINVAL.
TEST_P(Shutdown, UnconnectedIsNotconn) {
  RINGCHECK_RULE("H20");
  REQUIRE_FEATURE("op_shutdown");
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  io_uring_prep_shutdown(Sqe(ring(), 1), fd.get(), SHUT_RDWR);
  EXPECT_RESULT(SubmitOne(ring()).res, -ENOTCONN, "H20");
}

TEST_P(Shutdown, BadHowIsInvalid) {
  RINGCHECK_RULE("H20");
  REQUIRE_FEATURE("op_shutdown");
  SocketPair pair;
  ASSERT_EQ(MakePair(Family::kTcp4, &pair), 0);
  io_uring_prep_shutdown(Sqe(ring(), 1), pair.a.get(), 7);
  EXPECT_RESULT(SubmitOne(ring()).res, -EINVAL, "H20");
}

RINGCHECK_INSTANTIATE_NET_RINGS(Connect);
RINGCHECK_INSTANTIATE_NET_RINGS(Shutdown);

}  // namespace
}  // namespace net
}  // namespace ringcheck
