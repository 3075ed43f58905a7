// Memory registration and fork with a real RDMA device (soft-RoCE will do):
// ibv_reg_mr marks the registered pages, ibv_dereg_mr unmarks them, and a
// registration made before ibv_fork_init makes it too late (ibv_fork_init(3);
// rules F7, F10 of spec/verbs.md). Without a device these SKIP.
#include <gtest/gtest.h>

#include <cerrno>
#include <functional>

#include "harness/errno_names.h"
#include "harness/in_child.h"
#include "harness/matchers.h"
#include "harness/pages.h"
#include "suites/verbs/verbs_support.h"

namespace ringcheck {
namespace {

// In the fresh child: the first device, opened, with a protection domain;
// released in reverse order.
class Device {
 public:
  Device() {
    int n = 0;
    list_ = ibv_get_device_list(&n);
    if (list_ == nullptr || n == 0) return;
    context_ = ibv_open_device(list_[0]);
    if (context_ != nullptr) pd_ = ibv_alloc_pd(context_);
  }
  ~Device() {
    if (pd_ != nullptr) ibv_dealloc_pd(pd_);
    if (context_ != nullptr) ibv_close_device(context_);
    if (list_ != nullptr) ibv_free_device_list(list_);
  }
  ibv_pd* pd() const { return pd_; }

 private:
  ibv_device** list_ = nullptr;
  ibv_context* context_ = nullptr;
  ibv_pd* pd_ = nullptr;
};

// F10: ibv_reg_mr after ibv_fork_init marks the registered page: gone in a
// child, while the page next to it stays.
TEST(RegisteredMr, PagesFaultInChildAfterForkInit) {
  RINGCHECK_RULE("F10");
  REQUIRE_RDMA_DEVICE();
  if (!ForkInitTracksRanges()) {
    GTEST_SKIP() << "environment:rdma_copy_on_fork (libibverbs does not track ranges here)";
  }
  Pages pages(3);
  ASSERT_TRUE(pages.ok());
  ChildRun run = InFreshProcess({}, [&](ChildChannel& child) {
    child.Put(0, ibv_fork_init());
    Device dev;
    ASSERT_NE(dev.pd(), nullptr) << "no protection domain on the first RDMA device";
    ibv_mr* mr = ibv_reg_mr(dev.pd(), pages.page(1), PageSize(), IBV_ACCESS_LOCAL_WRITE);
    ASSERT_NE(mr, nullptr) << "ibv_reg_mr: " << ErrnoName(errno);
    child.Put(2, SeenByFork(pages.page(1)));
    child.Put(3, SeenByFork(pages.page(2)));
    ibv_dereg_mr(mr);
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_EQ(run.Value(0), 0) << "rule F6";
  EXPECT_EQ(PageSeen(run.Value(2)), kFaults) << "the registered page (rule F10)";
  EXPECT_EQ(PageSeen(run.Value(3)), kReadable) << "the page after it (rule F10)";
}

// F10: ibv_dereg_mr unmarks the pages again.
TEST(RegisteredMr, DeregBringsThePageBack) {
  RINGCHECK_RULE("F10");
  REQUIRE_RDMA_DEVICE();
  if (!ForkInitTracksRanges()) {
    GTEST_SKIP() << "environment:rdma_copy_on_fork (libibverbs does not track ranges here)";
  }
  Pages pages(1);
  ASSERT_TRUE(pages.ok());
  ChildRun run = InFreshProcess({}, [&](ChildChannel& child) {
    child.Put(0, ibv_fork_init());
    Device dev;
    ASSERT_NE(dev.pd(), nullptr) << "no protection domain on the first RDMA device";
    ibv_mr* mr = ibv_reg_mr(dev.pd(), pages.page(0), PageSize(), IBV_ACCESS_LOCAL_WRITE);
    ASSERT_NE(mr, nullptr) << "ibv_reg_mr: " << ErrnoName(errno);
    child.Put(2, SeenByFork(pages.page(0)));
    child.Put(3, ibv_dereg_mr(mr));
    child.Put(4, SeenByFork(pages.page(0)));
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_EQ(run.Value(0), 0) << "rule F6";
  EXPECT_EQ(PageSeen(run.Value(2)), kFaults) << "while registered (rule F10)";
  EXPECT_EQ(run.Value(3), 0) << "ibv_dereg_mr";
  EXPECT_EQ(PageSeen(run.Value(4)), kReadable) << "after ibv_dereg_mr (rule F10)";
}

// F7: a memory registration before ibv_fork_init makes ibv_fork_init fail
// with EINVAL (except where a copy-on-fork kernel makes it return 0 first).
TEST(ForkInit, AfterRegMrIsEinval) {
  RINGCHECK_RULE("F6 F7");
  REQUIRE_RDMA_DEVICE();
  Pages pages(1);
  ASSERT_TRUE(pages.ok());
  ChildRun run = InFreshProcess({}, [&](ChildChannel& child) {
    Device dev;
    ASSERT_NE(dev.pd(), nullptr) << "no protection domain on the first RDMA device";
    ibv_mr* mr = ibv_reg_mr(dev.pd(), pages.page(0), PageSize(), IBV_ACCESS_LOCAL_WRITE);
    ASSERT_NE(mr, nullptr) << "ibv_reg_mr: " << ErrnoName(errno);
    child.Put(1, ibv_fork_init());
    ibv_dereg_mr(mr);
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_EQ(run.Value(1), ForkInitTracksRanges() ? EINVAL : 0) << "rule F7";
}

}  // namespace
}  // namespace ringcheck
