// URING_CMD on sockets: SOCKET_URING_OP_SIOCINQ, SIOCOUTQ, GETSOCKOPT,
// SETSOCKOPT and an unknown cmd_op (spec/net.md H79-H85;
// io_uring_prep_cmd_sock(3); kernel cmd_net.c io_uring_cmd_sock,
// io_uring_cmd_getsockopt, io_uring_cmd_setsockopt; uring_cmd.c io_uring_cmd).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "suites/net/net_util.h"

namespace ringcheck {
namespace net {
namespace {

class SockCmd : public NetFamilyTest {
 protected:
  void SetUp() override {
    NetFamilyTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    REQUIRE_FEATURE("op_uring_cmd");
    MakePairOrSkip(&pair_);
  }
  Cqe Cmd(int fd, int op, int level = 0, int optname = 0, void* optval = nullptr, int optlen = 0) {
    io_uring_prep_cmd_sock(Sqe(ring(), 1), op, fd, level, optname, optval, optlen);
    return SubmitOne(ring());
  }
  SocketPair pair_;
};

// H79: SIOCINQ gives the bytes waiting to be read (TCP), or the size of
// the next datagram (UDP), as ioctl(SIOCINQ) does.
TEST_P(SockCmd, SiocinqCountsQueuedBytes) {
  RINGCHECK_RULE("H79");
  REQUIRE_FEATURE("sock_cmd_ioctl");
  EXPECT_RESULT(Cmd(pair_.b.get(), SOCKET_URING_OP_SIOCINQ).res, 0, "H79: nothing queued");
  ASSERT_EQ(send(pair_.a.get(), Pattern(70).data(), 70, 0), 70);
  ASSERT_TRUE(WaitForReadable(pair_.b.get(), 70, kDeadline));
  EXPECT_RESULT(Cmd(pair_.b.get(), SOCKET_URING_OP_SIOCINQ).res, 70, "H79");
}

// H80: SIOCOUTQ gives the bytes not yet acknowledged by the peer (TCP) or
// still in the send queue (UDP); an idle socket has none.
TEST_P(SockCmd, SiocoutqOfIdleSocketIsZero) {
  RINGCHECK_RULE("H80");
  REQUIRE_FEATURE("sock_cmd_ioctl");
  EXPECT_RESULT(Cmd(pair_.a.get(), SOCKET_URING_OP_SIOCOUTQ).res, 0, "H80");
}

// H81: GETSOCKOPT at SOL_SOCKET fills optval and completes with the
// option's length.
TEST_P(SockCmd, GetsockoptReadsOption) {
  RINGCHECK_RULE("H81");
  REQUIRE_FEATURE("sock_cmd_getsockopt");
  int type = -1;
  Cqe c = Cmd(pair_.a.get(), SOCKET_URING_OP_GETSOCKOPT, SOL_SOCKET, SO_TYPE, &type, sizeof type);
  EXPECT_RESULT(c.res, static_cast<int>(sizeof type), "H81: res is the length");
  EXPECT_EQ(type, IsTcp(family()) ? SOCK_STREAM : SOCK_DGRAM) << "H81: SO_TYPE";
}

// H82: SETSOCKOPT at SOL_SOCKET sets the option (0), as setsockopt(2).
TEST_P(SockCmd, SetsockoptSetsOption) {
  RINGCHECK_RULE("H82");
  REQUIRE_FEATURE("sock_cmd_setsockopt");
  int size = 64 * 1024;
  Cqe c = Cmd(pair_.a.get(), SOCKET_URING_OP_SETSOCKOPT, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  ASSERT_RESULT(c.res, 0, "H82");
  int got = 0;
  socklen_t len = sizeof got;
  ASSERT_EQ(getsockopt(pair_.a.get(), SOL_SOCKET, SO_RCVBUF, &got, &len), 0);
  EXPECT_EQ(got, 2 * size) << "H82: the kernel doubles SO_RCVBUF, as for setsockopt(2)";
}

// H83: a cmd_op the socket layer does not know is -EOPNOTSUPP.
TEST_P(SockCmd, UnknownCmdOpIsOpnotsupp) {
  RINGCHECK_RULE("H83");
  REQUIRE_FEATURE("sock_cmd_ioctl");
  EXPECT_RESULT(Cmd(pair_.a.get(), 0x7777).res, -EOPNOTSUPP, "H83");
}

RINGCHECK_INSTANTIATE_NET_FAMILIES(SockCmd, Family::kTcp4, Family::kTcp6, Family::kUdp4,
                                   Family::kUdp6);

class SockCmdErrors : public NetTest {};

// H84: SIOCINQ/SIOCOUTQ need the protocol's ioctl: AF_UNIX sockets have
// none for io_uring (sk_prot->ioctl is NULL), so -EOPNOTSUPP.
TEST_P(SockCmdErrors, UnixSocketIoctlIsOpnotsupp) {
  RINGCHECK_RULE("H84");
  REQUIRE_FEATURE("sock_cmd_ioctl");
  SocketPair pair;
  ASSERT_EQ(MakePair(Family::kUnixStream, &pair), 0);
  io_uring_prep_cmd_sock(Sqe(ring(), 1), SOCKET_URING_OP_SIOCINQ, pair.a.get(), 0, 0, nullptr, 0);
  EXPECT_RESULT(SubmitOne(ring()).res, -EOPNOTSUPP, "H84");
}

// H85: URING_CMD on a file without a uring_cmd handler (a pipe) is
// -EOPNOTSUPP.
TEST_P(SockCmdErrors, PipeIsOpnotsupp) {
  RINGCHECK_RULE("H85");
  REQUIRE_FEATURE("op_uring_cmd");
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  UniqueFd r(p[0]), w(p[1]);
  io_uring_prep_cmd_sock(Sqe(ring(), 1), SOCKET_URING_OP_SIOCINQ, r.get(), 0, 0, nullptr, 0);
  EXPECT_RESULT(SubmitOne(ring()).res, -EOPNOTSUPP, "H85");
}

RINGCHECK_INSTANTIATE_NET_RINGS(SockCmdErrors);

}  // namespace
}  // namespace net
}  // namespace ringcheck
