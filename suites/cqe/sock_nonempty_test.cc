// IORING_CQE_F_SOCK_NONEMPTY (spec D.1; io_uring_prep_recv(3),
// io_uring_prep_accept(3)): after a recv the socket still holds data, after
// an accept more connections are waiting. Over TCP on 127.0.0.1 and over
// AF_UNIX stream sockets.
#include <sys/socket.h>

#include <memory>
#include <string>
#include <tuple>

#include "harness/features.h"
#include "harness/fd.h"
#include "harness/matchers.h"
#include "harness/net.h"
#include "suites/cqe/cqe_helpers.h"

#ifndef SO_INQ
#define SO_INQ 84  // asm-generic/socket.h; AF_UNIX accepts it since 6.17
#endif

namespace ringcheck {
namespace {

using cqe::Describe;
using cqe::HasFlag;

using Param = std::tuple<RingConfig, Transport>;

std::string ParamName(const ::testing::TestParamInfo<Param>& info) {
  return std::get<0>(info.param).name + "_" + TransportName(std::get<1>(info.param));
}

// AF_UNIX stream sockets report the bytes left after a receive (msg_inq)
// since they learnt SO_INQ; before that recv never sees SOCK_NONEMPTY there.
bool UnixReportsInq() {
  static const bool ok = [] {
    SocketPair pair;
    if (ConnectedPair(Transport::kUnixStream, &pair) != 0) return false;
    int one = 1;
    return setsockopt(pair.a.get(), SOL_SOCKET, SO_INQ, &one, sizeof one) == 0;
  }();
  return ok;
}

// One recv or accept on `ring`, submitted and reaped.
Cqe SubmitOne(Ring& ring) {
  EXPECT_TRUE(cqe::SubmitExpect(ring, 1));
  std::vector<Cqe> got = ring.Reap(1);
  EXPECT_EQ(got.size(), 1u) << "no CQE";
  return got.empty() ? Cqe{} : got[0];
}

Cqe RecvOne(Ring& ring, int fd, void* buf, size_t len) {
  io_uring_sqe* sqe = cqe::QueueSqe(ring, 1, 0);
  EXPECT_NE(sqe, nullptr);
  if (sqe == nullptr) return Cqe{};
  io_uring_prep_recv(sqe, fd, buf, len, 0);
  sqe->user_data = 1;
  return SubmitOne(ring);
}

Cqe AcceptOne(Ring& ring, int fd) {
  io_uring_sqe* sqe = cqe::QueueSqe(ring, 2, 0);
  EXPECT_NE(sqe, nullptr);
  if (sqe == nullptr) return Cqe{};
  io_uring_prep_accept(sqe, fd, nullptr, nullptr, SOCK_CLOEXEC);
  sqe->user_data = 2;
  return SubmitOne(ring);
}

// Queues `pending` connections on a new listener, accepts one with the ring
// and returns its CQE (the accepted socket is closed).
Cqe AcceptWithPending(Ring& ring, Transport transport, unsigned pending) {
  Listener listener;
  EXPECT_RESULT(Listener::Create(transport, &listener), 0, "listen");
  std::vector<UniqueFd> clients(pending);
  for (UniqueFd& client : clients) {
    EXPECT_RESULT(listener.Connect(&client), 0, "connect");
  }
  EXPECT_TRUE(listener.WaitForPending(pending, std::chrono::seconds(5)))
      << pending << " connections never showed up in the accept queue";
  Cqe c = AcceptOne(ring, listener.fd());
  EXPECT_GE(c.res, 0) << Describe(c);
  UniqueFd accepted(c.res >= 0 ? c.res : -1);
  return c;
}

class SockNonempty : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    std::string why;
    int ret = CreateRingForTest(std::get<0>(GetParam()), &ring_, &why);
    if (ret < 0) {
      if (!why.empty()) GTEST_SKIP() << why;
      FAIL() << "ring setup failed: " << ResultName(ret);
    }
  }
  Transport transport() const { return std::get<1>(GetParam()); }
  // recv's SOCK_NONEMPTY came with 5.19 (the release of IORING_OP_SOCKET;
  // no probe shows the flag itself); AF_UNIX needs its own inq support.
  void RequireRecvHint() {
    REQUIRE_FEATURE("op_socket");
    if (transport() == Transport::kUnixStream && !UnixReportsInq()) {
      GTEST_SKIP() << "unsupported:unix_so_inq (AF_UNIX refuses SO_INQ, so it reports no "
                      "bytes left after a receive)";
    }
  }

  std::unique_ptr<Ring> ring_;
  char buf_[512];
};

