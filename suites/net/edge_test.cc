// Edges of SOCKET, SEND, SENDMSG, ACCEPT, CONNECT and buffer selection
// (spec/net.md H103-H109).
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "harness/bufring.h"
#include "suites/net/net_util.h"

namespace ringcheck {
namespace net {
namespace {

class Edge : public NetTest {};

// Fills a's send path (small SO_SNDBUF, nonblocking sends until EAGAIN).
void FillUp(int fd) {
  int small = 4096;
  ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  std::string chunk(4096, 'f');
  for (int i = 0; i < 100000; ++i) {
    if (send(fd, chunk.data(), chunk.size(), MSG_DONTWAIT) < 0) {
      ASSERT_EQ(errno, EAGAIN) << "filling the socket";
      return;
    }
  }
  FAIL() << "the socket never filled up";
}

// H103: SOCKET with a protocol that does not fit the type is
// -EPROTONOSUPPORT, as socket(2).
TEST_P(Edge, ProtocolNotOfTypeIsProtonosupport) {
  RINGCHECK_RULE("H103");
  REQUIRE_FEATURE("op_socket");
  io_uring_prep_socket(Sqe(ring(), 1), AF_INET, SOCK_STREAM, IPPROTO_UDP, 0);
  EXPECT_RESULT(SubmitOne(ring()).res, -EPROTONOSUPPORT, "H103");
}

// H104: SEND with MSG_DONTWAIT on a socket that cannot take more is
// -EAGAIN.
TEST_P(Edge, DontwaitSendOnFullSocketIsEagain) {
  RINGCHECK_RULE("H104");
  SocketPair pair;
  ASSERT_EQ(MakePair(Family::kUnixStream, &pair), 0);
  ASSERT_NO_FATAL_FAILURE(FillUp(pair.a.get()));
  char buf[512] = {};
  io_uring_prep_send(Sqe(ring(), 1), pair.a.get(), buf, sizeof buf, MSG_DONTWAIT);
  EXPECT_RESULT(SubmitOne(ring()).res, -EAGAIN, "H104");
}

// H105: a SEND on a full socket waits, and completes (with a byte count)
// once the peer reads and makes room.
TEST_P(Edge, SendOnFullSocketWaitsForRoom) {
  RINGCHECK_RULE("H105");
  SocketPair pair;
  ASSERT_EQ(MakePair(Family::kUnixStream, &pair), 0);
  ASSERT_NO_FATAL_FAILURE(FillUp(pair.a.get()));
  char buf[512] = {};
  io_uring_prep_send(Sqe(ring(), 1), pair.a.get(), buf, sizeof buf, 0);
  ASSERT_TRUE(Submit(ring()));
  EXPECT_TRUE(ring().Reap(1, kNoMore).empty()) << "H105: no room yet";
  char sink[8192];
  while (recv(pair.b.get(), sink, sizeof sink, MSG_DONTWAIT) > 0) {
  }
  std::vector<Cqe> got = ring().Reap(1, kDeadline);
  ASSERT_EQ(got.size(), 1u) << "H105: room was made";
  EXPECT_GT(got[0].res, 0) << "H105 " << Describe(got[0]);
  EXPECT_LE(got[0].res, 512) << "H105";
}

// H106: SENDMSG with msg_name on an unconnected UDP socket sends to that
// address.
TEST_P(Edge, SendmsgWithNameReachesAddress) {
  RINGCHECK_RULE("H106");
  SocketPair target;
  ASSERT_EQ(MakePair(Family::kUdp4, &target), 0);
  sockaddr_storage to = {};
  socklen_t to_len = sizeof to;
  ASSERT_EQ(getsockname(target.b.get(), reinterpret_cast<sockaddr*>(&to), &to_len), 0);
  UniqueFd sender(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_storage from;
  socklen_t from_len;
  LoopbackAddress(AF_INET, &from, &from_len);
  ASSERT_EQ(bind(sender.get(), reinterpret_cast<sockaddr*>(&from), from_len), 0);
  // target.b is connected to target.a: connect it to the sender instead.
  ASSERT_EQ(getsockname(sender.get(), reinterpret_cast<sockaddr*>(&from), &from_len), 0);
  ASSERT_EQ(connect(target.b.get(), reinterpret_cast<sockaddr*>(&from), from_len), 0);
  char data[] = "to-you";
  iovec iov = {data, 6};
  msghdr msg = {};
  msg.msg_name = &to;
  msg.msg_namelen = to_len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  io_uring_prep_sendmsg(Sqe(ring(), 1), sender.get(), &msg, 0);
  ASSERT_RESULT(SubmitOne(ring()).res, 6, "H106");
  char in[6];
  ASSERT_TRUE(RecvExactly(target.b.get(), in, 6)) << "H106: nothing arrived";
  EXPECT_EQ(std::memcmp(in, "to-you", 6), 0) << "H106";
}

// H107: ACCEPT with an address buffer too small fills what fits and sets
// addrlen to the full length of the address, as accept(2).
TEST_P(Edge, AcceptShortAddrlenGetsFullLength) {
  RINGCHECK_RULE("H107");
  ListeningSocket listener;
  ASSERT_EQ(ListenOn(Family::kTcp4, &listener), 0);
  UniqueFd client;
  ASSERT_EQ(listener.Connect(&client), 0);
  sockaddr_in peer = {};
  socklen_t len = 4;
  io_uring_prep_accept(Sqe(ring(), 1), listener.fd.get(), reinterpret_cast<sockaddr*>(&peer),
                       &len, SOCK_CLOEXEC);
  Cqe c = SubmitOne(ring());
  ASSERT_SUCCESS(c.res, "H107");
  UniqueFd accepted(c.res);
  EXPECT_EQ(len, sizeof(sockaddr_in)) << "H107: the full length";
  EXPECT_EQ(peer.sin_family, AF_INET) << "H107: the first 4 bytes were filled";
  EXPECT_EQ(peer.sin_addr.s_addr, 0u) << "H107: nothing past the 4 bytes";
}

// H108: CONNECT on AF_UNIX to a name nobody listens on is -ECONNREFUSED.
TEST_P(Edge, UnixConnectWithoutListenerIsRefused) {
  RINGCHECK_RULE("H108");
  ListeningSocket listener;
  ASSERT_EQ(ListenOn(Family::kUnixStream, &listener), 0);
  sockaddr_storage addr = listener.addr;
  socklen_t len = listener.len;
  listener.fd.reset();  // the abstract name goes away with its socket
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  io_uring_prep_connect(Sqe(ring(), 1), fd.get(), reinterpret_cast<sockaddr*>(&addr), len);
  EXPECT_RESULT(SubmitOne(ring()).res, -ECONNREFUSED, "H108");
}

// H109: with IOSQE_BUFFER_SELECT a non-zero len caps the receive below the
// buffer's size; the rest stays queued.
TEST_P(Edge, LenCapsSelectedBuffer) {
  RINGCHECK_RULE("H109");
  REQUIRE_FEATURE("register_pbuf_ring");
  SocketPair pair;
  ASSERT_EQ(MakePair(Family::kTcp4, &pair), 0);
  std::unique_ptr<BufRing> bufs;
  ASSERT_EQ(BufRing::Create(ring(), 4, 4, 0, &bufs), 0);
  bufs->Add(0, 256);
  ASSERT_EQ(SendAll(pair.a.get(), Pattern(100).data(), 100), 0);
  ASSERT_TRUE(WaitForReadable(pair.b.get(), 100, kDeadline));
  io_uring_sqe* sqe = Sqe(ring(), 1);
  io_uring_prep_recv(sqe, pair.b.get(), nullptr, 10, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = 4;
  EXPECT_RESULT(SubmitOne(ring()).res, 10, "H109");
  EXPECT_EQ(Readable(pair.b.get()), 90) << "H109: the rest stays queued";
  bufs.reset();
}

RINGCHECK_INSTANTIATE_NET_RINGS(Edge);

}  // namespace
}  // namespace net
}  // namespace ringcheck
