// Multishot RECVMSG: the io_uring_recvmsg_out header, name and payload
// layout in each provided buffer, truncation, and liburing's helpers
// (spec/net.md H64-H68; io_uring_prep_recvmsg_multishot(3),
// io_uring_recvmsg_out(3); kernel net.c io_recvmsg_multishot,
// io_recvmsg_prep_multishot).
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "harness/bufring.h"
#include "suites/net/net_util.h"

namespace ringcheck {
namespace net {
namespace {

constexpr uint16_t kGroup = 11;
constexpr uint64_t kRecv = 5;

class RecvmsgMultishot : public NetFamilyTest {
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
    sender_len_ = sizeof sender_;
    ASSERT_EQ(getsockname(pair_.a.get(), reinterpret_cast<sockaddr*>(&sender_), &sender_len_), 0);
  }
  void TearDown() override { bufs_.reset(); }
  void Arm(socklen_t namelen) {
    msg_ = {};
    msg_.msg_namelen = namelen;
    io_uring_sqe* sqe = Sqe(ring(), kRecv);
    io_uring_prep_recvmsg_multishot(sqe, pair_.b.get(), &msg_, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kGroup;
  }
  Cqe SendAndReap(const std::string& data) {
    EXPECT_EQ(send(pair_.a.get(), data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));
    std::vector<Cqe> got = ring().Reap(1, kDeadline);
    EXPECT_EQ(got.size(), 1u) << "no CQE for a datagram";
    Cqe none;
    none.res = INT32_MIN;
    return got.empty() ? none : got[0];
  }
  SocketPair pair_;
  std::unique_ptr<BufRing> bufs_;
  msghdr msg_ = {};
  sockaddr_storage sender_ = {};
  socklen_t sender_len_ = 0;
};

// H64 (D.1:F_MORE): each datagram fills one buffer with an
// io_uring_recvmsg_out header, then msg_namelen bytes of name, then
// msg_controllen bytes of control, then the payload; res is the number of
// buffer bytes used, and liburing's helpers find each part.
TEST_P(RecvmsgMultishot, BufferHoldsHeaderNamePayload) {
  RINGCHECK_RULE("H64 D.1:F_MORE");
  bufs_->Add(0, 256);
  bufs_->Add(1, 256);
  Arm(sizeof(sockaddr_storage));
  ASSERT_TRUE(Submit(ring()));
  for (uint16_t i = 0; i < 2; ++i) {
    std::string data = Pattern(40 + i, static_cast<char>('a' + i));
    Cqe c = SendAndReap(data);
    ASSERT_GT(c.res, 0) << "H64 " << Describe(c);
    EXPECT_TRUE(HasFlag(c, IORING_CQE_F_MORE)) << "H64 " << Describe(c);
    ASSERT_TRUE(HasFlag(c, IORING_CQE_F_BUFFER)) << Describe(c);
    void* buf = bufs_->Data(BufferId(c));
    io_uring_recvmsg_out* out = io_uring_recvmsg_validate(buf, c.res, &msg_);
    ASSERT_NE(out, nullptr) << "H64: res " << c.res << " shorter than the header";
    EXPECT_EQ(static_cast<size_t>(c.res),
              sizeof(io_uring_recvmsg_out) + msg_.msg_namelen + data.size())
        << "H64: res counts header, name space and payload";
    EXPECT_EQ(out->namelen, sender_len_) << "H64: namelen";
    EXPECT_EQ(out->payloadlen, data.size()) << "H64: payloadlen";
    EXPECT_EQ(out->controllen, 0u) << "H64: no control asked";
    EXPECT_EQ(out->flags & MSG_TRUNC, 0u) << "H64";
    EXPECT_EQ(std::memcmp(io_uring_recvmsg_name(out), &sender_, sender_len_), 0)
        << "H64: the name is the sender";
    EXPECT_EQ(io_uring_recvmsg_payload_length(out, c.res, &msg_), data.size()) << "H64";
    EXPECT_EQ(std::memcmp(io_uring_recvmsg_payload(out, &msg_), data.data(), data.size()), 0)
        << "H64: payload";
  }
}

// H65: a name longer than msg_namelen is cut to it, and the header's
// namelen still gives its full length.
TEST_P(RecvmsgMultishot, ShortNameSpaceKeepsFullNamelen) {
  RINGCHECK_RULE("H65");
  bufs_->Add(0, 256);
  Arm(4);
  ASSERT_TRUE(Submit(ring()));
  std::string data = Pattern(10);
  Cqe c = SendAndReap(data);
  ASSERT_GT(c.res, 0) << Describe(c);
  io_uring_recvmsg_out* out = io_uring_recvmsg_validate(bufs_->Data(BufferId(c)), c.res, &msg_);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->namelen, sender_len_) << "H65: the full length of the name";
  EXPECT_EQ(std::memcmp(io_uring_recvmsg_name(out), &sender_, 4), 0) << "H65: the first 4 bytes";
  EXPECT_EQ(std::memcmp(io_uring_recvmsg_payload(out, &msg_), data.data(), data.size()), 0)
      << "H65: the payload follows the 4 bytes of name space";
}

// H66: a datagram longer than the buffer's payload space is cut: the
// header's flags have MSG_TRUNC and payloadlen counts the bytes that fit
// (not the datagram's length, as recvmsg(2) would with MSG_TRUNC asked).
TEST_P(RecvmsgMultishot, LongDatagramSetsTruncInHeader) {
  RINGCHECK_RULE("H66");
  size_t space = 32;
  bufs_->Add(0, sizeof(io_uring_recvmsg_out) + sizeof(sockaddr_storage) + space);
  Arm(sizeof(sockaddr_storage));
  ASSERT_TRUE(Submit(ring()));
  std::string data = Pattern(100);
  Cqe c = SendAndReap(data);
  ASSERT_GT(c.res, 0) << Describe(c);
  io_uring_recvmsg_out* out = io_uring_recvmsg_validate(bufs_->Data(BufferId(c)), c.res, &msg_);
  ASSERT_NE(out, nullptr);
  EXPECT_TRUE(out->flags & MSG_TRUNC) << "H66: flags " << out->flags;
  EXPECT_EQ(out->payloadlen, space) << "H66: the bytes copied";
  EXPECT_EQ(io_uring_recvmsg_payload_length(out, c.res, &msg_), space)
      << "H66: what the buffer holds";
  EXPECT_EQ(std::memcmp(io_uring_recvmsg_payload(out, &msg_), data.data(), space), 0) << "H66";
}

// H67: multishot RECVMSG needs IOSQE_BUFFER_SELECT: without it, -EINVAL.
TEST_P(RecvmsgMultishot, WithoutBufferSelectIsInvalid) {
  RINGCHECK_RULE("H67");
  char buf[64];
  iovec iov = {buf, sizeof buf};
  msg_ = {};
  msg_.msg_iov = &iov;
  msg_.msg_iovlen = 1;
  io_uring_prep_recvmsg_multishot(Sqe(ring(), 1), pair_.b.get(), &msg_, 0);
  EXPECT_RESULT(SubmitOne(ring()).res, -EINVAL, "H67");
}

RINGCHECK_INSTANTIATE_NET_FAMILIES(RecvmsgMultishot, Family::kUdp4, Family::kUdp6);

// H68: liburing's io_uring_recvmsg_validate refuses a buffer shorter than
// header + msg_namelen + msg_controllen (NULL), and the payload helpers
// measure what follows them.
TEST(RecvmsgOutHelpers, ValidateChecksHeaderRoom) {
  RINGCHECK_RULE("H68");
  alignas(8) unsigned char buf[128] = {};
  msghdr msg = {};
  msg.msg_namelen = 16;
  msg.msg_controllen = 24;
  int header = static_cast<int>(sizeof(io_uring_recvmsg_out) + 16 + 24);
  EXPECT_EQ(io_uring_recvmsg_validate(buf, header - 1, &msg), nullptr) << "H68";
  EXPECT_EQ(io_uring_recvmsg_validate(buf, -1, &msg), nullptr) << "H68";
  io_uring_recvmsg_out* out = io_uring_recvmsg_validate(buf, header + 10, &msg);
  ASSERT_EQ(static_cast<void*>(out), static_cast<void*>(buf)) << "H68";
  EXPECT_EQ(io_uring_recvmsg_name(out), static_cast<void*>(buf + sizeof *out)) << "H68";
  EXPECT_EQ(io_uring_recvmsg_payload(out, &msg), static_cast<void*>(buf + header)) << "H68";
  EXPECT_EQ(io_uring_recvmsg_payload_length(out, header + 10, &msg), 10u) << "H68";
  EXPECT_EQ(io_uring_recvmsg_cmsg_firsthdr(out, &msg), nullptr)
      << "H68: controllen 0 in the header means no control message";
}

}  // namespace
}  // namespace net
}  // namespace ringcheck