// D.1 F_SOCK_NONEMPTY: a recv that leaves data in the socket says so.
TEST_P(SockNonempty, RecvLeavingDataSetsFlag) {
  RINGCHECK_RULE("D.1:F_SOCK_NONEMPTY");
  RequireRecvHint();
  if (IsSkipped()) return;
  SocketPair pair;
  ASSERT_RESULT(ConnectedPair(transport(), &pair), 0, "connected pair");
  ASSERT_RESULT(SendAll(pair.b.get(), std::string(200, 'x').data(), 200), 0, "send");
  ASSERT_TRUE(WaitForReadable(pair.a.get(), 200, std::chrono::seconds(5)));
  Cqe c = RecvOne(*ring_, pair.a.get(), buf_, 100);
  ASSERT_RESULT(c.res, 100, "D.1:F_SOCK_NONEMPTY recv of half the data");
  EXPECT_TRUE(HasFlag(c, IORING_CQE_F_SOCK_NONEMPTY)) << "100 bytes are still queued "
                                                      << Describe(c);
}

// D.1 F_SOCK_NONEMPTY: a recv that takes everything leaves the flag clear.
TEST_P(SockNonempty, RecvDrainingSocketClearsFlag) {
  RINGCHECK_RULE("D.1:F_SOCK_NONEMPTY");
  SocketPair pair;
  ASSERT_RESULT(ConnectedPair(transport(), &pair), 0, "connected pair");
  ASSERT_RESULT(SendAll(pair.b.get(), std::string(100, 'x').data(), 100), 0, "send");
  ASSERT_TRUE(WaitForReadable(pair.a.get(), 100, std::chrono::seconds(5)));
  Cqe c = RecvOne(*ring_, pair.a.get(), buf_, sizeof buf_);
  ASSERT_RESULT(c.res, 100, "D.1:F_SOCK_NONEMPTY recv of all the data");
  EXPECT_FALSE(HasFlag(c, IORING_CQE_F_SOCK_NONEMPTY)) << Describe(c);
}

// D.1 F_SOCK_NONEMPTY: accepting the last queued connection leaves the flag
// clear.
TEST_P(SockNonempty, AcceptOfLastPendingClearsFlag) {
  RINGCHECK_RULE("D.1:F_SOCK_NONEMPTY");
  Cqe c = AcceptWithPending(*ring_, transport(), 1);
  if (HasFailure()) return;
  EXPECT_FALSE(HasFlag(c, IORING_CQE_F_SOCK_NONEMPTY)) << Describe(c);
}

INSTANTIATE_TEST_SUITE_P(FlagRings, SockNonempty,
                         ::testing::Combine(::testing::ValuesIn(cqe::FlagConfigs()),
                                            ::testing::Values(Transport::kTcpLoopback,
                                                              Transport::kUnixStream)),
                         ParamName);

// accept's SOCK_NONEMPTY hint came with the 6.10 accept rework
// (struct proto_accept_arg.is_empty), the release that also brought
// IORING_ACCEPT_DONTWAIT: that is the probe.
class AcceptNonempty : public RingTest {
 protected:
  void SetUpRing() override {
    REQUIRE_FEATURE("accept_dontwait");
  }
};

// D.1 F_SOCK_NONEMPTY: a TCP accept with another connection still queued
// says so.
TEST_P(AcceptNonempty, TcpAcceptWithMorePendingSetsFlag) {
  RINGCHECK_RULE("D.1:F_SOCK_NONEMPTY");
  Cqe c = AcceptWithPending(ring(), Transport::kTcpLoopback, 2);
  if (HasFailure()) return;
  EXPECT_TRUE(HasFlag(c, IORING_CQE_F_SOCK_NONEMPTY)) << "a second connection is queued "
                                                      << Describe(c);
}

// D.1 F_SOCK_NONEMPTY, as the kernel does it: only inet_csk_accept() fills
// in proto_accept_arg.is_empty; unix_accept() leaves it at -1, so
// io_accept() never reports a second pending AF_UNIX connection. (The spec
// says accept reports pending connections; on 6.18 that holds for TCP only.)
TEST_P(AcceptNonempty, UnixAcceptWithMorePendingLeavesFlagClear) {
  RINGCHECK_RULE("D.1:F_SOCK_NONEMPTY");
  Cqe c = AcceptWithPending(ring(), Transport::kUnixStream, 2);
  if (HasFailure()) return;
  EXPECT_FALSE(HasFlag(c, IORING_CQE_F_SOCK_NONEMPTY))
      << "AF_UNIX accept does not report pending connections (unix_accept sets no "
         "is_empty); if this kernel now does, the rule changed " << Describe(c);
}

RINGCHECK_INSTANTIATE_FLAG_RINGS(AcceptNonempty);

}  // namespace
}  // namespace ringcheck
