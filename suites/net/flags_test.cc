// IORING_CQE_F_SOCK_NONEMPTY and F_MORE on RECV and RECVMSG, single-shot and
// multishot, on every family (spec/net.md H98-H101, applying D.1:F_MORE and
// D.1:F_SOCK_NONEMPTY of spec/cqe.md; kernel net.c io_recv_finish reads the
// socket's msg_inq).
#include <sys/socket.h>

#include <cstring>

#include "harness/bufring.h"
#include "suites/net/net_util.h"

namespace ringcheck {
namespace net {
namespace {

constexpr uint16_t kGroup = 3;

class RecvFlags : public NetFamilyTest {
 protected:
  void SetUp() override {
    NetFamilyTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    REQUIRE_FEATURE("op_socket");  // SOCK_NONEMPTY on recv came with 5.19
    if (family() == Family::kUnixStream) REQUIRE_FEATURE("unix_so_inq");
    MakePairOrSkip(&pair_);
  }
  void TearDown() override { bufs_.reset(); }
  // Two sends of `each` bytes, waited for.
  void QueueTwo(size_t each) {
    ASSERT_EQ(SendAll(pair_.a.get(), Pattern(each).data(), each), 0);
    ASSERT_EQ(SendAll(pair_.a.get(), Pattern(each, 'A').data(), each), 0);
    ASSERT_TRUE(WaitForReadable(pair_.b.get(), IsByteStream(family()) ? 2 * each : each, kDeadline));
  }
  Cqe RecvOne(size_t len, bool msg) {
    if (msg) {
      iov_ = {buf_, len};
      msg_ = {};
      msg_.msg_iov = &iov_;
      msg_.msg_iovlen = 1;
      io_uring_prep_recvmsg(Sqe(ring(), 1), pair_.b.get(), &msg_, 0);
    } else {
      io_uring_prep_recv(Sqe(ring(), 1), pair_.b.get(), buf_, len, 0);
    }
    return SubmitOne(ring());
  }
  // Arms a multishot RECV or RECVMSG over 8 buffers of `len` bytes and
  // returns its CQEs once the CQ is quiet (at least `count`).
  std::vector<Cqe> Multishot(size_t len, size_t count, bool msg) {
    EXPECT_EQ(BufRing::Create(ring(), kGroup, 8, 0, &bufs_), 0);
    if (!bufs_) return {};
    for (uint16_t bid = 0; bid < 8; ++bid) bufs_->Add(bid, len);
    io_uring_sqe* sqe = Sqe(ring(), 2);
    if (msg) {
      msg_ = {};
      io_uring_prep_recvmsg_multishot(sqe, pair_.b.get(), &msg_, 0);
    } else {
      io_uring_prep_recv_multishot(sqe, pair_.b.get(), nullptr, 0, 0);
    }
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kGroup;
    if (!Submit(ring())) return {};
    return ReapQuiet(ring(), count);
  }
  SocketPair pair_;
  std::unique_ptr<BufRing> bufs_;
  char buf_[4096];
  iovec iov_ = {};
  msghdr msg_ = {};
};

class StreamFlags : public RecvFlags {};
class MessageFlags : public RecvFlags {};

// H98 (D.1:F_SOCK_NONEMPTY): on a byte stream a single-shot RECV or
// RECVMSG that leaves bytes queued sets SOCK_NONEMPTY; one that takes the
// rest does not; neither has F_MORE.
TEST_P(StreamFlags, RecvLeavingBytesSetsNonempty) {
  RINGCHECK_RULE("H98 D.1:F_SOCK_NONEMPTY D.1:F_MORE");
  ASSERT_NO_FATAL_FAILURE(QueueTwo(100));
  Cqe part = RecvOne(50, false);
  ASSERT_RESULT(part.res, 50, "H98");
  EXPECT_TRUE(HasFlag(part, IORING_CQE_F_SOCK_NONEMPTY)) << "H98 " << Describe(part);
  EXPECT_FALSE(HasFlag(part, IORING_CQE_F_MORE)) << Describe(part);
  Cqe rest = RecvOne(sizeof buf_, false);
  ASSERT_RESULT(rest.res, 150, "H98");
  EXPECT_FALSE(HasFlag(rest, IORING_CQE_F_SOCK_NONEMPTY)) << "H98 " << Describe(rest);
}

TEST_P(StreamFlags, RecvmsgLeavingBytesSetsNonempty) {
  RINGCHECK_RULE("H98 D.1:F_SOCK_NONEMPTY D.1:F_MORE");
  ASSERT_NO_FATAL_FAILURE(QueueTwo(100));
  Cqe part = RecvOne(50, true);
  ASSERT_RESULT(part.res, 50, "H98");
  EXPECT_TRUE(HasFlag(part, IORING_CQE_F_SOCK_NONEMPTY)) << "H98 " << Describe(part);
  EXPECT_FALSE(HasFlag(part, IORING_CQE_F_MORE)) << Describe(part);
  Cqe rest = RecvOne(sizeof buf_, true);
  ASSERT_RESULT(rest.res, 150, "H98");
  EXPECT_FALSE(HasFlag(rest, IORING_CQE_F_SOCK_NONEMPTY)) << "H98 " << Describe(rest);
}

// H100 (D.1:F_MORE, D.1:F_SOCK_NONEMPTY): a multishot RECV on a byte stream
// posts every CQE with F_MORE; those after which bytes remain have
// SOCK_NONEMPTY, the one that empties the socket does not.
TEST_P(StreamFlags, MultishotRecvMarksAllButLastNonempty) {
  RINGCHECK_RULE("H100 D.1:F_MORE D.1:F_SOCK_NONEMPTY");
  ASSERT_NO_FATAL_FAILURE(QueueTwo(100));
  REQUIRE_FEATURE("recv_multishot");
  REQUIRE_FEATURE("register_pbuf_ring");
  std::vector<Cqe> got = Multishot(64, 4, false);
  ASSERT_EQ(got.size(), 4u) << "H100: 200 bytes in 64-byte buffers " << Describe(got);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(HasFlag(got[i], IORING_CQE_F_MORE)) << "H100 " << Describe(got);
    EXPECT_EQ(HasFlag(got[i], IORING_CQE_F_SOCK_NONEMPTY), i + 1 < got.size())
        << "H100: CQE " << i << " " << Describe(got);
  }
}

// H100 for multishot RECVMSG (each buffer also holds the header).
TEST_P(StreamFlags, MultishotRecvmsgMarksAllButLastNonempty) {
  RINGCHECK_RULE("H100 D.1:F_MORE D.1:F_SOCK_NONEMPTY");
  ASSERT_NO_FATAL_FAILURE(QueueTwo(100));
  REQUIRE_FEATURE("recv_multishot");
  REQUIRE_FEATURE("register_pbuf_ring");
  std::vector<Cqe> got = Multishot(16 + 64, 4, true);
  ASSERT_EQ(got.size(), 4u) << "H100 " << Describe(got);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(HasFlag(got[i], IORING_CQE_F_MORE)) << "H100 " << Describe(got);
    EXPECT_EQ(HasFlag(got[i], IORING_CQE_F_SOCK_NONEMPTY), i + 1 < got.size())
        << "H100: CQE " << i << " " << Describe(got);
  }
}

// H99 (D.1:F_SOCK_NONEMPTY): message sockets (UDP, AF_UNIX datagram and
// seqpacket) never set SOCK_NONEMPTY, even with another message queued:
// their recvmsg does not report msg_inq, which is all io_uring looks at.
TEST_P(MessageFlags, RecvWithMessageQueuedLeavesNonemptyClear) {
  RINGCHECK_RULE("H99 D.1:F_SOCK_NONEMPTY");
  ASSERT_NO_FATAL_FAILURE(QueueTwo(100));
  Cqe c = RecvOne(sizeof buf_, false);
  ASSERT_RESULT(c.res, 100, "H99");
  EXPECT_FALSE(HasFlag(c, IORING_CQE_F_SOCK_NONEMPTY)) << "H99 " << Describe(c);
  Cqe m = RecvOne(sizeof buf_, true);
  ASSERT_RESULT(m.res, 100, "H99");
  EXPECT_FALSE(HasFlag(m, IORING_CQE_F_SOCK_NONEMPTY)) << "H99 " << Describe(m);
}

// H101 (D.1:F_MORE): a multishot RECV on a message socket posts one CQE per
// message, each with F_MORE and without SOCK_NONEMPTY.
TEST_P(MessageFlags, MultishotRecvOneCqePerMessage) {
  RINGCHECK_RULE("H101 H99 D.1:F_MORE");
  ASSERT_NO_FATAL_FAILURE(QueueTwo(100));
  REQUIRE_FEATURE("recv_multishot");
  REQUIRE_FEATURE("register_pbuf_ring");
  std::vector<Cqe> got = Multishot(128, 2, false);
  ASSERT_EQ(got.size(), 2u) << "H101 " << Describe(got);
  for (const Cqe& c : got) {
    EXPECT_RESULT(c.res, 100, "H101: one message each");
    EXPECT_TRUE(HasFlag(c, IORING_CQE_F_MORE)) << "H101 " << Describe(got);
    EXPECT_FALSE(HasFlag(c, IORING_CQE_F_SOCK_NONEMPTY)) << "H99 " << Describe(got);
  }
}

TEST_P(MessageFlags, MultishotRecvmsgOneCqePerMessage) {
  RINGCHECK_RULE("H101 H99 D.1:F_MORE");
  ASSERT_NO_FATAL_FAILURE(QueueTwo(100));
  REQUIRE_FEATURE("recv_multishot");
  REQUIRE_FEATURE("register_pbuf_ring");
  std::vector<Cqe> got = Multishot(256, 2, true);
  ASSERT_EQ(got.size(), 2u) << "H101 " << Describe(got);
  for (const Cqe& c : got) {
    EXPECT_GT(c.res, 100) << "H101: header plus one message " << Describe(c);
    EXPECT_TRUE(HasFlag(c, IORING_CQE_F_MORE)) << "H101 " << Describe(got);
    EXPECT_FALSE(HasFlag(c, IORING_CQE_F_SOCK_NONEMPTY)) << "H99 " << Describe(got);
  }
}

RINGCHECK_INSTANTIATE_NET_FAMILIES(StreamFlags, Family::kTcp4, Family::kTcp6, Family::kUnixStream);
RINGCHECK_INSTANTIATE_NET_FAMILIES(MessageFlags, Family::kUdp4, Family::kUdp6, Family::kUnixDgram,
                                   Family::kUnixSeqpacket);

}  // namespace
}  // namespace net
}  // namespace ringcheck
