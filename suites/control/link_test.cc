// Link chains: IOSQE_IO_LINK and IOSQE_IO_HARDLINK (io_uring_enter(2);
// io_uring/io_uring.c io_submit_sqe, io_submit_fail_init,
// io_submit_state_end; io_uring/timeout.c io_disarm_next, io_fail_links).
// Spec rules I1-I14.
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/net.h"
#include "suites/control/control_util.h"

namespace ringcheck {
namespace {

using control::ArrivedInOrder;
using control::ExactlyThese;
using control::FailingRead;
using control::Pipe;
using control::Sqe;
using control::SubmitExpect;

constexpr uint8_t kLink = IOSQE_IO_LINK;
constexpr uint8_t kHard = IOSQE_IO_HARDLINK;

class Links : public control::ControlTest {};

// I1: the members of a chain complete in chain order.
TEST_P(Links, ChainCompletesInOrder) {
  RINGCHECK_RULE("I1");
  for (uint64_t ud = 1; ud <= 5; ++ud) Sqe(r(), ud, ud < 5 ? kLink : 0);
  ASSERT_TRUE(SubmitExpect(r(), 5));
  auto got = ReapAllN(5);
  EXPECT_TRUE(ExactlyThese(got, {{1, 0}, {2, 0}, {3, 0}, {4, 0}, {5, 0}}));
  EXPECT_TRUE(ArrivedInOrder(got, {1, 2, 3, 4, 5}));
}

// I1: a linked request starts only after the one before it completed: a
// READ linked after a WRITE of the same pipe finds the bytes written.
TEST_P(Links, LinkedReadSeesLinkedWrite) {
  RINGCHECK_RULE("I1");
  Pipe p = Pipe::Make();
  static const char kMsg[] = "chain";
  char buf[16] = {};
  io_uring_sqe* w = Sqe(r(), 1, kLink);
  io_uring_prep_write(w, p.w.get(), kMsg, 5, 0);
  w->user_data = 1;
  w->flags = kLink;
  io_uring_sqe* rd = Sqe(r(), 2);
  io_uring_prep_read(rd, p.r.get(), buf, 5, 0);
  rd->user_data = 2;
  ASSERT_TRUE(SubmitExpect(r(), 2));
  auto got = ReapAllN(2);
  EXPECT_TRUE(ExactlyThese(got, {{1, 5}, {2, 5}}));
  EXPECT_EQ(std::memcmp(buf, kMsg, 5), 0);
}

// I2: a member that fails cancels every later member with -ECANCELED; the
// ones before it completed normally; the CQEs come in chain order.
TEST_P(Links, FailureCancelsTheRest) {
  RINGCHECK_RULE("I2");
  Sqe(r(), 1, kLink);
  FailingRead(r(), 2, kLink);
  Sqe(r(), 3, kLink);
  Sqe(r(), 4);
  ASSERT_TRUE(SubmitExpect(r(), 4));
  auto got = ReapAllN(4);
  EXPECT_TRUE(ExactlyThese(got, {{1, 0}, {2, control::kFailRes}, {3, -ECANCELED}, {4, -ECANCELED}}));
  EXPECT_TRUE(ArrivedInOrder(got, {1, 2, 3, 4}));
}

// I2: a failing head cancels the whole chain, the next chain is untouched.
TEST_P(Links, FailureStaysInItsChain) {
  RINGCHECK_RULE("I2");
  FailingRead(r(), 1, kLink);
  Sqe(r(), 2);
  Sqe(r(), 3, kLink);
  Sqe(r(), 4);
  ASSERT_TRUE(SubmitExpect(r(), 4));
  EXPECT_TRUE(ExactlyThese(ReapAllN(4), {{1, control::kFailRes}, {2, -ECANCELED}, {3, 0}, {4, 0}}));
}

// I3: a READ that transfers fewer bytes than asked counts as a failure for
// its chain: the rest is cancelled.
TEST_P(Links, ShortReadCancelsTheRest) {
  RINGCHECK_RULE("I3");
  Pipe p = Pipe::Make();
  p.Put("ab");
  char buf[16];
  io_uring_sqe* rd = Sqe(r(), 1, kLink);
  io_uring_prep_read(rd, p.r.get(), buf, sizeof buf, 0);
  rd->user_data = 1;
  rd->flags = kLink;
  Sqe(r(), 2);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, 2}, {2, -ECANCELED}}));
}

