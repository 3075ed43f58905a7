// ibv_is_fork_initialized(3) and ibv_fork_init(3): the fork status and
// what initialising fork tracking returns (rules F1-F8, F12 of
// spec/verbs.md). The status depends on whether the kernel reports
// copy-on-fork, which the tests ask the kernel themselves.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <string>

#include "harness/errno_names.h"
#include "harness/in_child.h"
#include "harness/matchers.h"
#include "harness/pages.h"
#include "suites/verbs/verbs_support.h"

namespace ringcheck {
namespace {

// F1: the values are ABI (verbs.h).
TEST(ForkStatus, EnumValuesMatchTheAbi) {
  RINGCHECK_RULE("F1");
  EXPECT_EQ(static_cast<int>(IBV_FORK_DISABLED), 0);
  EXPECT_EQ(static_cast<int>(IBV_FORK_ENABLED), 1);
  EXPECT_EQ(static_cast<int>(IBV_FORK_UNNEEDED), 2);
}

// F2, F3, F5: before ibv_fork_init the status is DISABLED, unless the
// kernel reports copy-on-fork (UNNEEDED).
TEST(ForkStatus, BeforeInitFollowsKernelCopyOnFork) {
  RINGCHECK_RULE("F2 F3 F5");
  ChildRun run = InFreshProcess(
      {}, [&](ChildChannel& child) { child.Put(0, ibv_is_fork_initialized()); });
  ASSERT_CHILD_RAN(run);
  EXPECT_EQ(StatusName(run.Value(0)), StatusName(ExpectedForkStatus(false)))
      << "kernel: " << Describe(KernelCopyOnFork()) << " (rule F2)";
}

// F2, F5: after ibv_fork_init it is ENABLED, unless the kernel reports
// copy-on-fork: UNNEEDED takes precedence.
TEST(ForkStatus, AfterInitFollowsKernelCopyOnFork) {
  RINGCHECK_RULE("F2 F5");
  ChildRun run = InFreshProcess({}, [&](ChildChannel& child) {
    child.Put(0, ibv_fork_init());
    child.Put(1, ibv_is_fork_initialized());
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_EQ(run.Value(0), 0) << "ibv_fork_init returned " << run.Value(0) << " (rule F6)";
  EXPECT_EQ(StatusName(run.Value(1)), StatusName(ExpectedForkStatus(true)))
      << "kernel: " << Describe(KernelCopyOnFork()) << " (rule F2)";
}

// F3: copy-on-fork is asked of the kernel on every call, not cached: once
// the process cannot open a netlink socket any more, the answer falls back
// to "not reported".
TEST(ForkStatus, CopyOnForkIsAskedOnEveryCall) {
  RINGCHECK_RULE("F3");
  if (KernelCopyOnFork() != CopyOnFork::kOn) {
    GTEST_SKIP() << "environment:rdma_copy_on_fork (" << Describe(KernelCopyOnFork()) << ")";
  }
  ChildRun run = InFreshProcess({}, [&](ChildChannel& child) {
    child.Put(0, ibv_is_fork_initialized());
    rlimit none = {0, 0};
    setrlimit(RLIMIT_NOFILE, &none);  // no new file descriptors: no socket
    child.Put(1, ibv_is_fork_initialized());
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_EQ(StatusName(run.Value(0)), StatusName(IBV_FORK_UNNEEDED)) << "rule F2";
  EXPECT_EQ(StatusName(run.Value(1)), StatusName(IBV_FORK_DISABLED))
      << "the first answer was cached (rule F3)";
}

// F4: a kernel with the nldev copy-on-fork attribute always reports 1
// (pinned pages are copied early at fork).
TEST(ForkStatus, KernelReportsCopyOnFork) {
  RINGCHECK_RULE("F4");
  switch (KernelCopyOnFork()) {
    case CopyOnFork::kNoNetlinkRdma:
      GTEST_SKIP() << "environment:netlink_rdma (no NETLINK_RDMA answer: ib_core not loaded)";
    case CopyOnFork::kNotReported:
      GTEST_SKIP() << "unsupported:rdma_nldev_copy_on_fork";
    case CopyOnFork::kOff:
    case CopyOnFork::kOn:
      break;
  }
  EXPECT_EQ(KernelCopyOnFork(), CopyOnFork::kOn) << Describe(KernelCopyOnFork()) << " (rule F4)";
}

// F6 (step 2): a second ibv_fork_init returns 0 and changes nothing.
TEST(ForkInit, SecondCallReturnsZero) {
  RINGCHECK_RULE("F6");
  ChildRun run = InFreshProcess({}, [&](ChildChannel& child) {
    child.Put(0, ibv_fork_init());
    child.Put(1, ibv_fork_init());
    child.Put(2, ibv_is_fork_initialized());
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_EQ(run.Value(0), 0) << "first call (rule F6)";
  EXPECT_EQ(run.Value(1), 0) << "second call (rule F6)";
  EXPECT_EQ(StatusName(run.Value(2)), StatusName(ExpectedForkStatus(true))) << "rule F6";
}

// What ibv_fork_init returns after a range call made it "too late" (F6):
// EINVAL (a positive errno), except on a copy-on-fork kernel from rdma-core
// v51 on, where the UNNEEDED check comes first and returns 0.
long TooLateResult() { return ForkInitTracksRanges() ? EINVAL : 0; }

// In a fresh process: `range_call` (named `name`) on one page before
// ibv_fork_init, which then must say it is too late (F6, F7).
void ExpectForkInitTooLateAfter(int (*range_call)(void*, size_t), const std::string& name) {
  Pages page(1);
  ASSERT_TRUE(page.ok());
  ChildRun run = InFreshProcess({}, [&](ChildChannel& child) {
    child.Put(0, range_call(page.page(0), PageSize()));
    child.Put(1, ibv_fork_init());
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_EQ(run.Value(0), 0) << name << " before init (rule F7)";
  EXPECT_EQ(run.Value(1), TooLateResult())
      << "ibv_fork_init after " << name << " (rule F6): got " << ErrnoName(run.Value(1));
}

// F6 (step 4), F7: ibv_dontfork_range before ibv_fork_init makes a later
// ibv_fork_init fail with EINVAL.
TEST(ForkInit, AfterDontforkRangeIsEinval) {
  RINGCHECK_RULE("F6 F7");
  ExpectForkInitTooLateAfter(ibv_dontfork_range, "ibv_dontfork_range");
}

// F7: ibv_dofork_range before init counts the same.
TEST(ForkInit, AfterDoforkRangeIsEinval) {
  RINGCHECK_RULE("F6 F7");
  ExpectForkInitTooLateAfter(ibv_dofork_range, "ibv_dofork_range");
}

// F7: before init a range call only notes that it is too late; it
// advises nothing, so the page stays in a child.
TEST(ForkInit, RangeCallBeforeInitAdvisesNothing) {
  RINGCHECK_RULE("F7");
  Pages page(1);
  ASSERT_TRUE(page.ok());
  ChildRun run = InFreshProcess({}, [&](ChildChannel& child) {
    ibv_dontfork_range(page.page(0), PageSize());
    child.Put(0, SeenByFork(page.page(0)));
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_EQ(PageSeen(run.Value(0)), kReadable) << "rule F7";
}

// F6 (step 3), F8: on a kernel that reports copy-on-fork, rdma-core v51 and
// later return 0 from ibv_fork_init without tracking anything; earlier
// releases still start tracking (while reporting UNNEEDED).
TEST(ForkInit, CopyOnForkKernelTracksOnlyBeforeV51) {
  RINGCHECK_RULE("F6 F8");
  if (KernelCopyOnFork() != CopyOnFork::kOn) {
    GTEST_SKIP() << "environment:rdma_copy_on_fork (" << Describe(KernelCopyOnFork()) << ")";
  }
  const int release = LibibverbsRelease();
  ASSERT_GT(release, 0) << "cannot read the libibverbs release from its file name";
  Pages page(1);
  ASSERT_TRUE(page.ok());
  ChildRun run = InFreshProcess({}, [&](ChildChannel& child) {
    child.Put(0, ibv_fork_init());
    child.Put(1, ibv_dontfork_range(page.page(0), PageSize()));
    child.Put(2, SeenByFork(page.page(0)));
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_EQ(run.Value(0), 0) << "rule F6";
  EXPECT_EQ(run.Value(1), 0) << "rule F10";
  EXPECT_EQ(PageSeen(run.Value(2)), release >= 51 ? kReadable : kFaults)
      << "libibverbs v" << release << " (rule " << (release >= 51 ? "F6" : "F8") << ")";
}

// F12: setting RDMAV_HUGEPAGES_SAFE after tracking started and calling
// ibv_fork_init again returns 0; tracking of small pages is unchanged.
TEST(ForkInit, HugepagesSafeSetLaterReturnsZero) {
  RINGCHECK_RULE("F12");
  Pages pages(3);
  ASSERT_TRUE(pages.ok());
  ChildRun run = InFreshProcess({}, [&](ChildChannel& child) {
    child.Put(0, ibv_fork_init());
    setenv("RDMAV_HUGEPAGES_SAFE", "1", 1);
    child.Put(1, ibv_fork_init());
    child.Put(2, ibv_dontfork_range(pages.page(1), PageSize()));
    child.Put(3, SeenByFork(pages.page(1)));
    child.Put(4, SeenByFork(pages.page(2)));
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_EQ(run.Value(0), 0) << "rule F6";
  EXPECT_EQ(run.Value(1), 0) << "second ibv_fork_init with RDMAV_HUGEPAGES_SAFE (rule F12)";
  EXPECT_EQ(run.Value(2), 0) << "rule F10";
  if (ForkInitTracksRanges()) {
    EXPECT_EQ(PageSeen(run.Value(3)), kFaults) << "the marked page (rule F10)";
  }
  EXPECT_EQ(PageSeen(run.Value(4)), kReadable) << "the next page (rule F10)";
}

}  // namespace
}  // namespace ringcheck
