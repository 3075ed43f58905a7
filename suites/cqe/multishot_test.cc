// IORING_CQE_F_MORE (spec D.1): a multishot request posts CQEs with F_MORE
// while it stays armed; the CQE that ends it (cancel, EOF, error, count
// reached) never carries F_MORE. Man pages: io_uring_prep_poll_multishot(3),
// io_uring_prep_multishot_accept(3), io_uring_prep_recv_multishot(3),
// io_uring_prep_timeout(3) (IORING_TIMEOUT_MULTISHOT),
// io_uring_prep_read_multishot(3).
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "harness/bufring.h"
#include "harness/features.h"
#include "harness/fd.h"
#include "harness/matchers.h"
#include "harness/net.h"
#include "suites/cqe/cqe_helpers.h"

namespace ringcheck {
namespace {

using cqe::Describe;
using cqe::HasFlag;

constexpr uint64_t kMultishot = 1;
constexpr uint64_t kCancel = 2;
constexpr uint16_t kGroup = 9;

class Multishot : public RingTest {
 protected:
  // Every CQE of the multishot request but the last has F_MORE; the last
  // has none and the result `final_res`. Needs at least `min_more` with F_MORE.
  void ExpectMoreThenFinal(const std::vector<Cqe>& all, size_t min_more, int final_res) {
    std::vector<Cqe> mine = cqe::WithUserData(all, kMultishot);
    ASSERT_GE(mine.size(), min_more + 1) << Describe(all);
    for (size_t i = 0; i + 1 < mine.size(); ++i) {
      EXPECT_TRUE(HasFlag(mine[i], IORING_CQE_F_MORE))
          << "CQE " << i << " is not the last one " << Describe(mine);
    }
    const Cqe& last = mine.back();
    EXPECT_FALSE(HasFlag(last, IORING_CQE_F_MORE))
        << "the final CQE never carries F_MORE " << Describe(mine);
    EXPECT_RESULT(last.res, final_res, "D.1:F_MORE final CQE");
  }
  void QueueCancel() {
    io_uring_sqe* sqe = cqe::QueueSqe(ring(), kCancel, 0);
    ASSERT_NE(sqe, nullptr);
    io_uring_prep_cancel64(sqe, kMultishot, 0);
    sqe->user_data = kCancel;
  }
  void MakeBufRing() {
    REQUIRE_FEATURE("register_pbuf_ring");
    ASSERT_RESULT(BufRing::Create(ring(), kGroup, 8, 0, &bufring_), 0,
                  "io_uring_setup_buf_ring(3)");
    for (uint16_t bid = 0; bid < 8; ++bid) bufring_->Add(bid, 64);
  }
  std::unique_ptr<BufRing> bufring_;
};

// D.1 F_MORE: multishot poll posts one CQE with F_MORE per readiness event
// and stays armed; POLL_REMOVE ends it with -ECANCELED and no F_MORE.
TEST_P(Multishot, PollPostsMoreUntilRemoved) {
  RINGCHECK_RULE("D.1:F_MORE");
  REQUIRE_FEATURE("poll_multishot");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  io_uring_sqe* sqe = cqe::QueueSqe(ring(), kMultishot, 0);
  ASSERT_NE(sqe, nullptr);
  io_uring_prep_poll_multishot(sqe, r.get(), POLLIN);
  sqe->user_data = kMultishot;
  ASSERT_TRUE(cqe::SubmitExpect(ring(), 1));

  std::vector<Cqe> all;
  char byte = 'x';
  for (int round = 0; round < 2; ++round) {
    ASSERT_EQ(write(w.get(), &byte, 1), 1);
    std::vector<Cqe> got = ring().Reap(1);
    ASSERT_EQ(got.size(), 1u) << "no poll event in round " << round;
    EXPECT_TRUE(HasFlag(got[0], IORING_CQE_F_MORE)) << Describe(got[0]);
    EXPECT_TRUE(got[0].res & POLLIN) << Describe(got[0]);
    all.insert(all.end(), got.begin(), got.end());
    ASSERT_EQ(read(r.get(), &byte, 1), 1);
  }
  io_uring_sqe* rm = cqe::QueueSqe(ring(), kCancel, 0);
  ASSERT_NE(rm, nullptr);
  io_uring_prep_poll_remove(rm, kMultishot);
  rm->user_data = kCancel;
  ASSERT_TRUE(cqe::SubmitExpect(ring(), 1));
  std::vector<Cqe> rest = cqe::ReapAll(ring(), 2);
  all.insert(all.end(), rest.begin(), rest.end());
  ExpectMoreThenFinal(all, 2, -ECANCELED);
  std::vector<Cqe> removal = cqe::WithUserData(all, kCancel);
  ASSERT_EQ(removal.size(), 1u) << Describe(all);
  EXPECT_RESULT(removal[0].res, 0, "io_uring_prep_poll_remove(3)");
}

// D.1 F_MORE: multishot accept posts each new connection with F_MORE;
// cancelling it ends it with -ECANCELED and no F_MORE.
TEST_P(Multishot, AcceptPostsMoreUntilCancelled) {
  RINGCHECK_RULE("D.1:F_MORE");
  REQUIRE_FEATURE("accept_multishot");
  Listener listener;
  ASSERT_RESULT(Listener::Create(Transport::kTcpLoopback, &listener), 0, "listen");
  io_uring_sqe* sqe = cqe::QueueSqe(ring(), kMultishot, 0);
  ASSERT_NE(sqe, nullptr);
  io_uring_prep_multishot_accept(sqe, listener.fd(), nullptr, nullptr, SOCK_CLOEXEC);
  sqe->user_data = kMultishot;
  ASSERT_TRUE(cqe::SubmitExpect(ring(), 1));

  UniqueFd clients[2];
  std::vector<UniqueFd> accepted;
  std::vector<Cqe> all;
  for (UniqueFd& client : clients) {
    ASSERT_RESULT(listener.Connect(&client), 0, "connect");
    std::vector<Cqe> got = ring().Reap(1);
    ASSERT_EQ(got.size(), 1u) << "no CQE for a new connection";
    ASSERT_GE(got[0].res, 0) << Describe(got[0]);
    accepted.emplace_back(got[0].res);
    EXPECT_TRUE(HasFlag(got[0], IORING_CQE_F_MORE)) << Describe(got[0]);
    all.insert(all.end(), got.begin(), got.end());
  }
  QueueCancel();
  ASSERT_TRUE(cqe::SubmitExpect(ring(), 1));
  std::vector<Cqe> rest = cqe::ReapAll(ring(), 2);
  all.insert(all.end(), rest.begin(), rest.end());
  ExpectMoreThenFinal(all, 2, -ECANCELED);
}

// D.1 F_MORE: multishot recv posts each receive with F_MORE (and
// F_BUFFER); EOF ends it with res 0 and no F_MORE.
TEST_P(Multishot, RecvPostsMoreUntilEof) {
  RINGCHECK_RULE("D.1:F_MORE");
  REQUIRE_FEATURE("recv_multishot");
  MakeBufRing();
  if (IsSkipped() || HasFatalFailure()) return;
  SocketPair pair;
  ASSERT_RESULT(ConnectedPair(Transport::kUnixStream, &pair), 0, "socketpair");
  io_uring_sqe* sqe = cqe::QueueSqe(ring(), kMultishot, 0);
  ASSERT_NE(sqe, nullptr);
  io_uring_prep_recv_multishot(sqe, pair.a.get(), nullptr, 0, 0);
  sqe->flags = IOSQE_BUFFER_SELECT;
  sqe->buf_group = kGroup;
  sqe->user_data = kMultishot;
  ASSERT_TRUE(cqe::SubmitExpect(ring(), 1));

  std::vector<Cqe> all;
  for (const char* msg : {"abc", "defg"}) {
    ASSERT_RESULT(SendAll(pair.b.get(), msg, strlen(msg)), 0, "send");
    std::vector<Cqe> got = ring().Reap(1);
    ASSERT_EQ(got.size(), 1u) << "no CQE for the data";
    EXPECT_RESULT(got[0].res, static_cast<long>(strlen(msg)), "D.1:F_MORE recv");
    EXPECT_TRUE(HasFlag(got[0], IORING_CQE_F_MORE)) << Describe(got[0]);
    EXPECT_TRUE(HasFlag(got[0], IORING_CQE_F_BUFFER)) << Describe(got[0]);
    all.insert(all.end(), got.begin(), got.end());
  }
  ASSERT_EQ(shutdown(pair.b.get(), SHUT_WR), 0);
  std::vector<Cqe> rest = cqe::ReapAll(ring(), 1);
  all.insert(all.end(), rest.begin(), rest.end());
  ExpectMoreThenFinal(all, 2, 0);
}

// D.1 F_MORE: a multishot timeout with a count fires that many times; every
// expiry but the last carries F_MORE.
TEST_P(Multishot, TimeoutPostsMoreUntilCountReached) {
  RINGCHECK_RULE("D.1:F_MORE");
  REQUIRE_FEATURE("timeout_multishot");
  __kernel_timespec ts = {0, 1000000};  // 1 ms
  io_uring_sqe* sqe = cqe::QueueSqe(ring(), kMultishot, 0);
  ASSERT_NE(sqe, nullptr);
  io_uring_prep_timeout(sqe, &ts, 3, IORING_TIMEOUT_MULTISHOT);
  sqe->user_data = kMultishot;
  ASSERT_TRUE(cqe::SubmitExpect(ring(), 1));
  std::vector<Cqe> all = cqe::ReapAll(ring(), 3);
  ASSERT_EQ(all.size(), 3u) << "count 3 means three expiries " << Describe(all);
  for (const Cqe& c : all) EXPECT_RESULT(c.res, -ETIME, "D.1:F_MORE timeout expiry");
  ExpectMoreThenFinal(all, 2, -ETIME);
}

// D.1 F_MORE: READ_MULTISHOT on a pipe posts each read with F_MORE; EOF
// (the write end closed) ends it with res 0 and no F_MORE.
TEST_P(Multishot, ReadOnPipePostsMoreUntilEof) {
  RINGCHECK_RULE("D.1:F_MORE");
  REQUIRE_FEATURE("op_read_multishot");
  MakeBufRing();
  if (IsSkipped() || HasFatalFailure()) return;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  io_uring_sqe* sqe = cqe::QueueSqe(ring(), kMultishot, 0);
  ASSERT_NE(sqe, nullptr);
  io_uring_prep_read_multishot(sqe, r.get(), 0, 0, kGroup);
  sqe->user_data = kMultishot;
  ASSERT_TRUE(cqe::SubmitExpect(ring(), 1));

  std::vector<Cqe> all;
  for (const char* msg : {"hello", "ring"}) {
    ASSERT_EQ(write(w.get(), msg, strlen(msg)), static_cast<ssize_t>(strlen(msg)));
    std::vector<Cqe> got = ring().Reap(1);
    ASSERT_EQ(got.size(), 1u) << "no CQE for the data";
    EXPECT_RESULT(got[0].res, static_cast<long>(strlen(msg)), "D.1:F_MORE read");
    EXPECT_TRUE(HasFlag(got[0], IORING_CQE_F_MORE)) << Describe(got[0]);
    EXPECT_TRUE(HasFlag(got[0], IORING_CQE_F_BUFFER)) << Describe(got[0]);
    all.insert(all.end(), got.begin(), got.end());
  }
  w.reset();
  std::vector<Cqe> rest = cqe::ReapAll(ring(), 1);
  all.insert(all.end(), rest.begin(), rest.end());
  ExpectMoreThenFinal(all, 2, 0);
}

RINGCHECK_INSTANTIATE_FLAG_RINGS(Multishot);

}  // namespace
}  // namespace ringcheck