// I3: a READ that transfers all it asked for keeps the chain going.
TEST_P(Links, FullReadKeepsTheChain) {
  RINGCHECK_RULE("I3");
  Pipe p = Pipe::Make();
  p.Put("abcd");
  char buf[4];
  io_uring_sqe* rd = Sqe(r(), 1, kLink);
  io_uring_prep_read(rd, p.r.get(), buf, sizeof buf, 0);
  rd->user_data = 1;
  rd->flags = kLink;
  Sqe(r(), 2);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, 4}, {2, 0}}));
}

// I4: a RECV without MSG_WAITALL that returns fewer bytes than asked is a
// success for its chain (only MSG_WAITALL makes a short receive a failure).
TEST_P(Links, ShortRecvWithoutWaitallKeepsTheChain) {
  RINGCHECK_RULE("I4");
  SocketPair pair;
  ASSERT_EQ(ConnectedPair(Transport::kUnixStream, &pair), 0);
  ASSERT_EQ(send(pair.b.get(), "ab", 2, 0), 2);
  char buf[16];
  io_uring_sqe* rv = Sqe(r(), 1, kLink);
  io_uring_prep_recv(rv, pair.a.get(), buf, sizeof buf, 0);
  rv->user_data = 1;
  rv->flags = kLink;
  Sqe(r(), 2);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, 2}, {2, 0}}));
}

// I5: after a HARDLINK member fails, the next member still runs.
TEST_P(Links, HardlinkSurvivesFailure) {
  RINGCHECK_RULE("I5");
  FailingRead(r(), 1, kHard);
  Sqe(r(), 2, kHard);
  Sqe(r(), 3);
  ASSERT_TRUE(SubmitExpect(r(), 3));
  auto got = ReapAllN(3);
  EXPECT_TRUE(ExactlyThese(got, {{1, control::kFailRes}, {2, 0}, {3, 0}}));
  EXPECT_TRUE(ArrivedInOrder(got, {1, 2, 3}));
}

// I5: a HARDLINK member that fails lets the next run; a plain LINK member
// after it that fails still cancels what follows it.
TEST_P(Links, SoftLinkAfterHardlinkStillCancels) {
  RINGCHECK_RULE("I5 I2");
  FailingRead(r(), 1, kHard);
  FailingRead(r(), 2, kLink);
  Sqe(r(), 3);
  ASSERT_TRUE(SubmitExpect(r(), 3));
  EXPECT_TRUE(ExactlyThese(ReapAllN(3), {{1, control::kFailRes}, {2, control::kFailRes}, {3, -ECANCELED}}));
}

// I5: HARDLINK still orders: a hard-linked READ sees the hard-linked WRITE.
TEST_P(Links, HardlinkOrders) {
  RINGCHECK_RULE("I5 I1");
  Pipe p = Pipe::Make();
  char buf[4] = {};
  io_uring_sqe* w = Sqe(r(), 1, kHard);
  io_uring_prep_write(w, p.w.get(), "hard", 4, 0);
  w->user_data = 1;
  w->flags = kHard;
  io_uring_sqe* rd = Sqe(r(), 2);
  io_uring_prep_read(rd, p.r.get(), buf, 4, 0);
  rd->user_data = 2;
  ASSERT_TRUE(SubmitExpect(r(), 2));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, 4}, {2, 4}}));
  EXPECT_EQ(std::memcmp(buf, "hard", 4), 0);
}

// I6: a link flag on the last SQE of a submission: the chain is queued as it
// stands when the submission ends (io_submit_state_end), its members run in
// order and complete normally; nothing is cancelled.
TEST_P(Links, UnterminatedChainRunsAtEndOfSubmission) {
  RINGCHECK_RULE("I6");
  Sqe(r(), 1, kLink);
  Sqe(r(), 2, kLink);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  auto got = ReapAllN(2);
  EXPECT_TRUE(ExactlyThese(got, {{1, 0}, {2, 0}}));
  EXPECT_TRUE(ArrivedInOrder(got, {1, 2}));
}

// I6: a lone request with IOSQE_IO_LINK completes normally.
TEST_P(Links, LoneLinkedRequestCompletes) {
  RINGCHECK_RULE("I6");
  Sqe(r(), 1, kLink);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(1), {{1, 0}}));
}

// I6: a lone request with IOSQE_IO_HARDLINK completes normally.
TEST_P(Links, LoneHardlinkedRequestCompletes) {
  RINGCHECK_RULE("I6");
  Sqe(r(), 1, kHard);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(1), {{1, 0}}));
}

