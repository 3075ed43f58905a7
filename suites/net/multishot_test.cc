// Multishot RECV with a buffer ring (spec/net.md H53-H58;
// io_uring_prep_recv_multishot(3); kernel net.c io_recv_prep, io_recv,
// io_recv_finish).
#include <sys/socket.h>

#include <cstring>

#include "harness/bufring.h"
#include "suites/net/net_util.h"

namespace ringcheck {
namespace net {
namespace {

constexpr uint16_t kGroup = 9;
constexpr uint64_t kRecv = 42;

class MultishotRecv : public NetFamilyTest {
 protected:
  void SetUp() override {
    NetFamilyTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    REQUIRE_FEATURE("recv_multishot");
    REQUIRE_FEATURE("register_pbuf_ring");
    MakePairOrSkip(&pair_);
    if (IsSkipped() || HasFatalFailure()) return;
    int ret = BufRing::Create(ring(), kGroup, 8, 0, &bufs_);
    ASSERT_EQ(ret, 0) << "buffer ring: " << ResultName(ret);
  }
  void TearDown() override { bufs_.reset(); }
  void Arm(unsigned len = 0, int msg_flags = 0) {
    io_uring_sqe* sqe = Sqe(ring(), kRecv);
    io_uring_prep_recv_multishot(sqe, pair_.b.get(), nullptr, len, msg_flags);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kGroup;
  }
  // Sends `data` and reaps the one CQE it must cause.
  Cqe SendAndReap(const std::string& data) {
    EXPECT_EQ(SendAll(pair_.a.get(), data.data(), data.size()), 0);
    std::vector<Cqe> got = ring().Reap(1, kDeadline);
    EXPECT_EQ(got.size(), 1u) << "no CQE for " << data.size() << " bytes";
    Cqe none;
    none.res = INT32_MIN;
    return got.empty() ? none : got[0];
  }
  bool Quiet() { return ring().Reap(1, kNoMore).empty(); }
  SocketPair pair_;
  std::unique_ptr<BufRing> bufs_;
};

// H53 (D.1:F_MORE, D.1:F_BUFFER): a multishot RECV posts one CQE per
// arrival, each with F_MORE and its own buffer, and stays armed.
TEST_P(MultishotRecv, OneCqePerArrivalWithMore) {
  RINGCHECK_RULE("H53 D.1:F_MORE D.1:F_BUFFER");
  for (uint16_t bid = 0; bid < 4; ++bid) bufs_->Add(bid, 256);
  Arm();
  ASSERT_TRUE(Submit(ring()));
  EXPECT_TRUE(Quiet()) << "H53: nothing arrived yet";
  for (uint16_t i = 0; i < 3; ++i) {
    std::string data = Pattern(20 + i, static_cast<char>('a' + i));
    Cqe c = SendAndReap(data);
    ASSERT_RESULT(c.res, static_cast<int>(data.size()), "H53");
    EXPECT_TRUE(HasFlag(c, IORING_CQE_F_MORE)) << "H53 " << Describe(c);
    ASSERT_TRUE(HasFlag(c, IORING_CQE_F_BUFFER)) << "H53 " << Describe(c);
    EXPECT_EQ(BufferId(c), i) << "H53: one buffer per CQE, in ring order";
    EXPECT_EQ(std::memcmp(bufs_->Data(BufferId(c)), data.data(), data.size()), 0)
        << "H53: data not in the buffer the CQE names";
  }
  EXPECT_TRUE(Quiet()) << "H53";
}

// H54: a multishot RECV that finds no buffer ends with -ENOBUFS and no
// F_MORE.
TEST_P(MultishotRecv, EndsWithEnobufsWithoutMore) {
  RINGCHECK_RULE("H54 D.1:F_MORE");
  bufs_->Add(0, 256);
  Arm();
  ASSERT_TRUE(Submit(ring()));
  Cqe first = SendAndReap(Pattern(10));
  ASSERT_RESULT(first.res, 10, "H54: the only buffer");
  EXPECT_TRUE(HasFlag(first, IORING_CQE_F_MORE)) << Describe(first);
  Cqe last = SendAndReap(Pattern(10));
  EXPECT_RESULT(last.res, -ENOBUFS, "H54");
  EXPECT_FALSE(HasFlag(last, IORING_CQE_F_MORE)) << "H54 " << Describe(last);
  EXPECT_TRUE(Quiet()) << "H54: ended";
}

// Connection families (a peer that can close) and byte streams (a length
// that splits data).
class ConnMultishotRecv : public MultishotRecv {};
class StreamMultishotRecv : public MultishotRecv {};

// H55: a multishot RECV whose peer closes ends with res 0 and no F_MORE.
TEST_P(ConnMultishotRecv, PeerCloseEndsWithZero) {
  RINGCHECK_RULE("H55 D.1:F_MORE");
  bufs_->Add(0, 256);
  bufs_->Add(1, 256);
  Arm();
  ASSERT_TRUE(Submit(ring()));
  EXPECT_TRUE(Quiet());
  pair_.a.reset();
  std::vector<Cqe> got = ring().Reap(1, kDeadline);
  ASSERT_EQ(got.size(), 1u) << "H55";
  EXPECT_RESULT(got[0].res, 0, "H55");
  EXPECT_FALSE(HasFlag(got[0], IORING_CQE_F_MORE)) << "H55 " << Describe(got[0]);
}

// H56: multishot RECV needs IOSQE_BUFFER_SELECT, and refuses MSG_WAITALL:
// both -EINVAL.
TEST_P(MultishotRecv, WithoutBufferSelectIsInvalid) {
  RINGCHECK_RULE("H56");
  char buf[16];
  io_uring_prep_recv_multishot(Sqe(ring(), 1), pair_.b.get(), buf, sizeof buf, 0);
  EXPECT_RESULT(SubmitOne(ring()).res, -EINVAL, "H56: no BUFFER_SELECT");
}

TEST_P(MultishotRecv, WaitallIsInvalid) {
  RINGCHECK_RULE("H56");
  bufs_->Add(0, 64);
  Arm(0, MSG_WAITALL);
  EXPECT_RESULT(SubmitOne(ring()).res, -EINVAL, "H56: MSG_WAITALL");
}

// H57: cancelling a multishot RECV ends it with -ECANCELED and no F_MORE.
TEST_P(MultishotRecv, CancelEndsWithoutMore) {
  RINGCHECK_RULE("H57 D.1:F_MORE");
  bufs_->Add(0, 64);
  Arm();
  ASSERT_TRUE(Submit(ring()));
  EXPECT_TRUE(Quiet());
  io_uring_prep_cancel64(Sqe(ring(), 2), kRecv, 0);
  ASSERT_TRUE(Submit(ring()));
  std::vector<Cqe> got = WithUserData(ReapQuiet(ring(), 2), kRecv);
  ASSERT_EQ(got.size(), 1u) << Describe(got);
  EXPECT_RESULT(got[0].res, -ECANCELED, "H57");
  EXPECT_FALSE(HasFlag(got[0], IORING_CQE_F_MORE)) << Describe(got[0]);
}

// H58: a length on a multishot RECV caps each completion: no CQE carries
// more than `len` bytes, and together they carry everything.
TEST_P(StreamMultishotRecv, LengthCapsEachCompletion) {
  RINGCHECK_RULE("H58");
  REQUIRE_FEATURE("recv_multishot_len");
  for (uint16_t bid = 0; bid < 8; ++bid) bufs_->Add(bid, 256);
  std::string data = Pattern(40);
  ASSERT_EQ(SendAll(pair_.a.get(), data.data(), data.size()), 0);
  ASSERT_TRUE(WaitForReadable(pair_.b.get(), data.size(), kDeadline));
  Arm(16);
  ASSERT_TRUE(Submit(ring()));
  std::vector<Cqe> got = ReapQuiet(ring(), 3);
  std::string joined;
  for (const Cqe& c : got) {
    ASSERT_GT(c.res, 0) << "H58 " << Describe(got);
    EXPECT_LE(c.res, 16) << "H58: more than len in one CQE " << Describe(c);
    joined.append(reinterpret_cast<char*>(bufs_->Data(BufferId(c))), c.res);
  }
  EXPECT_EQ(joined, data) << "H58 " << Describe(got);
}

RINGCHECK_INSTANTIATE_NET_FAMILIES(MultishotRecv, Family::kTcp4, Family::kTcp6, Family::kUdp4,
                                   Family::kUnixStream, Family::kUnixSeqpacket);
RINGCHECK_INSTANTIATE_NET_FAMILIES(ConnMultishotRecv, Family::kTcp4, Family::kTcp6,
                                   Family::kUnixStream, Family::kUnixSeqpacket);
RINGCHECK_INSTANTIATE_NET_FAMILIES(StreamMultishotRecv, Family::kTcp4, Family::kTcp6,
                                   Family::kUnixStream);

}  // namespace
}  // namespace net
}  // namespace ringcheck
