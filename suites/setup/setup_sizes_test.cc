// io_uring_setup(2) sizing rules (entries, CQSIZE, CLAMP: E13-E20), the
// features it reports (E28), and what liburing checks before the syscall.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <memory>

#include "harness/capabilities.h"
#include "harness/configs.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/ring.h"
#include "harness/uapi.h"
#include "suites/setup/setup_test_util.h"

namespace ringcheck {
namespace {

constexpr unsigned kMaxEntries = 32768;     // IORING_MAX_ENTRIES since 5.4
constexpr unsigned kMaxCqEntries = 65536;   // IORING_MAX_CQ_ENTRIES

TEST(SetupEntries, ZeroEntriesIsEinval) {
  RINGCHECK_RULE("E13");
  EXPECT_RESULT(SetupWith(0, 0), -EINVAL, "E13");
}

TEST(SetupEntries, TooManyEntriesIsEinvalWithoutClamp) {
  RINGCHECK_RULE("E14");
  EXPECT_RESULT(SetupWith(0, kMaxEntries + 1), -EINVAL, "E14");
}

TEST(SetupEntries, MaximumEntriesIsAccepted) {
  RINGCHECK_RULE("E14");
  SetupAttempt a = TrySetup(kMaxEntries, Params(0));
  ASSERT_SUCCESS(a.result, "E14");
  EXPECT_EQ(a.params.sq_entries, kMaxEntries);
}

TEST(SetupEntries, ClampLimitsEntriesToTheMaximum) {
  RINGCHECK_RULE("E14");
  REQUIRE_FEATURE("setup_clamp");
  SetupAttempt a = TrySetup(kMaxEntries * 4, Params(IORING_SETUP_CLAMP));
  ASSERT_SUCCESS(a.result, "E14");
  EXPECT_EQ(a.params.sq_entries, kMaxEntries) << "rule E14: CLAMP clamps to IORING_MAX_ENTRIES";
  EXPECT_EQ(a.params.cq_entries, 2 * kMaxEntries) << "rule E19";
}

TEST(SetupEntries, EntriesRoundUpToAPowerOfTwo) {
  RINGCHECK_RULE("E15 E19");
  const struct {
    unsigned asked, sq;
  } cases[] = {{1, 1}, {3, 4}, {5, 8}, {100, 128}, {4097, 8192}};
  for (const auto& c : cases) {
    SetupAttempt a = TrySetup(c.asked, Params(0));
    ASSERT_SUCCESS(a.result, "E15") << "entries " << c.asked;
    EXPECT_EQ(a.params.sq_entries, c.sq) << "rule E15: entries " << c.asked;
    EXPECT_EQ(a.params.cq_entries, 2 * c.sq) << "rule E19: entries " << c.asked;
  }
}

TEST(SetupCqSize, ZeroCqEntriesIsEinval) {
  RINGCHECK_RULE("E16");
  REQUIRE_FEATURE("setup_cqsize");
  EXPECT_RESULT(TrySetup(4, Params(IORING_SETUP_CQSIZE, 0)).result, -EINVAL, "E16");
}

TEST(SetupCqSize, TooManyCqEntriesIsEinvalWithoutClamp) {
  RINGCHECK_RULE("E17");
  REQUIRE_FEATURE("setup_cqsize");
  EXPECT_RESULT(TrySetup(4, Params(IORING_SETUP_CQSIZE, kMaxCqEntries + 1)).result, -EINVAL,
                "E17");
}

TEST(SetupCqSize, ClampLimitsCqEntries) {
  RINGCHECK_RULE("E17");
  REQUIRE_FEATURE("setup_clamp");
  REQUIRE_FEATURE("setup_cqsize");
  SetupAttempt a =
      TrySetup(4, Params(IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP, kMaxCqEntries * 2));
  ASSERT_SUCCESS(a.result, "E17");
  EXPECT_EQ(a.params.cq_entries, kMaxCqEntries);
}

TEST(SetupCqSize, CqSmallerThanSqIsEinval) {
  RINGCHECK_RULE("E18");
  REQUIRE_FEATURE("setup_cqsize");
  EXPECT_RESULT(TrySetup(16, Params(IORING_SETUP_CQSIZE, 8)).result, -EINVAL, "E18");
}

TEST(SetupCqSize, CqEntriesRoundUpAndAreKept) {
  RINGCHECK_RULE("E18");
  REQUIRE_FEATURE("setup_cqsize");
  SetupAttempt a = TrySetup(4, Params(IORING_SETUP_CQSIZE, 100));
  ASSERT_SUCCESS(a.result, "E18");
  EXPECT_EQ(a.params.sq_entries, 4u);
  EXPECT_EQ(a.params.cq_entries, 128u);
}

TEST(SetupCqSize, CqEntriesIgnoredWithoutCqSize) {
  RINGCHECK_RULE("E19");
  SetupAttempt a = TrySetup(8, Params(0, 1000));
  ASSERT_SUCCESS(a.result, "E19");
  EXPECT_EQ(a.params.cq_entries, 16u) << "rule E19: cq_entries = 2 * sq_entries";
}

TEST(SetupCqSize, CqeMixedNeedsTwoCqSlots) {
  RINGCHECK_RULE("E20");
  REQUIRE_FEATURE("setup_cqe_mixed");
  EXPECT_RESULT(TrySetup(1, Params(IORING_SETUP_CQE_MIXED | IORING_SETUP_CQSIZE, 1)).result,
                -EOVERFLOW, "E20");
  EXPECT_SUCCESS(TrySetup(1, Params(IORING_SETUP_CQE_MIXED | IORING_SETUP_CQSIZE, 2)).result,
                 "E20");
}

// E28: the features a kernel reports are the same for every ring and each
// reported bit matches what the kernel then does.
TEST(SetupFeatures, SameForEveryRing) {
  RINGCHECK_RULE("E28");
  for (uint32_t flags : {0u, IORING_SETUP_CQE32, IORING_SETUP_SQPOLL}) {
    if (Caps().UnsupportedSetupFlags(flags) != 0) continue;
    SetupAttempt a = TrySetup(4, Params(flags));
    ASSERT_SUCCESS(a.result, "E28");
    EXPECT_EQ(a.params.features, Caps().features) << SetupFlagsString(flags);
  }
}

TEST(SetupFeatures, SingleMmapMeansOneRingMapping) {
  RINGCHECK_RULE("E28 A3");
  REQUIRE_FEATURE("feat_single_mmap");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  EXPECT_EQ(ring->get()->sq.ring_ptr, ring->get()->cq.ring_ptr)
      << "rule A3: with IORING_FEAT_SINGLE_MMAP liburing maps SQ and CQ rings once";
}

TEST(SetupFeatures, ExtArgMeansEnterTakesAnArgStruct) {
  RINGCHECK_RULE("E28");
  REQUIRE_FEATURE("feat_ext_arg");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  io_uring_getevents_arg arg{};
  __kernel_timespec ts = {0, 1000};
  arg.ts = reinterpret_cast<uint64_t>(&ts);
  int fd = ring->fd();
  int r = io_uring_enter2(static_cast<unsigned>(fd), 0, 1,
                          IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
                          reinterpret_cast<sigset_t*>(&arg), sizeof arg);
  EXPECT_RESULT(r, -ETIME, "E28: EXT_ARG wait with a timeout and nothing to wait for");
}

TEST(SetupFeatures, RegRegRingMeansRegisterTakesAnIndex) {
  RINGCHECK_RULE("E28 B16");
  REQUIRE_FEATURE("feat_reg_reg_ring");
  EXPECT_TRUE(Supported("register_use_registered_ring"))
      << "IORING_FEAT_REG_REG_RING is reported but io_uring_register refuses a registered index";
}

TEST(SetupFeatures, NoUnknownFeatureBitsBeyondTheRegistry) {
  RINGCHECK_RULE("E28");
  uint32_t known = 0;
  for (const Feature& f : AllFeatures()) {
    if (f.proof == Proof::kFeatureBit) known |= f.value;
  }
  // A newer kernel may add bits; this test names them so the registry grows.
  EXPECT_EQ(Caps().features & ~known, 0u)
      << "feature bits unknown to ringcheck: 0x" << std::hex << (Caps().features & ~known);
}

// What liburing 2.9 checks before asking the kernel.
TEST(LiburingSetup, RegisteredFdOnlyWithoutNoMmapRefusedByLibrary) {
  RINGCHECK_RULE("B31 E5");
  io_uring ring;
  io_uring_params p = Params(IORING_SETUP_REGISTERED_FD_ONLY);
  EXPECT_RESULT(io_uring_queue_init_params(4, &ring, &p), -EINVAL, "B31");
}

TEST(LiburingSetup, NoSqarrayIsTriedFirst) {
  // liburing >= 2.6 asks for NO_SQARRAY unless told otherwise, and falls back
  // silently where the kernel refuses it.
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  const bool has = (ring->get()->flags & IORING_SETUP_NO_SQARRAY) != 0;
  EXPECT_EQ(has, Supported("setup_no_sqarray"));
}

TEST(LiburingSetup, LibraryRejectsZeroEntries) {
  RINGCHECK_RULE("E13");
  io_uring ring;
  io_uring_params p = Params(0);
  EXPECT_RESULT(io_uring_queue_init_params(0, &ring, &p), -EINVAL, "E13");
}

}  // namespace
}  // namespace ringcheck
