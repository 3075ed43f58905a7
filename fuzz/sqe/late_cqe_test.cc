// Late CQEs of earlier inputs: which are attributed to the input that caused
// them (no false alarm in the next input) and which stay findings. Unit
// tests of ClassifyLateCqe, then the same through the fuzzer's real ring with
// CQEs injected by MSG_RING from a second ring.
#include <liburing.h>

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "fuzz/sqe/state.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace ringcheck::fuzz::sqe {
namespace {

State::Past ZcSend(bool result_seen, bool more) {
  State::Past p{};
  p.zc.set(3);
  p.zc_result[3] = result_seen;
  p.zc_more[3] = more;
  if (result_seen && !more) p.finished.set(3);  // finals came with the result
  return p;
}

TEST(LateCqe, NotifAnnouncedByFMoreIsTheEarlierInputs) {
  State::Past p = ZcSend(true, true);
  EXPECT_EQ(ClassifyLateCqe(&p, 3, 0, IORING_CQE_F_NOTIF, false), LateCqe::kAccepted);
  EXPECT_EQ(ClassifyLateCqe(&p, 3, 0, IORING_CQE_F_NOTIF, false), LateCqe::kUnknown) << "a second NOTIF";
}

TEST(LateCqe, ResultWithoutFMoreThenNotifIsTheKnownFinding) {
  // The false alarm of issue 15: a cancelled chain's SEND_ZC whose result
  // (-ECANCELED, no F_MORE) and NOTIF both came after its input ended.
  State::Past p{};
  p.zc.set(5);
  p.silent.set(5);
  EXPECT_EQ(ClassifyLateCqe(&p, 5, -ECANCELED, 0, true), LateCqe::kAccepted);
  EXPECT_EQ(ClassifyLateCqe(&p, 5, 0, IORING_CQE_F_NOTIF, true), LateCqe::kAccepted);
  State::Past strict{};
  strict.zc.set(5);
  strict.silent.set(5);
  EXPECT_EQ(ClassifyLateCqe(&strict, 5, -ECANCELED, 0, false), LateCqe::kAccepted);
  EXPECT_EQ(ClassifyLateCqe(&strict, 5, 0, IORING_CQE_F_NOTIF, false), LateCqe::kNotifNotAnnounced)
      << "without --known the finding is still reported";
}

TEST(LateCqe, NotifBeforeItsResultIsAccepted) {
  State::Past p{};
  p.zc.set(1);
  p.silent.set(1);
  EXPECT_EQ(ClassifyLateCqe(&p, 1, 0, IORING_CQE_F_NOTIF, false), LateCqe::kAccepted);
  EXPECT_EQ(ClassifyLateCqe(&p, 1, 8, IORING_CQE_F_MORE, false), LateCqe::kAccepted);
  EXPECT_EQ(ClassifyLateCqe(&p, 1, 8, 0, false), LateCqe::kAccepted) << "silent until a CQE without F_MORE";
  EXPECT_EQ(ClassifyLateCqe(&p, 1, 8, 0, false), LateCqe::kUnknown);
}

TEST(LateCqe, FinishedRequestPostingAgainIsAFinding) {
  State::Past p{};
  p.finished.set(2);
  EXPECT_EQ(ClassifyLateCqe(&p, 2, 0, 0, true), LateCqe::kAfterLast);
  EXPECT_EQ(ClassifyLateCqe(&p, 2, 0, IORING_CQE_F_NOTIF, true), LateCqe::kAfterLast);
  State::Past none{};
  EXPECT_EQ(ClassifyLateCqe(&none, 2, 0, IORING_CQE_F_NOTIF, true), LateCqe::kUnknown);
}

// Through the real ring: three one-NOP inputs; between them a second ring
// posts CQEs with the first input's user_data into the fuzzer's CQ.
class LateCqeRing : public ::testing::Test {
 protected:
  void SetUp() override {
    RunNop();
    if (S == nullptr || !S->usable) GTEST_SKIP() << "environment:io_uring (the fuzzer's ring could not be set up)";
    ASSERT_EQ(io_uring_queue_init(4, &sender_, 0), 0);
  }
  void TearDown() override {
    if (sender_.ring_fd > 0) io_uring_queue_exit(&sender_);
  }
  static void RunNop() {
    const std::vector<uint8_t> nop(16, 0);  // record 0: the first allowed opcode, NOP
    LLVMFuzzerTestOneInput(nop.data(), nop.size());
  }
  // Posts a CQE {ud, res, flags} into the fuzzer's ring; false if the kernel
  // cannot pass CQE flags (IORING_MSG_RING_FLAGS_PASS, Linux 6.3).
  bool Inject(uint64_t ud, int32_t res, uint32_t flags) {
    io_uring_sqe* sqe = io_uring_get_sqe(&sender_);
    io_uring_prep_msg_ring_cqe_flags(sqe, S->ring.ring_fd, static_cast<unsigned>(res), ud, 0, flags);
    io_uring_cqe* cqe;
    if (io_uring_submit_and_wait(&sender_, 1) < 1 || io_uring_peek_cqe(&sender_, &cqe) != 0) return false;
    const int r = cqe->res;
    io_uring_cqe_seen(&sender_, cqe);
    return r == 0;
  }
  io_uring sender_{};
};

TEST_F(LateCqeRing, AnnouncedNotifOfAnEarlierInputIsNoFinding) {
  const uint64_t gen = S->gen, base = S->ud_base;
  RunNop();  // records the first input's Past
  State::Past& p = S->past[gen % State::kPastInputs];
  ASSERT_EQ(p.ud_base, base);
  // As if record 0 were a SEND_ZC of a cancelled chain whose result said F_MORE.
  p.zc.set(0);
  p.zc_result.set(0);
  p.zc_more.set(0);
  const uint64_t late = S->count.late;
  if (!Inject(base | 0, 0, IORING_CQE_F_NOTIF)) GTEST_SKIP() << "environment:msg_ring_flags_pass (kernel < 6.3)";
  RunNop();  // would abort with unknown-user-data before issue 15's fix
  EXPECT_EQ(S->count.late, late + 1);
}

TEST_F(LateCqeRing, StrayCqeOfAFinishedRequestStillFails) {
  const uint64_t base = S->ud_base;
  RunNop();
  if (!Inject(base | 0, 0, 0)) GTEST_SKIP() << "environment:msg_ring_flags_pass (kernel < 6.3)";
  EXPECT_DEATH(RunNop(), "ORACLE one-cqe-per-sqe: a request posted another CQE after its input ended");
}

}  // namespace
}  // namespace ringcheck::fuzz::sqe
