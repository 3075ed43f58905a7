// IORING_CQE_F_32 and IORING_CQE_F_SKIP (spec D.1): on a ring set up with
// IORING_SETUP_CQE_MIXED, 16- and 32-byte CQEs share the CQ. A 32-byte CQE
// has F_32 and takes two slots; when it would wrap around the end of the CQ
// the kernel first fills the last slot with a CQE carrying F_SKIP
// (user_data 0, res 0) that the application must step over. A NOP asks for
// a 32-byte CQE with IORING_NOP_CQE32 in sqe->nop_flags; sqe->off and
// sqe->addr come back in big_cqe[0] and big_cqe[1] (kernel io_uring/nop.c).
#include <memory>
#include <string>

#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/cqe/cqe_helpers.h"

namespace ringcheck {
namespace {

using cqe::Describe;
using cqe::HasFlag;

constexpr uint64_t kExtra1 = 0x1111222233334444ull;
constexpr uint64_t kExtra2 = 0x5555666677778888ull;

// cqe_mixed alone and with the settings that change who posts CQEs and when.
std::vector<RingConfig> MixedConfigs() {
  RingConfig plain = ConfigNamed("cqe_mixed");
  RingConfig defer = plain;
  defer.name = "cqe_mixed_defer_taskrun";
  defer.flags |= IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER;
  RingConfig sqpoll = plain;
  sqpoll.name = "cqe_mixed_sqpoll";
  sqpoll.flags |= IORING_SETUP_SQPOLL;
  sqpoll.sq_thread_idle = kSqThreadIdleMs;
  return {plain, defer, sqpoll};
}

void QueueNop32(Ring& ring, uint64_t user_data) {
  io_uring_sqe* sqe = ring.NextSqe();
  ASSERT_NE(sqe, nullptr);
  io_uring_prep_nop(sqe);
  sqe->nop_flags = IORING_NOP_CQE32;
  sqe->off = kExtra1;
  sqe->addr = kExtra2;
  sqe->user_data = user_data;
}

class MixedCqe : public RingTest {
 protected:
  unsigned CqEntries() { return ring().get()->cq.ring_entries; }
  unsigned CqHead() { return *ring().get()->cq.khead; }
  // Posts and reaps `n` plain NOPs, moving the CQ head by n slots.
  void AdvanceBy(unsigned n) {
    for (unsigned i = 0; i < n; ++i) cqe::QueueNop(ring(), 100 + i);
    ASSERT_GE(ring().Submit(), 0);
    ASSERT_EQ(ring().Reap(n).size(), n);
  }
};

// D.1 F_32: IORING_NOP_CQE32 on a CQE_MIXED ring posts one 32-byte CQE
// with F_32 that takes two CQ slots and carries off/addr as its extra words.
TEST_P(MixedCqe, Nop32SetsF32AndTakesTwoSlots) {
  RINGCHECK_RULE("D.1:F_32");
  const unsigned head = CqHead();
  QueueNop32(ring(), 1);
  ASSERT_TRUE(cqe::SubmitExpect(ring(), 1));
  std::vector<Cqe> got = ring().Reap(1, std::chrono::seconds(5), true);
  ASSERT_EQ(got.size(), 1u) << Describe(got);
  EXPECT_RESULT(got[0].res, 0, "D.1:F_32 NOP");
  EXPECT_TRUE(HasFlag(got[0], IORING_CQE_F_32)) << Describe(got[0]);
  EXPECT_FALSE(HasFlag(got[0], IORING_CQE_F_SKIP)) << Describe(got[0]);
  EXPECT_EQ(got[0].extra[0], kExtra1) << Describe(got[0]);
  EXPECT_EQ(got[0].extra[1], kExtra2) << Describe(got[0]);
  EXPECT_EQ(CqHead() - head, 2u) << "a 32-byte CQE takes two slots";
}

// D.1 F_32: a NOP without IORING_NOP_CQE32 posts a 16-byte CQE: one slot,
// no F_32.
TEST_P(MixedCqe, PlainNopLeavesF32Clear) {
  RINGCHECK_RULE("D.1:F_32");
  const unsigned head = CqHead();
  cqe::QueueNop(ring(), 1);
  ASSERT_TRUE(cqe::SubmitExpect(ring(), 1));
  std::vector<Cqe> got = ring().Reap(1, std::chrono::seconds(5), true);
  ASSERT_EQ(got.size(), 1u) << Describe(got);
  EXPECT_EQ(got[0].flags, 0u) << Describe(got[0]);
  EXPECT_EQ(CqHead() - head, 1u);
}

// D.1 F_SKIP: a 32-byte CQE that would start in the last slot is preceded
// by a filler there (F_SKIP, user_data 0, res 0) and lands in slots 0-1.
TEST_P(MixedCqe, Nop32AtRingEndIsPrecededBySkipFiller) {
  RINGCHECK_RULE("D.1:F_SKIP D.1:F_32");
  const unsigned entries = CqEntries();
  AdvanceBy(entries - 1);
  if (HasFatalFailure()) return;
  ASSERT_EQ(CqHead() % entries, entries - 1) << "the next CQE starts in the last slot";
  QueueNop32(ring(), 7);
  ASSERT_TRUE(cqe::SubmitExpect(ring(), 1));
  std::vector<Cqe> got = ring().Reap(1, std::chrono::seconds(5), true);
  ASSERT_EQ(got.size(), 2u) << "expected the filler and the 32-byte CQE " << Describe(got);
  const Cqe& filler = got[0];
  EXPECT_TRUE(HasFlag(filler, IORING_CQE_F_SKIP)) << Describe(got);
  EXPECT_EQ(filler.user_data, 0u) << Describe(got);
  EXPECT_EQ(filler.res, 0) << Describe(got);
  EXPECT_FALSE(HasFlag(filler, IORING_CQE_F_32)) << "the filler is one slot " << Describe(got);
  const Cqe& big = got[1];
  EXPECT_EQ(big.user_data, 7u);
  EXPECT_TRUE(HasFlag(big, IORING_CQE_F_32)) << Describe(got);
  EXPECT_FALSE(HasFlag(big, IORING_CQE_F_SKIP)) << Describe(got);
  EXPECT_EQ(big.extra[0], kExtra1);
  EXPECT_EQ(big.extra[1], kExtra2);
  EXPECT_EQ(CqHead() % entries, 2u) << "filler in the last slot, the CQE in slots 0 and 1";
}

// D.1 F_SKIP: no filler when the 32-byte CQE fits before the end.
TEST_P(MixedCqe, Nop32ThatFitsHasNoSkipFiller) {
  RINGCHECK_RULE("D.1:F_SKIP");
  const unsigned entries = CqEntries();
  AdvanceBy(entries - 2);  // two slots left before the end
  if (HasFatalFailure()) return;
  QueueNop32(ring(), 7);
  ASSERT_TRUE(cqe::SubmitExpect(ring(), 1));
  std::vector<Cqe> got = ring().Reap(1, std::chrono::seconds(5), true);
  ASSERT_EQ(got.size(), 1u) << Describe(got);
  EXPECT_FALSE(HasFlag(got[0], IORING_CQE_F_SKIP)) << Describe(got);
  EXPECT_TRUE(HasFlag(got[0], IORING_CQE_F_32)) << Describe(got);
  EXPECT_EQ(CqHead() % entries, 0u);
}

INSTANTIATE_TEST_SUITE_P(MixedRings, MixedCqe, ::testing::ValuesIn(MixedConfigs()),
                         ConfigParamName);

// D.1 F_32: IORING_NOP_CQE32 on a ring that is neither CQE32 nor
// CQE_MIXED fails with -EINVAL (kernel io_uring/nop.c, io_nop_prep). The
// flag came with CQE_MIXED, so that is the probe.
TEST(Nop32, OnPlainRingIsEinval) {
  RINGCHECK_RULE("D.1:F_32");
  REQUIRE_FEATURE("setup_cqe_mixed");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  QueueNop32(*ring, 1);
  ASSERT_TRUE(cqe::SubmitExpect(*ring, 1));
  std::vector<Cqe> got = ring->Reap(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_RESULT(got[0].res, -EINVAL, "D.1:F_32 NOP_CQE32 on a 16-byte ring");
  EXPECT_EQ(got[0].flags, 0u) << Describe(got[0]);
}

// D.1 F_32: on a CQE32 ring every CQE is 32 bytes; IORING_NOP_CQE32 fills
// the extra words, and F_32 (a CQE_MIXED marker) stays clear.
TEST(Nop32, OnCqe32RingFillsExtrasWithoutF32) {
  RINGCHECK_RULE("D.1:F_32");
  REQUIRE_FEATURE("setup_cqe_mixed");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("cqe32"));
  QueueNop32(*ring, 1);
  ASSERT_TRUE(cqe::SubmitExpect(*ring, 1));
  std::vector<Cqe> got = ring->Reap(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_RESULT(got[0].res, 0, "D.1:F_32 NOP_CQE32 on a CQE32 ring");
  EXPECT_EQ(got[0].extra[0], kExtra1) << Describe(got[0]);
  EXPECT_EQ(got[0].extra[1], kExtra2) << Describe(got[0]);
  EXPECT_FALSE(HasFlag(got[0], IORING_CQE_F_32)) << Describe(got[0]);
}

}  // namespace
}  // namespace ringcheck
