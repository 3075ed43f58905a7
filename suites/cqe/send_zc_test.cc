// IORING_CQE_F_NOTIF and the F_MORE of zero-copy sends (spec D.1;
// io_uring_prep_send_zc(3), io_uring_prep_sendmsg_zc(3)): the first CQE
// carries the send's result and F_MORE, announcing a second one with
// F_NOTIF once the kernel no longer needs the data buffer. With
// IORING_SEND_ZC_REPORT_USAGE the notification's res reports whether the
// data was copied (IORING_NOTIF_USAGE_ZC_COPIED).
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <string>

#include "harness/features.h"
#include "harness/fd.h"
#include "harness/matchers.h"
#include "harness/net.h"
#include "suites/cqe/cqe_helpers.h"

namespace ringcheck {
namespace {

using cqe::Describe;
using cqe::HasFlag;

constexpr uint64_t kSend = 5;
constexpr size_t kLen = 100;

class SendZc : public RingTest {
 protected:
  void SetUpRing() override {
    std::memset(data_, 'z', sizeof data_);
  }
  void QueueSendZc(int fd, unsigned zc_flags) {
    io_uring_sqe* sqe = cqe::QueueSqe(ring(), kSend, 0);
    ASSERT_NE(sqe, nullptr);
    io_uring_prep_send_zc(sqe, fd, data_, kLen, 0, zc_flags);
    sqe->user_data = kSend;
  }
  void QueueSendmsgZc(int fd, unsigned zc_flags) {
    iov_ = {data_, kLen};
    msg_ = {};
    msg_.msg_iov = &iov_;
    msg_.msg_iovlen = 1;
    io_uring_sqe* sqe = cqe::QueueSqe(ring(), kSend, 0);
    ASSERT_NE(sqe, nullptr);
    io_uring_prep_sendmsg_zc(sqe, fd, &msg_, 0);
    sqe->ioprio = zc_flags;
    sqe->user_data = kSend;
  }
  // The two CQEs of one zero-copy send, checked for their flags: first the
  // result with F_MORE and without F_NOTIF, then the notification with
  // F_NOTIF and without F_MORE. Returns the notification.
  Cqe ExpectResultThenNotif(int expected_res) {
    EXPECT_TRUE(cqe::SubmitExpect(ring(), 1));
    std::vector<Cqe> got = cqe::ReapAll(ring(), 2);
    EXPECT_EQ(got.size(), 2u) << "a zero-copy send posts exactly two CQEs " << Describe(got);
    if (got.size() != 2) return Cqe{};
    const Cqe& result = got[0];
    const Cqe& notif = got[1];
    EXPECT_EQ(result.user_data, kSend);
    EXPECT_EQ(notif.user_data, kSend) << "the notification has the send's user_data";
    EXPECT_RESULT(result.res, expected_res, "D.1:F_NOTIF the send's result comes first");
    EXPECT_TRUE(HasFlag(result, IORING_CQE_F_MORE))
        << "the result announces the notification " << Describe(got);
    EXPECT_FALSE(HasFlag(result, IORING_CQE_F_NOTIF)) << Describe(got);
    EXPECT_TRUE(HasFlag(notif, IORING_CQE_F_NOTIF)) << Describe(got);
    EXPECT_FALSE(HasFlag(notif, IORING_CQE_F_MORE))
        << "the notification is the last CQE of the send " << Describe(got);
    return notif;
  }
  void ExpectReceived(int fd) {
    ASSERT_TRUE(WaitForReadable(fd, kLen, std::chrono::seconds(5)));
    char in[kLen];
    ASSERT_EQ(recv(fd, in, sizeof in, 0), static_cast<ssize_t>(kLen));
    EXPECT_EQ(std::memcmp(in, data_, kLen), 0);
  }

