// SEND and RECV on every family (spec/net.md H34-H45; io_uring_prep_send(3),
// io_uring_prep_recv(3); kernel net.c io_sendmsg_prep, io_send, io_recv).
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "harness/child.h"
#include "harness/in_child.h"
#include "suites/net/net_util.h"

namespace ringcheck {
namespace net {
namespace {

constexpr unsigned char kUntouched = 0xEE;

class SendRecv : public NetFamilyTest {
 protected:
  void SetUp() override {
    NetFamilyTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    MakePairOrSkip(&pair_);
    std::memset(in_, kUntouched, sizeof in_);
  }
  void QueueRecv(uint64_t ud, size_t len, int flags = 0, uint16_t ioprio = 0) {
    io_uring_sqe* sqe = Sqe(ring(), ud);
    io_uring_prep_recv(sqe, pair_.b.get(), in_, len, flags);
    sqe->ioprio |= ioprio;
  }
  bool Quiet() { return ring().Reap(1, kNoMore).empty(); }
  SocketPair pair_;
  unsigned char in_[4096];
};

// H34: SEND hands the bytes to the socket and RECV copies them into the
// buffer: res counts them, they arrive intact, bytes past res stay as they
// were.
TEST_P(SendRecv, DataArrivesIntact) {
  RINGCHECK_RULE("H34");
  std::string data = Pattern(300);
  io_uring_prep_send(Sqe(ring(), 1), pair_.a.get(), data.data(), data.size(), 0);
  ASSERT_RESULT(SubmitOne(ring()).res, 300, "H34: send");
  ASSERT_TRUE(WaitForReadable(pair_.b.get(), 300, kDeadline)) << "H34: nothing arrived";
  QueueRecv(2, sizeof in_);
  Cqe c = SubmitOne(ring());
  ASSERT_RESULT(c.res, 300, "H34: recv");
  EXPECT_EQ(std::memcmp(in_, data.data(), 300), 0) << "H34: the received bytes differ";
  EXPECT_EQ(in_[300], kUntouched) << "H34: recv wrote past its result";
}

// H35: a RECV on an empty socket waits, and completes with the data that
// arrives later.
TEST_P(SendRecv, RecvWaitsForData) {
  RINGCHECK_RULE("H35");
  QueueRecv(1, sizeof in_);
  ASSERT_TRUE(Submit(ring()));
  EXPECT_TRUE(Quiet()) << "H35: no data yet";
  ASSERT_EQ(send(pair_.a.get(), "hello", 5, 0), 5);
  std::vector<Cqe> got = ring().Reap(1, kDeadline);
  ASSERT_EQ(got.size(), 1u) << "H35";
  EXPECT_RESULT(got[0].res, 5, "H35");
  EXPECT_EQ(std::memcmp(in_, "hello", 5), 0) << "H35";
}

// H36: MSG_DONTWAIT on an empty socket is -EAGAIN instead of waiting.
TEST_P(SendRecv, DontwaitOnEmptyIsEagain) {
  RINGCHECK_RULE("H36");
  QueueRecv(1, sizeof in_, MSG_DONTWAIT);
  EXPECT_RESULT(SubmitOne(ring()).res, -EAGAIN, "H36");
}

// H37: a 0-byte SEND completes with 0.
TEST_P(SendRecv, ZeroByteSendIsZero) {
  RINGCHECK_RULE("H37");
  io_uring_prep_send(Sqe(ring(), 1), pair_.a.get(), in_, 0, 0);
  EXPECT_RESULT(SubmitOne(ring()).res, 0, "H37");
}

// H38: IORING_RECVSEND_POLL_FIRST: the recv waits for readiness first, then
// receives.
TEST_P(SendRecv, PollFirstRecvWaitsThenReceives) {
  RINGCHECK_RULE("H38");
  REQUIRE_FEATURE("recvsend_poll_first");
  QueueRecv(1, sizeof in_, 0, IORING_RECVSEND_POLL_FIRST);
  ASSERT_TRUE(Submit(ring()));
  EXPECT_TRUE(Quiet()) << "H38";
  ASSERT_EQ(send(pair_.a.get(), "abc", 3, 0), 3);
  std::vector<Cqe> got = ring().Reap(1, kDeadline);
  ASSERT_EQ(got.size(), 1u) << "H38";
  EXPECT_RESULT(got[0].res, 3, "H38");
}

// H39: unknown ioprio bits on SEND or RECV are -EINVAL.
TEST_P(SendRecv, UnknownIoprioIsInvalid) {
  RINGCHECK_RULE("H39");
  QueueRecv(1, sizeof in_, 0, 1U << 14);
  EXPECT_RESULT(SubmitOne(ring()).res, -EINVAL, "H39: recv");
  io_uring_sqe* sqe = Sqe(ring(), 2);
  io_uring_prep_send(sqe, pair_.a.get(), "x", 1, 0);
  sqe->ioprio = 1U << 14;
  EXPECT_RESULT(SubmitOne(ring()).res, -EINVAL, "H39: send");
}

// Connection families: a peer that can close, a send that can fail.
class ConnRecv : public SendRecv {};
// Byte streams: WAITALL and 0-byte reads.
class StreamRecv : public SendRecv {};

// H40 (D.1:F_MORE): after the peer closes, RECV completes with 0 and no
// F_MORE.
TEST_P(ConnRecv, PeerCloseGivesZeroWithoutMore) {
  RINGCHECK_RULE("H40 D.1:F_MORE");
  QueueRecv(1, sizeof in_);
  ASSERT_TRUE(Submit(ring()));
  EXPECT_TRUE(Quiet());
  pair_.a.reset();
  std::vector<Cqe> got = ring().Reap(1, kDeadline);
  ASSERT_EQ(got.size(), 1u) << "H40";
  EXPECT_RESULT(got[0].res, 0, "H40");
  EXPECT_FALSE(HasFlag(got[0], IORING_CQE_F_MORE)) << Describe(got[0]);
}

// H41: SEND on a socket that can no longer send is -EPIPE, and no SIGPIPE
// is raised: io_uring adds MSG_NOSIGNAL to every send.
TEST_P(ConnRecv, SendAfterShutdownIsEpipeWithoutSigpipe) {
  RINGCHECK_RULE("H41");
  RingConfig config = std::get<0>(GetParam());
  ring_.reset();  // the child owns its own ring
  int fd = pair_.a.get();
  ASSERT_EQ(shutdown(fd, SHUT_WR), 0);
  ChildRun run = InChild([&](ChildChannel& child) {
    signal(SIGPIPE, SIG_DFL);  // a SIGPIPE would kill the child
    std::unique_ptr<Ring> child_ring;
    std::string why;
    int created = CreateRingForTest(config, &child_ring, &why);
    if (created < 0 && !why.empty()) return child.Skip(why);
    ASSERT_EQ(created, 0) << "ring setup failed for " << config.name;
    io_uring_sqe* sqe = child_ring->NextSqe();
    io_uring_prep_send(sqe, fd, "x", 1, 0);
    ASSERT_GE(child_ring->Submit(), 0);
    std::vector<Cqe> got = child_ring->Reap(1, kDeadline);
    ASSERT_EQ(got.size(), 1u) << "no CQE for the send (rule H41)";
    child.Put(0, got[0].res);
  });
  // A child killed by SIGPIPE: io_uring did not add MSG_NOSIGNAL (rule H41).
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), -EPIPE, "H41");
}

// H42: MSG_WAITALL on a byte stream completes only when all `len` bytes
// came, across several partial arrivals.
TEST_P(StreamRecv, WaitallCollectsPartialArrivals) {
  RINGCHECK_RULE("H42");
  std::string data = Pattern(200);
  QueueRecv(1, 200, MSG_WAITALL);
  ASSERT_TRUE(Submit(ring()));
  ASSERT_EQ(SendAll(pair_.a.get(), data.data(), 100), 0);
  EXPECT_TRUE(Quiet()) << "H42: 100 of 200 bytes must not complete it";
  ASSERT_EQ(SendAll(pair_.a.get(), data.data() + 100, 100), 0);
  std::vector<Cqe> got = ring().Reap(1, kDeadline);
  ASSERT_EQ(got.size(), 1u) << "H42";
  EXPECT_RESULT(got[0].res, 200, "H42");
  EXPECT_EQ(std::memcmp(in_, data.data(), 200), 0) << "H42";
}

// H43: MSG_WAITALL when the peer closes early completes with the bytes
// that did arrive.
TEST_P(StreamRecv, WaitallPeerCloseGivesPartialCount) {
  RINGCHECK_RULE("H43");
  QueueRecv(1, 200, MSG_WAITALL);
  ASSERT_TRUE(Submit(ring()));
  ASSERT_EQ(SendAll(pair_.a.get(), Pattern(60).data(), 60), 0);
  EXPECT_TRUE(Quiet());
  pair_.a.reset();
  std::vector<Cqe> got = ring().Reap(1, kDeadline);
  ASSERT_EQ(got.size(), 1u) << "H43";
  EXPECT_RESULT(got[0].res, 60, "H43");
}

// H44: a 0-byte RECV with data queued completes with 0 and takes nothing.
TEST_P(StreamRecv, ZeroByteRecvTakesNothing) {
  RINGCHECK_RULE("H44");
  ASSERT_EQ(send(pair_.a.get(), "abcd", 4, 0), 4);
  ASSERT_TRUE(WaitForReadable(pair_.b.get(), 4, kDeadline));
  QueueRecv(1, 0);
  EXPECT_RESULT(SubmitOne(ring()).res, 0, "H44");
  EXPECT_EQ(Readable(pair_.b.get()), 4) << "H44: the data is still there";
}

RINGCHECK_INSTANTIATE_NET_FAMILIES(SendRecv, Family::kTcp4, Family::kTcp6, Family::kUdp4,
                                   Family::kUdp6, Family::kUnixStream, Family::kUnixDgram,
                                   Family::kUnixSeqpacket);

class RecvErrors : public NetTest {};

// H45: SEND and RECV on a descriptor that is not a socket are -ENOTSOCK.
TEST_P(RecvErrors, PipeIsNotsock) {
  RINGCHECK_RULE("H45");
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  UniqueFd r(p[0]), w(p[1]);
  char buf[4];
  io_uring_prep_recv(Sqe(ring(), 1), r.get(), buf, sizeof buf, 0);
  EXPECT_RESULT(SubmitOne(ring()).res, -ENOTSOCK, "H45: recv");
  io_uring_prep_send(Sqe(ring(), 2), w.get(), buf, sizeof buf, 0);
  EXPECT_RESULT(SubmitOne(ring()).res, -ENOTSOCK, "H45: send");
}

RINGCHECK_INSTANTIATE_NET_RINGS(RecvErrors);
RINGCHECK_INSTANTIATE_NET_FAMILIES(ConnRecv, Family::kTcp4, Family::kTcp6, Family::kUnixStream,
                                   Family::kUnixSeqpacket);
RINGCHECK_INSTANTIATE_NET_FAMILIES(StreamRecv, Family::kTcp4, Family::kTcp6, Family::kUnixStream);

}  // namespace
}  // namespace net
}  // namespace ringcheck
