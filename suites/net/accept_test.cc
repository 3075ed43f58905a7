// ACCEPT: single and multishot, direct descriptors, flags (spec/net.md
// H21-H33; io_uring_prep_accept(3), io_uring_prep_multishot_accept(3);
// kernel net.c io_accept_prep, io_accept).
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "suites/net/net_util.h"

namespace ringcheck {
namespace net {
namespace {

class Accept : public NetFamilyTest {
 protected:
  void SetUp() override {
    NetFamilyTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    int ret = ListenOn(family(), &listener_);
    if (family() == Family::kTcp6 && (ret == -EAFNOSUPPORT || ret == -EADDRNOTAVAIL)) {
      GTEST_SKIP() << "environment:ipv6 (no ::1 on this machine)";
    }
    ASSERT_EQ(ret, 0) << "listen: " << ResultName(ret);
  }
  UniqueFd Client() {
    UniqueFd client;
    int ret = listener_.Connect(&client);
    EXPECT_EQ(ret, 0) << "connect: " << ResultName(ret);
    return client;
  }
  // True when nothing completes within kNoMore.
  bool Quiet() { return ring().Reap(1, kNoMore).empty(); }
  ListeningSocket listener_;
};

// H21: ACCEPT returns a descriptor connected to the client, and fills in
// the peer address when asked.
TEST_P(Accept, ReturnsConnectedSocket) {
  RINGCHECK_RULE("H21");
  UniqueFd client = Client();
  sockaddr_storage peer = {};
  socklen_t plen = sizeof peer;
  io_uring_prep_accept(Sqe(ring(), 1), listener_.fd.get(), reinterpret_cast<sockaddr*>(&peer),
                       &plen, 0);
  Cqe c = SubmitOne(ring());
  ASSERT_SUCCESS(c.res, "H21");
  UniqueFd accepted(c.res);
  EXPECT_EQ(peer.ss_family, listener_.addr.ss_family) << "H21: peer address filled in";
  EXPECT_GT(plen, 0u) << "H21";
  ASSERT_EQ(send(client.get(), "ping", 4, 0), 4);
  char buf[4];
  ASSERT_TRUE(RecvExactly(accepted.get(), buf, 4)) << "H21: the accepted socket is the peer";
  EXPECT_EQ(std::string(buf, 4), "ping");
}

// H22: SOCK_NONBLOCK and SOCK_CLOEXEC in the accept flags reach the new
// descriptor; without them it has neither.
TEST_P(Accept, FlagsReachDescriptor) {
  RINGCHECK_RULE("H22");
  UniqueFd c1 = Client(), c2 = Client();
  io_uring_prep_accept(Sqe(ring(), 1), listener_.fd.get(), nullptr, nullptr,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
  Cqe flagged = SubmitOne(ring());
  ASSERT_SUCCESS(flagged.res, "H22");
  UniqueFd a1(flagged.res);
  EXPECT_TRUE(fcntl(a1.get(), F_GETFL) & O_NONBLOCK) << "H22";
  EXPECT_TRUE(fcntl(a1.get(), F_GETFD) & FD_CLOEXEC) << "H22";
  io_uring_prep_accept(Sqe(ring(), 2), listener_.fd.get(), nullptr, nullptr, 0);
  Cqe plain = SubmitOne(ring());
  ASSERT_SUCCESS(plain.res, "H22");
  UniqueFd a2(plain.res);
  EXPECT_FALSE(fcntl(a2.get(), F_GETFL) & O_NONBLOCK) << "H22";
  EXPECT_FALSE(fcntl(a2.get(), F_GETFD) & FD_CLOEXEC) << "H22";
}

// H23: accept flags other than SOCK_NONBLOCK|SOCK_CLOEXEC are -EINVAL.
TEST_P(Accept, UnknownFlagIsInvalid) {
  RINGCHECK_RULE("H23");
  io_uring_prep_accept(Sqe(ring(), 1), listener_.fd.get(), nullptr, nullptr, O_APPEND);
  EXPECT_RESULT(SubmitOne(ring()).res, -EINVAL, "H23");
}

// H24: with an empty queue ACCEPT waits, and completes once a client comes.
TEST_P(Accept, WaitsForConnection) {
  RINGCHECK_RULE("H24");
  io_uring_prep_accept(Sqe(ring(), 1), listener_.fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_TRUE(Submit(ring()));
  EXPECT_TRUE(Quiet()) << "H24: nothing to accept yet";
  UniqueFd client = Client();
  std::vector<Cqe> got = ring().Reap(1, kDeadline);
  ASSERT_EQ(got.size(), 1u) << "H24: the connection completes the accept";
  EXPECT_SUCCESS(got[0].res, "H24");
  UniqueFd accepted(got[0].res >= 0 ? got[0].res : -1);
}

// H25: multishot ACCEPT posts one CQE per connection, each with F_MORE
// (D.1:F_MORE), and stays armed.
TEST_P(Accept, MultishotPostsOnePerConnectionWithMore) {
  RINGCHECK_RULE("H25 D.1:F_MORE");
  REQUIRE_FEATURE("accept_multishot");
  io_uring_prep_multishot_accept(Sqe(ring(), 7), listener_.fd.get(), nullptr, nullptr,
                                 SOCK_CLOEXEC);
  ASSERT_TRUE(Submit(ring()));
  std::vector<UniqueFd> clients, accepted;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(Client());
    std::vector<Cqe> got = ring().Reap(1, kDeadline);
    ASSERT_EQ(got.size(), 1u) << "H25: connection " << i;
    EXPECT_SUCCESS(got[0].res, "H25");
    EXPECT_TRUE(HasFlag(got[0], IORING_CQE_F_MORE)) << "H25 " << Describe(got[0]);
    if (got[0].res >= 0) accepted.emplace_back(got[0].res);
  }
  EXPECT_TRUE(Quiet()) << "H25: no CQE without a connection";
}

// H26: cancelling a multishot ACCEPT ends it with one -ECANCELED CQE
// without F_MORE.
TEST_P(Accept, MultishotEndsOnCancelWithoutMore) {
  RINGCHECK_RULE("H26 D.1:F_MORE");
  REQUIRE_FEATURE("accept_multishot");
  io_uring_prep_multishot_accept(Sqe(ring(), 7), listener_.fd.get(), nullptr, nullptr,
                                 SOCK_CLOEXEC);
  ASSERT_TRUE(Submit(ring()));
  EXPECT_TRUE(Quiet());
  io_uring_prep_cancel64(Sqe(ring(), 8), 7, 0);
  ASSERT_TRUE(Submit(ring()));
  std::vector<Cqe> got = ReapQuiet(ring(), 2);
  std::vector<Cqe> accept = WithUserData(got, 7);
  ASSERT_EQ(accept.size(), 1u) << Describe(got);
  EXPECT_RESULT(accept[0].res, -ECANCELED, "H26");
  EXPECT_FALSE(HasFlag(accept[0], IORING_CQE_F_MORE)) << "H26 " << Describe(accept[0]);
  UniqueFd client = Client();
  EXPECT_TRUE(Quiet()) << "H26: a connection after the end posts nothing";
}

// H27: direct ACCEPT with IORING_FILE_INDEX_ALLOC returns the slot it
// filled; the accepted socket is usable through it.
TEST_P(Accept, DirectAllocReturnsSlot) {
  RINGCHECK_RULE("H27");
  REQUIRE_FEATURE("op_socket");  // FILE_INDEX_ALLOC came with 5.19
  ASSERT_EQ(io_uring_register_files_sparse(ring().get(), 4), 0);
  UniqueFd client = Client();
  io_uring_prep_accept_direct(Sqe(ring(), 1), listener_.fd.get(), nullptr, nullptr, 0,
                              IORING_FILE_INDEX_ALLOC);
  Cqe c = SubmitOne(ring());
  ASSERT_SUCCESS(c.res, "H27");
  EXPECT_LT(c.res, 4) << "H27: a slot of the table";
  ASSERT_EQ(send(client.get(), "abc", 3, 0), 3);
  char buf[3];
  io_uring_sqe* sqe = Sqe(ring(), 2);
  io_uring_prep_recv(sqe, c.res, buf, sizeof buf, MSG_WAITALL);
  sqe->flags |= IOSQE_FIXED_FILE;
  EXPECT_RESULT(SubmitOne(ring()).res, 3, "H27: recv through the slot");
}

// H28: direct ACCEPT with ALLOC on a full table is -ENFILE; a multishot
// direct ACCEPT that meets it ends there, without F_MORE.
TEST_P(Accept, DirectAllocOnFullTableIsEnfile) {
  RINGCHECK_RULE("H28");
  REQUIRE_FEATURE("accept_multishot");
  ASSERT_EQ(io_uring_register_files_sparse(ring().get(), 1), 0);
  io_uring_prep_multishot_accept_direct(Sqe(ring(), 7), listener_.fd.get(), nullptr, nullptr, 0);
  ASSERT_TRUE(Submit(ring()));
  UniqueFd c1 = Client();
  std::vector<Cqe> first = ring().Reap(1, kDeadline);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_RESULT(first[0].res, 0, "H27: the only slot");
  EXPECT_TRUE(HasFlag(first[0], IORING_CQE_F_MORE)) << Describe(first[0]);
  UniqueFd c2 = Client();
  std::vector<Cqe> second = ring().Reap(1, kDeadline);
  ASSERT_EQ(second.size(), 1u) << "H28: the second connection finds no slot";
  EXPECT_RESULT(second[0].res, -ENFILE, "H28");
  EXPECT_FALSE(HasFlag(second[0], IORING_CQE_F_MORE)) << "H28: the error ends the multishot "
                                                      << Describe(second[0]);
}

// H29: a multishot direct ACCEPT must let the kernel pick the slots: a
// fixed file_index is -EINVAL.
TEST_P(Accept, MultishotDirectWithFixedSlotIsInvalid) {
  RINGCHECK_RULE("H29");
  REQUIRE_FEATURE("accept_multishot");
  ASSERT_EQ(io_uring_register_files_sparse(ring().get(), 2), 0);
  io_uring_sqe* sqe = Sqe(ring(), 1);
  io_uring_prep_multishot_accept_direct(sqe, listener_.fd.get(), nullptr, nullptr, 0);
  sqe->file_index = 1;  // slot 0, not IORING_FILE_INDEX_ALLOC
  EXPECT_RESULT(SubmitOne(ring()).res, -EINVAL, "H29");
}

// H30: IORING_ACCEPT_DONTWAIT on an empty queue is -EAGAIN at once.
TEST_P(Accept, DontwaitOnEmptyQueueIsEagain) {
  RINGCHECK_RULE("H30");
  REQUIRE_FEATURE("accept_dontwait");
  io_uring_sqe* sqe = Sqe(ring(), 1);
  io_uring_prep_accept(sqe, listener_.fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
  sqe->ioprio |= IORING_ACCEPT_DONTWAIT;
  EXPECT_RESULT(SubmitOne(ring()).res, -EAGAIN, "H30");
}

// H31: IORING_ACCEPT_POLL_FIRST waits for readiness before accepting: an
// empty queue leaves it pending, a connection completes it.
TEST_P(Accept, PollFirstWaitsThenAccepts) {
  RINGCHECK_RULE("H31");
  REQUIRE_FEATURE("accept_poll_first");
  io_uring_sqe* sqe = Sqe(ring(), 1);
  io_uring_prep_accept(sqe, listener_.fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
  sqe->ioprio |= IORING_ACCEPT_POLL_FIRST;
  ASSERT_TRUE(Submit(ring()));
  EXPECT_TRUE(Quiet()) << "H31";
  UniqueFd client = Client();
  std::vector<Cqe> got = ring().Reap(1, kDeadline);
  ASSERT_EQ(got.size(), 1u) << "H31";
  EXPECT_SUCCESS(got[0].res, "H31");
  UniqueFd accepted(got[0].res >= 0 ? got[0].res : -1);
}

RINGCHECK_INSTANTIATE_NET_FAMILIES(Accept, Family::kTcp4, Family::kTcp6, Family::kUnixStream,
                                   Family::kUnixSeqpacket);

class AcceptErrors : public NetTest {};

// H32: ACCEPT on a socket that is not listening is -EINVAL.
TEST_P(AcceptErrors, NotListeningIsInvalid) {
  RINGCHECK_RULE("H32");
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  io_uring_prep_accept(Sqe(ring(), 1), fd.get(), nullptr, nullptr, 0);
  EXPECT_RESULT(SubmitOne(ring()).res, -EINVAL, "H32");
}

// H33: ACCEPT on a descriptor that is not a socket is -ENOTSOCK; on a
// datagram socket it is -EOPNOTSUPP.
TEST_P(AcceptErrors, PipeIsNotsock) {
  RINGCHECK_RULE("H33");
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  UniqueFd r(p[0]), w(p[1]);
  io_uring_prep_accept(Sqe(ring(), 1), r.get(), nullptr, nullptr, 0);
  EXPECT_RESULT(SubmitOne(ring()).res, -ENOTSOCK, "H33");
}

TEST_P(AcceptErrors, UdpIsOpnotsupp) {
  RINGCHECK_RULE("H33");
  UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  io_uring_prep_accept(Sqe(ring(), 1), fd.get(), nullptr, nullptr, 0);
  EXPECT_RESULT(SubmitOne(ring()).res, -EOPNOTSUPP, "H33");
}

RINGCHECK_INSTANTIATE_NET_RINGS(AcceptErrors);

}  // namespace
}  // namespace net
}  // namespace ringcheck
