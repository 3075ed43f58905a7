// SEND_ZC and SENDMSG_ZC: the result CQE, its one notification, usage
// reports, fixed buffers and errors (spec/net.md H69-H76;
// io_uring_prep_send_zc(3), io_uring_prep_sendmsg_zc(3); kernel net.c
// io_send_zc_prep, io_send_zc, io_sendmsg_zc, io_sendrecv_fail; notif.c).
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "suites/net/net_util.h"

namespace ringcheck {
namespace net {
namespace {

constexpr uint64_t kSend = 77;
constexpr size_t kLen = 600;

// The CQEs of one zero-copy send: the result, then (when the result has
// F_MORE) the notification.
struct ZcCqes {
  bool ok = false;
  Cqe result;
  std::vector<Cqe> notifs;  // every F_NOTIF CQE of the send
  std::vector<Cqe> all;
};

// Submits what is queued and collects the send's CQEs until the CQ stays
// quiet: a notification that never comes shows as an empty `notifs`.
ZcCqes SubmitZc(Ring& ring, size_t expected = 2) {
  ZcCqes out;
  if (!Submit(ring)) return out;
  out.all = ReapQuiet(ring, expected);
  std::vector<Cqe> mine = WithUserData(out.all, kSend);
  for (const Cqe& c : mine) {
    if (HasFlag(c, IORING_CQE_F_NOTIF)) {
      out.notifs.push_back(c);
    } else if (!out.ok) {
      out.result = c;
      out.ok = true;
    }
  }
  EXPECT_TRUE(out.ok) << "no result CQE " << Describe(out.all);
  return out;
}

// H69/H70 (D.1:F_NOTIF, D.1:F_MORE): the result carries F_MORE exactly when
// one notification follows; the notification has F_NOTIF, no F_MORE, the
// send's user_data, and comes after the result.
void ExpectResultThenOneNotif(const ZcCqes& z, const char* rule) {
  ASSERT_TRUE(z.ok);
  EXPECT_TRUE(HasFlag(z.result, IORING_CQE_F_MORE)) << rule << ": result without F_MORE "
                                                    << Describe(z.all);
  ASSERT_EQ(z.notifs.size(), 1u) << rule << ": exactly one notification " << Describe(z.all);
  EXPECT_FALSE(HasFlag(z.notifs[0], IORING_CQE_F_MORE)) << rule << " " << Describe(z.all);
  EXPECT_EQ(z.notifs[0].user_data, kSend) << rule;
  EXPECT_EQ(z.all.back().user_data, kSend);
  EXPECT_TRUE(HasFlag(z.all.back(), IORING_CQE_F_NOTIF)) << rule << ": the notification is last";
}

class SendZc : public NetFamilyTest {
 protected:
  void SetUp() override {
    NetFamilyTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    REQUIRE_FEATURE("op_send_zc");
    MakePairOrSkip(&pair_);
    data_ = Pattern(kLen);
  }
  void ExpectArrived() {
    std::string in(kLen, '\0');
    ASSERT_TRUE(RecvExactly(pair_.b.get(), &in[0], kLen)) << "the data never arrived";
    EXPECT_EQ(in, data_) << "the data arrived changed";
  }
  SocketPair pair_;
  std::string data_;
};

// H69: SEND_ZC completes with the byte count and F_MORE, then one NOTIF.
TEST_P(SendZc, SendPostsResultThenOneNotif) {
  RINGCHECK_RULE("H69 D.1:F_NOTIF D.1:F_MORE");
  io_uring_prep_send_zc(Sqe(ring(), kSend), pair_.a.get(), data_.data(), kLen, 0, 0);
  ZcCqes z = SubmitZc(ring());
  EXPECT_RESULT(z.result.res, static_cast<int>(kLen), "H69");
  ExpectResultThenOneNotif(z, "H69");
  ExpectArrived();
}

// H70: SENDMSG_ZC does the same for a msghdr.
TEST_P(SendZc, SendmsgPostsResultThenOneNotif) {
  RINGCHECK_RULE("H70 D.1:F_NOTIF D.1:F_MORE");
  REQUIRE_FEATURE("op_sendmsg_zc");
  iovec iov[2] = {{&data_[0], 100}, {&data_[100], kLen - 100}};
  msghdr msg = {};
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  io_uring_prep_sendmsg_zc(Sqe(ring(), kSend), pair_.a.get(), &msg, 0);
  ZcCqes z = SubmitZc(ring());
  EXPECT_RESULT(z.result.res, static_cast<int>(kLen), "H70");
  ExpectResultThenOneNotif(z, "H70");
  ExpectArrived();
}

// H71: with IORING_SEND_ZC_REPORT_USAGE the notification's res has
// IORING_NOTIF_USAGE_ZC_COPIED when the data was copied, which loopback
// always does (the receiving socket cannot keep lent pages).
TEST_P(SendZc, ReportUsageSaysCopiedOnLoopback) {
  RINGCHECK_RULE("H71 D.1:F_NOTIF");
  REQUIRE_FEATURE("send_zc_report_usage");
  io_uring_prep_send_zc(Sqe(ring(), kSend), pair_.a.get(), data_.data(), kLen, 0,
                        IORING_SEND_ZC_REPORT_USAGE);
  ZcCqes z = SubmitZc(ring());
  ExpectResultThenOneNotif(z, "H71");
  if (z.notifs.size() == 1) {
    EXPECT_EQ(static_cast<uint32_t>(z.notifs[0].res), IORING_NOTIF_USAGE_ZC_COPIED)
        << "H71 " << Describe(z.notifs[0]);
  }
  ExpectArrived();
}

// H72: with IORING_RECVSEND_FIXED_BUF the data comes from the registered
// buffer named by buf_index (addr and len select a range inside it).
TEST_P(SendZc, FixedBufferSendsRegisteredMemory) {
  RINGCHECK_RULE("H72");
  std::string reg = "XXXX" + data_;
  iovec iov = {&reg[0], reg.size()};
  ASSERT_EQ(io_uring_register_buffers(ring().get(), &iov, 1), 0);
  io_uring_prep_send_zc_fixed(Sqe(ring(), kSend), pair_.a.get(), &reg[4], kLen, 0, 0, 0);
  ZcCqes z = SubmitZc(ring());
  EXPECT_RESULT(z.result.res, static_cast<int>(kLen), "H72");
  ExpectResultThenOneNotif(z, "H72");
  ExpectArrived();
}

RINGCHECK_INSTANTIATE_NET_FAMILIES(SendZc, Family::kTcp4, Family::kTcp6, Family::kUdp4,
                                   Family::kUdp6);

class SendZcErrors : public NetTest {
 protected:
  void SetUp() override {
    NetTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    REQUIRE_FEATURE("op_send_zc");
  }
  char buf_[64] = {};
};

// H73: a request refused before prep allocates the notification
// (IOSQE_CQE_SKIP_SUCCESS, which zero-copy sends do not support) completes
// once, with -EINVAL, no F_MORE and no notification.
TEST_P(SendZcErrors, SkipSuccessIsInvalidWithoutNotif) {
  RINGCHECK_RULE("H73 D.1:F_MORE");
  SocketPair pair;
  ASSERT_EQ(MakePair(Family::kTcp4, &pair), 0);
  io_uring_sqe* sqe = Sqe(ring(), kSend);
  io_uring_prep_send_zc(sqe, pair.a.get(), buf_, sizeof buf_, 0, 0);
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
  ZcCqes z = SubmitZc(ring(), 1);
  EXPECT_RESULT(z.result.res, -EINVAL, "H73");
  EXPECT_FALSE(HasFlag(z.result, IORING_CQE_F_MORE)) << "H73 " << Describe(z.all);
  EXPECT_TRUE(z.notifs.empty()) << "H73 " << Describe(z.all);
}

// H73: unknown zc flags are -EINVAL; whether a notification follows
// depends on whether the kernel checks them before or after it allocates
// one, but F_MORE on the result says which, and is never wrong.
TEST_P(SendZcErrors, UnknownFlagIsInvalidAndMoreMatchesNotif) {
  RINGCHECK_RULE("H73 D.1:F_MORE");
  SocketPair pair;
  ASSERT_EQ(MakePair(Family::kTcp4, &pair), 0);
  io_uring_prep_send_zc(Sqe(ring(), kSend), pair.a.get(), buf_, sizeof buf_, 0, 1U << 14);
  ZcCqes z = SubmitZc(ring(), 1);
  EXPECT_RESULT(z.result.res, -EINVAL, "H73");
  EXPECT_EQ(z.notifs.size(), HasFlag(z.result, IORING_CQE_F_MORE) ? 1u : 0u)
      << "H73: F_MORE announces exactly one notification " << Describe(z.all);
}

// H74: a send that fails once issued still posts its result with F_MORE
// and then its notification: AF_UNIX has no zero copy (-EOPNOTSUPP).
TEST_P(SendZcErrors, UnixSocketFailsWithNotif) {
  RINGCHECK_RULE("H74 D.1:F_NOTIF");
  SocketPair pair;
  ASSERT_EQ(MakePair(Family::kUnixStream, &pair), 0);
  io_uring_prep_send_zc(Sqe(ring(), kSend), pair.a.get(), buf_, sizeof buf_, 0, 0);
  ZcCqes z = SubmitZc(ring());
  EXPECT_RESULT(z.result.res, -EOPNOTSUPP, "H74");
  ExpectResultThenOneNotif(z, "H74");
}

// H74: the same for a TCP socket that can no longer send (-EPIPE).
TEST_P(SendZcErrors, ShutDownSocketFailsWithNotif) {
  RINGCHECK_RULE("H74 D.1:F_NOTIF");
  SocketPair pair;
  ASSERT_EQ(MakePair(Family::kTcp4, &pair), 0);
  ASSERT_EQ(shutdown(pair.a.get(), SHUT_WR), 0);
  io_uring_prep_send_zc(Sqe(ring(), kSend), pair.a.get(), buf_, sizeof buf_, 0, 0);
  ZcCqes z = SubmitZc(ring());
  EXPECT_RESULT(z.result.res, -EPIPE, "H74");
  ExpectResultThenOneNotif(z, "H74");
}

// H75: a descriptor that is not open fails with -EBADF; like every failure
// after prep it still posts the notification.
TEST_P(SendZcErrors, BadFdFailsWithNotif) {
  RINGCHECK_RULE("H75 D.1:F_NOTIF");
  io_uring_prep_send_zc(Sqe(ring(), kSend), 1 << 20, buf_, sizeof buf_, 0, 0);
  ZcCqes z = SubmitZc(ring());
  EXPECT_RESULT(z.result.res, -EBADF, "H75");
  ExpectResultThenOneNotif(z, "H75");
}

// H76: a registered-buffer index past the table is -EFAULT, posted with
// F_MORE and a notification.
TEST_P(SendZcErrors, FixedBufferIndexOutOfRangeIsEfault) {
  RINGCHECK_RULE("H76 D.1:F_NOTIF");
  SocketPair pair;
  ASSERT_EQ(MakePair(Family::kTcp4, &pair), 0);
  iovec iov = {buf_, sizeof buf_};
  ASSERT_EQ(io_uring_register_buffers(ring().get(), &iov, 1), 0);
  io_uring_prep_send_zc_fixed(Sqe(ring(), kSend), pair.a.get(), buf_, sizeof buf_, 0, 0, 5);
  ZcCqes z = SubmitZc(ring());
  EXPECT_RESULT(z.result.res, -EFAULT, "H76");
  ExpectResultThenOneNotif(z, "H76");
}

RINGCHECK_INSTANTIATE_NET_RINGS(SendZcErrors);

}  // namespace
}  // namespace net
}  // namespace ringcheck
