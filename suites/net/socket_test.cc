// SOCKET, BIND, LISTEN, CONNECT and SHUTDOWN (spec/net.md H1-H20;
// io_uring_prep_socket(3), io_uring_prep_bind(3), io_uring_prep_listen(3),
// io_uring_prep_connect(3), io_uring_prep_shutdown(3); kernel net.c
// io_socket, io_bind, io_listen, io_connect, io_shutdown).
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "suites/net/net_util.h"

namespace ringcheck {
namespace net {
namespace {

class Socket : public NetTest {};

int SockType(int fd) {
  int type = 0;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return -errno;
  return type;
}

// H1: SOCKET returns a new descriptor of the domain and type asked for.
TEST_P(Socket, ReturnsSocketOfRequestedType) {
  RINGCHECK_RULE("H1");
  REQUIRE_FEATURE("op_socket");
  io_uring_prep_socket(Sqe(ring(), 1), AF_INET, SOCK_DGRAM, 0, 0);
  Cqe c = SubmitOne(ring());
  ASSERT_SUCCESS(c.res, "H1");
  UniqueFd fd(c.res);
  EXPECT_EQ(SockType(fd.get()), SOCK_DGRAM) << "H1";
  EXPECT_EQ(c.flags & ~IORING_CQE_F_32, 0u) << Describe(c);
}

// H2: SOCK_NONBLOCK and SOCK_CLOEXEC in the type reach the new descriptor.
TEST_P(Socket, TypeFlagsReachDescriptor) {
  RINGCHECK_RULE("H2");
  REQUIRE_FEATURE("op_socket");
  io_uring_prep_socket(Sqe(ring(), 1), AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, 0);
  Cqe c = SubmitOne(ring());
  ASSERT_SUCCESS(c.res, "H2");
  UniqueFd fd(c.res);
  EXPECT_TRUE(fcntl(fd.get(), F_GETFL) & O_NONBLOCK) << "H2: O_NONBLOCK";
  EXPECT_TRUE(fcntl(fd.get(), F_GETFD) & FD_CLOEXEC) << "H2: FD_CLOEXEC";
  io_uring_prep_socket(Sqe(ring(), 2), AF_INET, SOCK_STREAM, 0, 0);
  Cqe plain = SubmitOne(ring());
  ASSERT_SUCCESS(plain.res, "H2");
  UniqueFd fd2(plain.res);
  EXPECT_FALSE(fcntl(fd2.get(), F_GETFL) & O_NONBLOCK) << "H2: no flags asked";
  EXPECT_FALSE(fcntl(fd2.get(), F_GETFD) & FD_CLOEXEC) << "H2: no flags asked";
}

// H3: a type flag other than NONBLOCK/CLOEXEC is -EINVAL.
TEST_P(Socket, UnknownTypeFlagIsInvalid) {
  RINGCHECK_RULE("H3");
  REQUIRE_FEATURE("op_socket");
  io_uring_prep_socket(Sqe(ring(), 1), AF_INET, SOCK_STREAM | 0x40000000, 0, 0);
  EXPECT_RESULT(SubmitOne(ring()).res, -EINVAL, "H3");
}

// H4: a domain the kernel does not know is -EAFNOSUPPORT, as socket(2).
TEST_P(Socket, UnknownDomainIsAfnosupport) {
  RINGCHECK_RULE("H4");
  REQUIRE_FEATURE("op_socket");
  io_uring_prep_socket(Sqe(ring(), 1), AF_MAX + 5, SOCK_STREAM, 0, 0);
  EXPECT_RESULT(SubmitOne(ring()).res, -EAFNOSUPPORT, "H4");
}

// H5: direct SOCKET into slot N (file_index N+1) completes with 0 and the
// socket lives only in the fixed table.
TEST_P(Socket, DirectGoesToChosenSlot) {
  RINGCHECK_RULE("H5");
  REQUIRE_FEATURE("op_socket");
  ASSERT_EQ(io_uring_register_files_sparse(ring().get(), 4), 0);
  io_uring_prep_socket_direct(Sqe(ring(), 1), AF_INET, SOCK_DGRAM, 0, 2, 0);
  EXPECT_RESULT(SubmitOne(ring()).res, 0, "H5");
  // The slot holds a socket: a direct SHUTDOWN on an unconnected UDP socket
  // reaches the socket layer (-ENOTCONN), an empty slot would be -EBADF.
  io_uring_sqe* sqe = Sqe(ring(), 2);
  io_uring_prep_shutdown(sqe, 2, SHUT_RDWR);
  sqe->user_data = 2;
  sqe->flags |= IOSQE_FIXED_FILE;
  EXPECT_RESULT(SubmitOne(ring()).res, -ENOTCONN, "H5: slot 2 holds a socket");
  sqe = Sqe(ring(), 3);
  io_uring_prep_shutdown(sqe, 3, SHUT_RDWR);
  sqe->user_data = 3;
  sqe->flags |= IOSQE_FIXED_FILE;
  EXPECT_RESULT(SubmitOne(ring()).res, -EBADF, "H5: slot 3 stays empty");
}

// H6: IORING_FILE_INDEX_ALLOC puts the socket in a free slot and returns
// that slot's index.
TEST_P(Socket, DirectAllocReturnsSlot) {
  RINGCHECK_RULE("H6");
  REQUIRE_FEATURE("op_socket");
  ASSERT_EQ(io_uring_register_files_sparse(ring().get(), 2), 0);
  io_uring_prep_socket_direct_alloc(Sqe(ring(), 1), AF_INET, SOCK_DGRAM, 0, 0);
  Cqe first = SubmitOne(ring());
  io_uring_prep_socket_direct_alloc(Sqe(ring(), 2), AF_INET, SOCK_DGRAM, 0, 0);
  Cqe second = SubmitOne(ring());
  EXPECT_GE(first.res, 0) << "H6 " << Describe(first);
  EXPECT_GE(second.res, 0) << "H6 " << Describe(second);
  EXPECT_LT(first.res, 2);
  EXPECT_LT(second.res, 2);
  EXPECT_NE(first.res, second.res) << "H6: two allocations, two slots";
}

// H7: IORING_FILE_INDEX_ALLOC with every slot taken is -ENFILE.
TEST_P(Socket, DirectAllocOnFullTableIsEnfile) {
  RINGCHECK_RULE("H7");
  REQUIRE_FEATURE("op_socket");
  ASSERT_EQ(io_uring_register_files_sparse(ring().get(), 1), 0);
  io_uring_prep_socket_direct_alloc(Sqe(ring(), 1), AF_INET, SOCK_DGRAM, 0, 0);
  ASSERT_RESULT(SubmitOne(ring()).res, 0, "H6: the only slot");
  io_uring_prep_socket_direct_alloc(Sqe(ring(), 2), AF_INET, SOCK_DGRAM, 0, 0);
  EXPECT_RESULT(SubmitOne(ring()).res, -ENFILE, "H7");
}

// H8: a direct SOCKET without a registered file table is -ENXIO.
TEST_P(Socket, DirectWithoutTableIsEnxio) {
  RINGCHECK_RULE("H8");
  REQUIRE_FEATURE("op_socket");
  io_uring_prep_socket_direct(Sqe(ring(), 1), AF_INET, SOCK_DGRAM, 0, 0, 0);
  EXPECT_RESULT(SubmitOne(ring()).res, -ENXIO, "H8");
}

// H9: direct SOCKET with SOCK_CLOEXEC is -EINVAL (a fixed slot has no
// close-on-exec).
TEST_P(Socket, DirectWithCloexecIsInvalid) {
  RINGCHECK_RULE("H9");
  REQUIRE_FEATURE("op_socket");
  ASSERT_EQ(io_uring_register_files_sparse(ring().get(), 1), 0);
  io_uring_prep_socket_direct(Sqe(ring(), 1), AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0, 0, 0);
  EXPECT_RESULT(SubmitOne(ring()).res, -EINVAL, "H9");
}

// H10: BIND binds like bind(2): 0, and getsockname shows the address.
TEST_P(Socket, BindSetsLocalAddress) {
  RINGCHECK_RULE("H10");
  REQUIRE_FEATURE("op_bind");
  UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_storage addr;
  socklen_t len;
  LoopbackAddress(AF_INET, &addr, &len);
  reinterpret_cast<sockaddr_in*>(&addr)->sin_port = 0;
  io_uring_prep_bind(Sqe(ring(), 1), fd.get(), reinterpret_cast<sockaddr*>(&addr), len);
  ASSERT_RESULT(SubmitOne(ring()).res, 0, "H10");
  sockaddr_in got = {};
  socklen_t got_len = sizeof got;
  ASSERT_EQ(getsockname(fd.get(), reinterpret_cast<sockaddr*>(&got), &got_len), 0);
  EXPECT_EQ(got.sin_addr.s_addr, htonl(INADDR_LOOPBACK)) << "H10";
  EXPECT_NE(got.sin_port, 0) << "H10: port 0 means the kernel chose one";
}

// H11: BIND to an address another socket holds is -EADDRINUSE.
TEST_P(Socket, BindToTakenAddressIsAddrinuse) {
  RINGCHECK_RULE("H11");
  REQUIRE_FEATURE("op_bind");
  SocketPair holder;
  ASSERT_EQ(MakePair(Family::kUdp4, &holder), 0);
  sockaddr_storage addr;
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(holder.a.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  io_uring_prep_bind(Sqe(ring(), 1), fd.get(), reinterpret_cast<sockaddr*>(&addr), len);
  EXPECT_RESULT(SubmitOne(ring()).res, -EADDRINUSE, "H11");
}

// H12: BIND, LISTEN and SHUTDOWN on a descriptor that is not a socket are
// -ENOTSOCK.
TEST_P(Socket, SocketOpsOnPipeAreNotsock) {
  RINGCHECK_RULE("H12");
  REQUIRE_FEATURE("op_shutdown");
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  UniqueFd r(p[0]), w(p[1]);
  io_uring_prep_shutdown(Sqe(ring(), 1), r.get(), SHUT_RD);
  EXPECT_RESULT(SubmitOne(ring()).res, -ENOTSOCK, "H12: SHUTDOWN");
  if (Supported("op_bind")) {
    sockaddr_storage addr;
    socklen_t len;
    LoopbackAddress(AF_INET, &addr, &len);
    io_uring_prep_bind(Sqe(ring(), 2), r.get(), reinterpret_cast<sockaddr*>(&addr), len);
    EXPECT_RESULT(SubmitOne(ring()).res, -ENOTSOCK, "H12: BIND");
    io_uring_prep_listen(Sqe(ring(), 3), r.get(), 1);
    EXPECT_RESULT(SubmitOne(ring()).res, -ENOTSOCK, "H12: LISTEN");
  }
}

// H13: LISTEN turns a bound TCP socket into a listener that clients reach.
TEST_P(Socket, ListenAcceptsConnections) {
  RINGCHECK_RULE("H13");
  REQUIRE_FEATURE("op_listen");
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_storage addr;
  socklen_t len;
  LoopbackAddress(AF_INET, &addr, &len);
  ASSERT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  io_uring_prep_listen(Sqe(ring(), 1), fd.get(), 4);
  ASSERT_RESULT(SubmitOne(ring()).res, 0, "H13");
  int listening = 0;
  socklen_t optlen = sizeof listening;
  ASSERT_EQ(getsockopt(fd.get(), SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen), 0);
  EXPECT_EQ(listening, 1) << "H13: SO_ACCEPTCONN";
  UniqueFd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_EQ(connect(client.get(), reinterpret_cast<sockaddr*>(&addr), len), 0) << "H13";
}

// H14: LISTEN on a datagram socket is -EOPNOTSUPP, as listen(2).
TEST_P(Socket, ListenOnUdpIsOpnotsupp) {
  RINGCHECK_RULE("H14");
  REQUIRE_FEATURE("op_listen");
  UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  io_uring_prep_listen(Sqe(ring(), 1), fd.get(), 4);
  EXPECT_RESULT(SubmitOne(ring()).res, -EOPNOTSUPP, "H14");
}

RINGCHECK_INSTANTIATE_NET_RINGS(Socket);

}  // namespace
}  // namespace net
}  // namespace ringcheck
