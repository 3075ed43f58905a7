// The environment variables of ibv_fork_init(3): RDMAV_FORK_SAFE and
// IBV_FORK_SAFE, read once at the first ibv_get_device_list, and
// RDMAV_HUGEPAGES_SAFE, read by ibv_fork_init (rules F6, F9, F10 of
// spec/verbs.md). Each test is a fresh process with its own environment.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <string>

#include "harness/capabilities.h"
#include "harness/in_child.h"
#include "harness/matchers.h"
#include "harness/pages.h"
#include "suites/verbs/verbs_support.h"

namespace ringcheck {
namespace {

// ibv_get_device_list, as an application's first call; the list itself
// does not matter (this host has no device: NULL).
void ListDevices() {
  int n = 0;
  ibv_device** list = ibv_get_device_list(&n);
  if (list != nullptr) ibv_free_device_list(list);
}

// The status after the first ibv_get_device_list with `env`.
long StatusWithEnv(const VerbsEnv& env) {
  ChildRun run = InFreshProcess(env, [&](ChildChannel& child) {
    ListDevices();
    child.Put(0, ibv_is_fork_initialized());
  });
  EXPECT_CHILD_RAN(run);
  return run.Value(0);
}

// F9: "0" leaves fork tracking off from rdma-core v40 on; earlier releases
// took any value as "on".
bool ZeroEnables() {
  const int release = LibibverbsRelease();
  return release > 0 && release < 40;
}

TEST(ForkSafeEnv, UnsetLeavesTrackingOff) {
  RINGCHECK_RULE("F9");
  EXPECT_EQ(StatusName(StatusWithEnv({})), StatusName(ExpectedForkStatus(false))) << "rule F9";
}

TEST(ForkSafeEnv, RdmavForkSafeOneTurnsTrackingOn) {
  RINGCHECK_RULE("F9");
  EXPECT_EQ(StatusName(StatusWithEnv({{"RDMAV_FORK_SAFE", "1"}})),
            StatusName(ExpectedForkStatus(true)))
      << "rule F9";
}

TEST(ForkSafeEnv, RdmavForkSafeZeroLeavesTrackingOff) {
  RINGCHECK_RULE("F9");
  ASSERT_GT(LibibverbsRelease(), 0) << "cannot read the libibverbs release from its file name";
  EXPECT_EQ(StatusName(StatusWithEnv({{"RDMAV_FORK_SAFE", "0"}})),
            StatusName(ExpectedForkStatus(ZeroEnables())))
      << "libibverbs v" << LibibverbsRelease() << " (rule F9)";
}

TEST(ForkSafeEnv, IbvForkSafeOneTurnsTrackingOn) {
  RINGCHECK_RULE("F9");
  EXPECT_EQ(StatusName(StatusWithEnv({{"IBV_FORK_SAFE", "1"}})),
            StatusName(ExpectedForkStatus(true)))
      << "rule F9";
}

TEST(ForkSafeEnv, IbvForkSafeZeroLeavesTrackingOff) {
  RINGCHECK_RULE("F9");
  ASSERT_GT(LibibverbsRelease(), 0) << "cannot read the libibverbs release from its file name";
  EXPECT_EQ(StatusName(StatusWithEnv({{"IBV_FORK_SAFE", "0"}})),
            StatusName(ExpectedForkStatus(ZeroEnables())))
      << "libibverbs v" << LibibverbsRelease() << " (rule F9)";
}

// F9: the variables are read once, at the first ibv_get_device_list; set
// later, they change nothing.
TEST(ForkSafeEnv, ReadOnlyAtTheFirstDeviceList) {
  RINGCHECK_RULE("F9");
  ChildRun run = InFreshProcess({}, [&](ChildChannel& child) {
    ListDevices();
    setenv("RDMAV_FORK_SAFE", "1", 1);
    ListDevices();
    child.Put(0, ibv_is_fork_initialized());
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_EQ(StatusName(run.Value(0)), StatusName(ExpectedForkStatus(false))) << "rule F9";
}

// F9, F10: RDMAV_FORK_SAFE=1 is a real ibv_fork_init: ranges are tracked.
TEST(ForkSafeEnv, RdmavForkSafeTracksRanges) {
  RINGCHECK_RULE("F9 F10");
  if (!ForkInitTracksRanges()) {
    GTEST_SKIP() << "environment:rdma_copy_on_fork (libibverbs does not track ranges here)";
  }
  Pages page(1);
  ASSERT_TRUE(page.ok());
  ChildRun run = InFreshProcess({{"RDMAV_FORK_SAFE", "1"}}, [&](ChildChannel& child) {
    ListDevices();
    child.Put(0, ibv_dontfork_range(page.page(0), PageSize()));
    child.Put(1, SeenByFork(page.page(0)));
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_EQ(run.Value(0), 0) << "rule F10";
  EXPECT_EQ(PageSeen(run.Value(1)), kFaults) << "rule F9: tracking is on";
}

// F6 (step 1), F10: with RDMAV_HUGEPAGES_SAFE libibverbs asks smaps for the
// page size of each range; for ordinary memory that is the small page, so
// marking stays exactly one page.
TEST(HugepagesSafeEnv, SmallPagesStayExact) {
  RINGCHECK_RULE("F6 F10");
  if (!ForkInitTracksRanges()) {
    GTEST_SKIP() << "environment:rdma_copy_on_fork (libibverbs does not track ranges here)";
  }
  Pages pages(3);
  ASSERT_TRUE(pages.ok());
  ChildRun run = InFreshProcess({{"RDMAV_HUGEPAGES_SAFE", "1"}}, [&](ChildChannel& child) {
    child.Put(0, ibv_fork_init());
    child.Put(1, ibv_dontfork_range(pages.page(1), PageSize()));
    child.Put(2, SeenByFork(pages.page(1)));
    child.Put(3, SeenByFork(pages.page(0)));
    child.Put(4, SeenByFork(pages.page(2)));
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_EQ(run.Value(0), 0) << "rule F6";
  EXPECT_EQ(run.Value(1), 0) << "rule F10";
  EXPECT_EQ(PageSeen(run.Value(2)), kFaults) << "the marked page (rule F10)";
  EXPECT_EQ(PageSeen(run.Value(3)), kReadable) << "the page before (rule F10)";
  EXPECT_EQ(PageSeen(run.Value(4)), kReadable) << "the page after (rule F10)";
}

// One hugetlb page, unmapped on destruction.
class HugePage {
 public:
  HugePage() : size_(HugePageSize()) {
    if (size_ == 0) return;
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    if (p != MAP_FAILED) base_ = static_cast<char*>(p);
  }
  ~HugePage() {
    if (base_ != nullptr) munmap(base_, size_);
  }
  char* get() const { return base_; }
  size_t size() const { return size_; }

 private:
  size_t size_;
  char* base_ = nullptr;
};

// SKIPs unless a hugetlb page can be had (and ranges are tracked at all).
#define REQUIRE_HUGE_PAGE(var)                                                      \
  if (!ForkInitTracksRanges()) {                                                    \
    GTEST_SKIP() << "environment:rdma_copy_on_fork (no range tracking here)";       \
  }                                                                                 \
  if (Caps().hugepages_total == 0) {                                                \
    GTEST_SKIP() << "environment:hugepages (no hugetlb pages reserved)";            \
  }                                                                                 \
  HugePage var;                                                                     \
  if (var.get() == nullptr) GTEST_SKIP() << "environment:hugepages (none free)";    \
  var.get()[0] = 1

// F10: with RDMAV_HUGEPAGES_SAFE a range inside a huge page takes the whole
// huge page.
TEST(HugepagesSafeEnv, RangeWidensToTheHugePage) {
  RINGCHECK_RULE("F6 F10");
  REQUIRE_HUGE_PAGE(huge);
  ChildRun run = InFreshProcess({{"RDMAV_HUGEPAGES_SAFE", "1"}}, [&](ChildChannel& child) {
    child.Put(0, ibv_fork_init());
    child.Put(1, ibv_dontfork_range(huge.get() + PageSize(), 1));
    child.Put(2, SeenByFork(huge.get()));
    child.Put(3, SeenByFork(huge.get() + huge.size() - 1));
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_EQ(run.Value(0), 0) << "rule F6";
  EXPECT_EQ(run.Value(1), 0) << "rule F10";
  EXPECT_EQ(PageSeen(run.Value(2)), kFaults) << "start of the huge page (rule F10)";
  EXPECT_EQ(PageSeen(run.Value(3)), kFaults) << "end of the huge page (rule F10)";
}

// F10, A20: without it the range stays small, madvise cannot split the
// hugetlb mapping there, and the call fails.
TEST(HugepagesSafeEnv, WithoutItAHugetlbRangeFails) {
  RINGCHECK_RULE("F10");
  REQUIRE_HUGE_PAGE(huge);
  ChildRun run = InFreshProcess({}, [&](ChildChannel& child) {
    child.Put(0, ibv_fork_init());
    child.Put(1, ibv_dontfork_range(huge.get() + PageSize(), 1));
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_EQ(run.Value(0), 0) << "rule F6";
  EXPECT_EQ(run.Value(1), -1) << "rule F10";
}

}  // namespace
}  // namespace ringcheck
