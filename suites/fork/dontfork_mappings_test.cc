// io_uring_ring_dontfork(3) under each way a ring can be mapped: what the
// child of a fork() still has, and what it has lost (rules A2-A4, A8, A10,
// A18, A24 of spec/fork.md).
//
// The function madvises at most three ranges: the SQE array, the SQ ring and,
// when it is a separate mapping, the CQ ring, each as long as liburing
// recorded it. For NO_MMAP rings liburing records ring sizes of 0 when the
// rings share memory with the SQEs, so those rings stay in the child.
#include <gtest/gtest.h>
#include <liburing.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "harness/child_probe.h"
#include "harness/configs.h"
#include "harness/in_child.h"
#include "harness/matchers.h"

namespace ringcheck {
namespace {

struct MappingCase {
  std::string name;
  RingConfig config;
  const char* rules;  // what says this mapping's ranges are covered
};

void PrintTo(const MappingCase& c, std::ostream* os) { *os << c.name; }

std::string CaseName(const ::testing::TestParamInfo<MappingCase>& info) {
  return info.param.name;
}

RingConfig WithEntries(const char* config_name, unsigned entries) {
  RingConfig c = ConfigNamed(config_name);
  c.entries = entries;
  return c;
}

// Mappings whose SQ and CQ rings dontfork covers along with the SQEs.
std::vector<MappingCase> RingsCoveredCases() {
  return {
      // The classic mapping: SQ ring (shared with the CQ ring since 5.4) and
      // the SQE array, two kernel mmaps.
      {"single_mmap", ConfigNamed("default"), "A2 A3 A18 A24"},
      // 64 SQEs of 128 bytes fill two pages; a length that ignored SQE128
      // would advise only the first (A4).
      {"sqe128_two_pages", WithEntries("sqe128", 64), "A2 A4 A18 A24"},
      // NO_MMAP with liburing's memory: both allocations are advised (A8).
      // liburing 2.9 needs a huge page here; the harness SKIPs without one.
      {"no_mmap_liburing_memory", ConfigNamed("no_mmap"), "A2 A8 A18 A24"},
  };
}

std::vector<MappingCase> AllCases() {
  std::vector<MappingCase> all = RingsCoveredCases();
  // io_uring_queue_init_mem: liburing records ring sizes of 0 (A10).
  all.push_back({"no_mmap_user_memory", ConfigNamed("no_mmap_user_memory"), "A2 A10 A18 A24"});
  return all;
}

size_t SqeBytes(io_uring* r) {
  size_t sqe_size = (r->flags & IORING_SETUP_SQE128) ? 128 : 64;
  return r->sq.ring_entries * sqe_size;
}

const void* LastByte(const void* start, size_t len) {
  return static_cast<const char*>(start) + len - 1;
}

const void* LastCqeByte(io_uring* r) {
  size_t cqe_size = (r->flags & IORING_SETUP_CQE32) ? 32 : 16;
  return LastByte(r->cq.cqes, r->cq.ring_entries * cqe_size);
}

// A ring of the case's configuration with io_uring_ring_dontfork applied.
class RingDontfork : public ::testing::TestWithParam<MappingCase> {
 protected:
  void SetUp() override {
    RINGCHECK_RULE(GetParam().rules);
    std::string why;
    int ret = CreateRingForTest(GetParam().config, &ring_, &why);
    if (ret < 0) {
      if (!why.empty()) GTEST_SKIP() << why;
      FAIL() << "ring setup failed: " << ResultName(ret);
    }
    ASSERT_RESULT(io_uring_ring_dontfork(ring_->get()), 0, GetParam().rules);
    SetUpRing();
  }
  // What a derived fixture adds, once the ring exists and is advised.
  virtual void SetUpRing() {}
  io_uring* r() { return ring_->get(); }
  std::unique_ptr<Ring> ring_;
};

class RingDontforkCoveredRings : public RingDontfork {};

// io_uring_ring_dontfork(3): "the SQE array ... will not be inherited".
// Both ends of the array are gone, so the whole length was advised (A2, A4).
TEST_P(RingDontfork, SqeArrayFaultsInChild) {
  RINGCHECK_RULE("A2 A24");
  EXPECT_TRUE(FaultsInChild(r()->sq.sqes)) << "first SQE (rule A24)";
  EXPECT_TRUE(FaultsInChild(LastByte(r()->sq.sqes, SqeBytes(r()))))
      << "last byte of the SQE array, " << SqeBytes(r()) << " bytes (rule A2/A4)";
}

// A24: every liburing helper that touches the ring crashes in the child.
TEST_P(RingDontfork, LiburingSubmitInChildCrashes) {
  RINGCHECK_RULE("A24");
  ChildRun run = InChild([this](ChildChannel& child) {
    prctl(PR_SET_DUMPABLE, 0);  // the expected SIGSEGV leaves no core file
    io_uring_sqe* sqe = io_uring_get_sqe(r());
    ASSERT_NE(sqe, nullptr) << "no free SQE in the child";
    io_uring_prep_nop(sqe);
    child.Put(0, io_uring_submit(r()));
  });
  EXPECT_TRUE(run.outcome.KilledBy(SIGSEGV)) << "child submit: " << run.Describe() << " (rule A24)";
}

// A18: MADV_DONTFORK changes only what a child inherits; the parent keeps
// using its ring.
TEST_P(RingDontfork, ParentKeepsUsingTheRing) {
  RINGCHECK_RULE("A18");
  io_uring_sqe* sqe = ring_->NextSqe();
  ASSERT_NE(sqe, nullptr);
  io_uring_prep_nop(sqe);
  sqe->user_data = 0xd0;
  ASSERT_RESULT(ring_->Submit(), 1, "A18");
  std::vector<Cqe> cqes = ring_->Reap(1);
  ASSERT_EQ(cqes.size(), 1u) << "no CQE in the parent after dontfork (rule A18)";
  EXPECT_EQ(cqes[0].user_data, 0xd0u);
}

TEST_P(RingDontforkCoveredRings, SqRingFaultsInChild) {
  RINGCHECK_RULE("A2 A24");
  EXPECT_TRUE(FaultsInChild(r()->sq.khead)) << "SQ ring head (rule A2)";
}

TEST_P(RingDontforkCoveredRings, CqRingFaultsInChild) {
  RINGCHECK_RULE("A2 A3 A24");
  EXPECT_TRUE(FaultsInChild(r()->cq.khead)) << "CQ ring head (rule A2/A3)";
}

TEST_P(RingDontforkCoveredRings, CqesFaultInChild) {
  RINGCHECK_RULE("A2 A3 A24");
  EXPECT_TRUE(FaultsInChild(LastCqeByte(r()))) << "last CQE (rule A2/A3)";
}

INSTANTIATE_TEST_SUITE_P(Mappings, RingDontfork, ::testing::ValuesIn(AllCases()), CaseName);

// A4: on an SQE128 ring the advised SQE length is doubled; with 64 SQEs the
// second of the array's two pages is gone in the child too.
TEST(RingDontforkSqe128, SecondSqePageFaultsInChild) {
  RINGCHECK_RULE("A4");
  CREATE_RING_OR_SKIP(ring, WithEntries("sqe128", 64));
  io_uring* r = ring->get();
  ASSERT_EQ(SqeBytes(r), 2 * static_cast<size_t>(sysconf(_SC_PAGESIZE)));
  ASSERT_RESULT(io_uring_ring_dontfork(r), 0, "A4");
  const char* second_page = reinterpret_cast<const char*>(r->sq.sqes) + SqeBytes(r) / 2;
  EXPECT_TRUE(FaultsInChild(second_page)) << "second page of 128-byte SQEs (rule A4)";
}

// A8: a NO_MMAP ring on liburing's memory loses SQEs, both ring heads and
// the CQEs in the child (liburing 2.9 needs a huge page to set it up).
TEST(RingDontforkNoMmap, LiburingMemoryFaultsInChild) {
  RINGCHECK_RULE("A8");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("no_mmap"));
  io_uring* r = ring->get();
  ASSERT_RESULT(io_uring_ring_dontfork(r), 0, "A8");
  EXPECT_TRUE(FaultsInChild(r->sq.sqes)) << "SQEs (rule A8)";
  EXPECT_TRUE(FaultsInChild(r->sq.khead)) << "SQ ring head (rule A8)";
  EXPECT_TRUE(FaultsInChild(r->cq.khead)) << "CQ ring head (rule A8)";
  EXPECT_TRUE(FaultsInChild(LastCqeByte(r))) << "last CQE (rule A8)";
}
INSTANTIATE_TEST_SUITE_P(Mappings, RingDontforkCoveredRings,
                         ::testing::ValuesIn(RingsCoveredCases()), CaseName);

// A10: with the caller's memory (io_uring_queue_init_mem) liburing records
// ring sizes of 0, so only the SQE pages are advised; the rings, on the
// pages after them, stay mapped in the child.
class RingDontforkUserMemory : public RingDontfork {
 protected:
  void SetUpRing() override {
    // Control: dontfork did take effect, on the SQE page.
    ASSERT_TRUE(FaultsInChild(r()->sq.sqes)) << "SQEs (rule A10)";
  }
};

TEST_P(RingDontforkUserMemory, SqRingStaysReadableInChild) {
  RINGCHECK_RULE("A10");
  EXPECT_EQ(r()->sq.ring_sz, 0u) << "liburing recorded a SQ ring size (rule A10)";
  EXPECT_TRUE(ReadableInChild(r()->sq.khead)) << "SQ ring head (rule A10)";
}

TEST_P(RingDontforkUserMemory, CqRingStaysReadableInChild) {
  RINGCHECK_RULE("A10");
  EXPECT_TRUE(ReadableInChild(r()->cq.khead)) << "CQ ring head (rule A10)";
}

TEST_P(RingDontforkUserMemory, CqesStayReadableInChild) {
  RINGCHECK_RULE("A10");
  EXPECT_TRUE(ReadableInChild(LastCqeByte(r()))) << "last CQE (rule A10)";
}

INSTANTIATE_TEST_SUITE_P(
    Mappings, RingDontforkUserMemory,
    ::testing::Values(MappingCase{"no_mmap_user_memory", ConfigNamed("no_mmap_user_memory"),
                                  "A10"}),
    CaseName);

}  // namespace
}  // namespace ringcheck