// I7: chains are not joined across submissions: a failing request that ends
// one submission with IOSQE_IO_LINK does not cancel the next submission's.
TEST_P(Links, ChainsAreNotJoinedAcrossSubmissions) {
  RINGCHECK_RULE("I7");
  FailingRead(r(), 1, kLink);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  Sqe(r(), 2);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, control::kFailRes}, {2, 0}}));
}

// I8: a member refused at submission (prep -EINVAL) fails the whole chain:
// it posts its own error, every other member -ECANCELED, and the SQEs after
// it in the chain are still consumed.
TEST_P(Links, MemberRefusedAtPrepFailsTheWholeChain) {
  RINGCHECK_RULE("I8");
  static __kernel_timespec ts = {1, 0};
  Sqe(r(), 1, kLink);
  io_uring_sqe* bad = Sqe(r(), 2, kLink);
  io_uring_prep_timeout(bad, &ts, 0, 0);
  bad->len = 2;  // TIMEOUT takes exactly one timespec
  bad->user_data = 2;
  bad->flags = kLink;
  Sqe(r(), 3);
  ASSERT_TRUE(SubmitExpect(r(), 3));
  auto got = ReapAllN(3);
  EXPECT_TRUE(ExactlyThese(got, {{1, -ECANCELED}, {2, -EINVAL}, {3, -ECANCELED}}));
  EXPECT_TRUE(ArrivedInOrder(got, {1, 2, 3}));
}

// I9: IOSQE_ASYNC members of a chain give the same results and order as
// inline ones, a failure included.
TEST_P(Links, AsyncMembersBehaveLikeInline) {
  RINGCHECK_RULE("I9 I2");
  Sqe(r(), 1, kLink | IOSQE_ASYNC);
  FailingRead(r(), 2, kLink | IOSQE_ASYNC);
  Sqe(r(), 3, IOSQE_ASYNC);
  ASSERT_TRUE(SubmitExpect(r(), 3));
  auto got = ReapAllN(3);
  EXPECT_TRUE(ExactlyThese(got, {{1, 0}, {2, control::kFailRes}, {3, -ECANCELED}}));
  EXPECT_TRUE(ArrivedInOrder(got, {1, 2, 3}));
}

// I10: CQE_SKIP_SUCCESS inside chains follows D3-D8 (spec/cqe.md); here
// the one case they do not spell out: a skipped successful middle member
// leaves the chain running.
TEST_P(Links, SkippedSuccessInTheMiddleKeepsTheChain) {
  REQUIRE_FEATURE("feat_cqe_skip");
  RINGCHECK_RULE("I10 D6");
  Sqe(r(), 1, kLink);
  Sqe(r(), 2, kLink | IOSQE_CQE_SKIP_SUCCESS);
  Sqe(r(), 3);
  ASSERT_TRUE(SubmitExpect(r(), 3));
  auto got = ReapAllN(2);
  EXPECT_TRUE(ExactlyThese(got, {{1, 0}, {3, 0}}));
}

// I11: a long chain, longer than the SQ, split over several submissions
// by the caller is several chains; a chain that fits keeps its order even
// when its CQEs pass through the overflow backlog.
TEST(LinksOverflow, ChainOrderSurvivesCqOverflow) {
  RINGCHECK_RULE("I11");
  REQUIRE_FEATURE("feat_nodrop");
  RingConfig cfg = ConfigNamed("default");
  cfg.entries = 16;
  cfg.cq_entries = 16;
  cfg.flags |= IORING_SETUP_CQSIZE;
  CREATE_RING_OR_SKIP(ring, cfg);
  for (uint64_t ud = 1; ud <= 16; ++ud) Sqe(*ring, ud, ud < 16 ? kLink : 0);
  ASSERT_TRUE(SubmitExpect(*ring, 16));
  for (uint64_t ud = 17; ud <= 32; ++ud) Sqe(*ring, ud, ud < 32 ? kLink : 0);
  ASSERT_TRUE(SubmitExpect(*ring, 16));
  auto got = control::ReapAllChecked(*ring, 32);
  ASSERT_EQ(got.size(), 32u) << control::Describe(got);
  std::vector<uint64_t> first, second;
  for (uint64_t ud = 1; ud <= 16; ++ud) first.push_back(ud);
  for (uint64_t ud = 17; ud <= 32; ++ud) second.push_back(ud);
  EXPECT_TRUE(ArrivedInOrder(got, first));
  EXPECT_TRUE(ArrivedInOrder(got, second));
  for (const Cqe& c : got) EXPECT_RESULT(c.res, 0, "I11");
}

RINGCHECK_INSTANTIATE_DELIVERY_RINGS(Links);

}  // namespace
}  // namespace ringcheck