  char data_[kLen];
  iovec iov_ = {};
  msghdr msg_ = {};
};

// D.1 F_NOTIF / F_MORE: SEND_ZC posts its result with F_MORE, then a
// notification with F_NOTIF and res 0.
TEST_P(SendZc, SendPostsResultWithMoreThenNotif) {
  RINGCHECK_RULE("D.1:F_NOTIF D.1:F_MORE");
  REQUIRE_FEATURE("op_send_zc");
  SocketPair pair;
  ASSERT_RESULT(ConnectedPair(Transport::kTcpLoopback, &pair), 0, "tcp pair");
  QueueSendZc(pair.a.get(), 0);
  Cqe notif = ExpectResultThenNotif(kLen);
  EXPECT_RESULT(notif.res, 0, "D.1:F_NOTIF res without REPORT_USAGE");
  ExpectReceived(pair.b.get());
}

// D.1 F_NOTIF / F_MORE: the same for SENDMSG_ZC.
TEST_P(SendZc, SendmsgPostsResultWithMoreThenNotif) {
  RINGCHECK_RULE("D.1:F_NOTIF D.1:F_MORE");
  REQUIRE_FEATURE("op_sendmsg_zc");
  SocketPair pair;
  ASSERT_RESULT(ConnectedPair(Transport::kTcpLoopback, &pair), 0, "tcp pair");
  QueueSendmsgZc(pair.a.get(), 0);
  Cqe notif = ExpectResultThenNotif(kLen);
  EXPECT_RESULT(notif.res, 0, "D.1:F_NOTIF res without REPORT_USAGE");
  ExpectReceived(pair.b.get());
}

// D.1 F_NOTIF with IORING_SEND_ZC_REPORT_USAGE: loopback hands the data to
// a local socket, which must copy it out of the pages it was lent
// (skb_orphan_frags_rx), so the notification reports ZC_COPIED.
TEST_P(SendZc, SendReportUsageSaysCopiedOnLoopback) {
  RINGCHECK_RULE("D.1:F_NOTIF");
  REQUIRE_FEATURE("op_send_zc");
  REQUIRE_FEATURE("send_zc_report_usage");
  SocketPair pair;
  ASSERT_RESULT(ConnectedPair(Transport::kTcpLoopback, &pair), 0, "tcp pair");
  QueueSendZc(pair.a.get(), IORING_SEND_ZC_REPORT_USAGE);
  Cqe notif = ExpectResultThenNotif(kLen);
  EXPECT_EQ(static_cast<uint32_t>(notif.res), IORING_NOTIF_USAGE_ZC_COPIED) << Describe(notif);
  ExpectReceived(pair.b.get());
}

// D.1 F_NOTIF with IORING_SEND_ZC_REPORT_USAGE, for SENDMSG_ZC.
TEST_P(SendZc, SendmsgReportUsageSaysCopiedOnLoopback) {
  RINGCHECK_RULE("D.1:F_NOTIF");
  REQUIRE_FEATURE("op_sendmsg_zc");
  REQUIRE_FEATURE("send_zc_report_usage");
  SocketPair pair;
  ASSERT_RESULT(ConnectedPair(Transport::kTcpLoopback, &pair), 0, "tcp pair");
  QueueSendmsgZc(pair.a.get(), IORING_SEND_ZC_REPORT_USAGE);
  Cqe notif = ExpectResultThenNotif(kLen);
  EXPECT_EQ(static_cast<uint32_t>(notif.res), IORING_NOTIF_USAGE_ZC_COPIED) << Describe(notif);
  ExpectReceived(pair.b.get());
}

// D.1 F_NOTIF / F_MORE: a zero-copy send that fails at issue (AF_UNIX has
// no zero copy: -EOPNOTSUPP) still announces and posts its notification.
TEST_P(SendZc, FailedSendStillPostsNotif) {
  RINGCHECK_RULE("D.1:F_NOTIF D.1:F_MORE");
  REQUIRE_FEATURE("op_send_zc");
  SocketPair pair;
  ASSERT_RESULT(ConnectedPair(Transport::kUnixStream, &pair), 0, "socketpair");
  QueueSendZc(pair.a.get(), 0);
  ExpectResultThenNotif(-EOPNOTSUPP);
}

RINGCHECK_INSTANTIATE_FLAG_RINGS(SendZc);

}  // namespace
}  // namespace ringcheck
