// Zero-copy sends meeting links and drain (spec/net.md H77-H78), where two
// kernel bugs live: a SEND_ZC cancelled by its failed link posts a
// notification its CQE did not announce, and a drained SEND_ZC never
// completes. Each test ends by itself: the drain tests run in a child with
// a deadline, so a kernel that never completes the request costs seconds,
// not the run.
#include <sys/socket.h>

#include <cstring>

#include "harness/child.h"
#include "harness/in_child.h"
#include "suites/net/net_util.h"

namespace ringcheck {
namespace net {
namespace {

constexpr uint64_t kHead = 1;
constexpr uint64_t kSend = 2;
constexpr uint64_t kAfter = 3;

class ZcLinks : public NetTest {
 protected:
  void SetUp() override {
    NetTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    REQUIRE_FEATURE("op_send_zc");
    ASSERT_EQ(MakePair(Family::kTcp4, &pair_), 0);
  }
  // A READ from fd -1 (fails -EBADF at issue) linked to the zero-copy send
  // that `prep` queues, then every CQE until the ring is quiet.
  std::vector<Cqe> FailedLinkThen(void (*prep)(io_uring_sqe*, int fd, char* buf, msghdr* msg)) {
    io_uring_sqe* head = Sqe(ring(), kHead);
    io_uring_prep_read(head, -1, buf_, sizeof buf_, 0);
    head->flags |= IOSQE_IO_LINK;
    iov_ = {buf_, sizeof buf_};
    msg_ = {};
    msg_.msg_iov = &iov_;
    msg_.msg_iovlen = 1;
    prep(Sqe(ring(), kSend), pair_.a.get(), buf_, &msg_);
    if (!Submit(ring())) return {};
    return ReapQuiet(ring(), 2);
  }
  void ExpectCancelledConsistently(const std::vector<Cqe>& got) {
    std::vector<Cqe> head = WithUserData(got, kHead);
    ASSERT_EQ(head.size(), 1u) << Describe(got);
    EXPECT_RESULT(head[0].res, -EBADF, "H77: the link head fails");
    std::vector<Cqe> send = WithUserData(got, kSend);
    ASSERT_FALSE(send.empty()) << "H77: no CQE for the cancelled send " << Describe(got);
    EXPECT_RESULT(send[0].res, -ECANCELED, "H77");
    EXPECT_FALSE(HasFlag(send[0], IORING_CQE_F_NOTIF)) << "H77: the result comes first";
    size_t notifs = send.size() - 1;
    bool more = HasFlag(send[0], IORING_CQE_F_MORE);
    EXPECT_EQ(notifs, more ? 1u : 0u)
        << "H77: the cancelled send's CQE " << (more ? "announces" : "does not announce")
        << " a notification, and " << notifs << " came " << Describe(got);
  }
  SocketPair pair_;
  char buf_[64] = {};
  iovec iov_ = {};
  msghdr msg_ = {};
};

// H77: SEND_ZC cancelled by a failed link head: -ECANCELED, and F_MORE on
// it exactly when a notification follows.
TEST_P(ZcLinks, SendCancelledByLinkAnnouncesItsNotif) {
  RINGCHECK_RULE("H77 D.1:F_MORE D.1:F_NOTIF");
  ExpectCancelledConsistently(FailedLinkThen([](io_uring_sqe* sqe, int fd, char* buf, msghdr*) {
    io_uring_prep_send_zc(sqe, fd, buf, 64, 0, 0);
  }));
}

// H77: the same for SENDMSG_ZC.
TEST_P(ZcLinks, SendmsgCancelledByLinkAnnouncesItsNotif) {
  RINGCHECK_RULE("H77 D.1:F_MORE D.1:F_NOTIF");
  REQUIRE_FEATURE("op_sendmsg_zc");
  ExpectCancelledConsistently(FailedLinkThen([](io_uring_sqe* sqe, int fd, char*, msghdr* msg) {
    io_uring_prep_sendmsg_zc(sqe, fd, msg, 0);
  }));
}

RINGCHECK_INSTANTIATE_NET_RINGS(ZcLinks);

// In a child: an optional drained NOP, then SEND_ZC with IOSQE_IO_DRAIN,
// then a plain NOP; everything must complete within the deadline. The
// child ends by itself (its ring torn down with it), so a kernel where the
// drained send never completes costs this test a second, not the run.
void DrainedSendInChild(const RingConfig& config, bool nop_first, ChildChannel& child) {
  std::unique_ptr<Ring> ring;
  std::string why;
  int created = CreateRingForTest(config, &ring, &why);
  if (created < 0 && !why.empty()) return child.Skip(why);
  ASSERT_EQ(created, 0) << "ring setup failed for " << config.name;
  SocketPair pair;
  ASSERT_EQ(MakePair(Family::kTcp4, &pair), 0);
  static char data[256];
  if (nop_first) {
    io_uring_sqe* nop = Sqe(*ring, kHead);
    nop->flags |= IOSQE_IO_DRAIN;
  }
  io_uring_sqe* sqe = Sqe(*ring, kSend);
  io_uring_prep_send_zc(sqe, pair.a.get(), data, sizeof data, 0, 0);
  sqe->flags |= IOSQE_IO_DRAIN;
  Sqe(*ring, kAfter);
  ASSERT_GE(ring->Submit(), 0);
  std::vector<Cqe> got = ring->Reap(nop_first ? 4 : 3, std::chrono::seconds(1));
  std::vector<Cqe> send = WithUserData(got, kSend);
  ASSERT_FALSE(send.empty()) << "the drained send never completed (rule H78)";
  EXPECT_RESULT(send[0].res, static_cast<long>(sizeof data), "H78: the send's result");
  EXPECT_GE(send.size(), 2u) << "the drained send's notification never came (rule H78)";
  EXPECT_FALSE(WithUserData(got, kAfter).empty())
      << "a NOP after the drained send never completed (rule H78)";
}

class ZcDrain : public NetTest {
 protected:
  void SetUp() override {
    NetTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    REQUIRE_FEATURE("op_send_zc");
    ring_.reset();  // the child makes its own
  }
  void Check(bool nop_first) {
    RingConfig config = GetParam();
    ChildRun run = InChild([&](ChildChannel& child) { DrainedSendInChild(config, nop_first, child); },
                           std::chrono::seconds(20));
    ASSERT_CHILD_RAN(run);
  }
};

// H78: SEND_ZC with IOSQE_IO_DRAIN completes (result, then notification),
// and requests after it run.
TEST_P(ZcDrain, DrainedSendCompletes) {
  RINGCHECK_RULE("H78 D.1:F_NOTIF");
  Check(false);
}

// H78: the same after a drained NOP.
TEST_P(ZcDrain, DrainedSendAfterDrainedNopCompletes) {
  RINGCHECK_RULE("H78 D.1:F_NOTIF");
  Check(true);
}

INSTANTIATE_TEST_SUITE_P(NetRings, ZcDrain,
                         ::testing::Values(ConfigNamed("default"),
                                           ConfigNamed("defer_taskrun_single_issuer")),
                         ConfigParamName);

}  // namespace
}  // namespace net
}  // namespace ringcheck
