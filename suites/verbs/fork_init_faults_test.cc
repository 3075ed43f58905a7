// ibv_fork_init's failure paths (rule F6, steps 5-8) and what a failed
// RDMAV_FORK_SAFE initialisation does (rule F9): libc's answers are changed
// under libibverbs by defining sysconf, posix_memalign, madvise and malloc
// in this binary, which the dynamic linker binds libibverbs' calls to. The
// definitions pass every call through to libc unless a test arms a fault,
// and each test runs in a forked child with a libibverbs nobody has used.
// This binary is its own (verbs_faults_test) so that nothing else runs over
// these definitions.
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <infiniband/verbs.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "harness/in_child.h"
#include "harness/matchers.h"
#include "harness/pages.h"
#include "suites/verbs/verbs_support.h"

namespace {

enum class Fault { kNone, kPageSize, kMemalign, kMadvise, kRootMalloc };
std::atomic<Fault> g_fault{Fault::kNone};
std::atomic<bool> g_fail_next_malloc{false};

}  // namespace

extern "C" {

// glibc's own entry points, which the definitions below pass calls on to.
long __sysconf(int name);
void* __libc_malloc(size_t size);

long sysconf(int name) {
  if (name == _SC_PAGESIZE && g_fault.load() == Fault::kPageSize) {
    errno = EINVAL;
    return -1;
  }
  return __sysconf(name);
}

int posix_memalign(void** out, size_t alignment, size_t size) {
  if (g_fault.load() == Fault::kMemalign) return ENOMEM;
  using Fn = int (*)(void**, size_t, size_t);
  static Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "posix_memalign"));
  return real(out, alignment, size);
}

int madvise(void* addr, size_t len, int advice) {
  if (g_fault.load() == Fault::kMadvise) {
    errno = EINVAL;
    return -1;
  }
  // ibv_fork_init's trial advises a scratch page DONTFORK, then DOFORK, and
  // then allocates the root of its range tree: fail that allocation.
  if (g_fault.load() == Fault::kRootMalloc && advice == MADV_DOFORK) g_fail_next_malloc = true;
  return static_cast<int>(syscall(SYS_madvise, addr, len, advice));
}

void* malloc(size_t size) {
  if (g_fail_next_malloc.exchange(false)) {
    errno = ENOMEM;
    return nullptr;
  }
  return __libc_malloc(size);
}

}  // extern "C"

namespace ringcheck {
namespace {

// In a fresh child: clears the fork-safety environment, arms `fault`, calls
// ibv_fork_init, and hands back its answer (slot 0) and the fork status
// after it (slot 1).
ChildRun ForkInitWith(Fault fault) {
  return InChild([fault](ChildChannel& child) {
    for (const char* var : {"RDMAV_FORK_SAFE", "IBV_FORK_SAFE", "RDMAV_HUGEPAGES_SAFE"}) unsetenv(var);
    g_fault = fault;
    const int ret = ibv_fork_init();
    g_fault = Fault::kNone;
    child.Put(0, ret);
    child.Put(1, ibv_is_fork_initialized());
  });
}

// Whether the kernel answers for copy-on-fork, which makes rdma-core v51 and
// later return before any of the steps tested here (F6 step 3).
bool StopsAtStepThree() { return !ForkInitTracksRanges(); }

#define SKIP_IF_STEP_THREE_ANSWERS()                                                   \
  if (StopsAtStepThree())                                                              \
  GTEST_SKIP() << "environment:copy-on-fork (the kernel reports copy-on-fork and this "  \
                  "libibverbs returns before allocating anything, F6 step 3)"

TEST(ForkInitFaults, PageSizeErrorIsReturned) {
  RINGCHECK_RULE("F6");
  SKIP_IF_STEP_THREE_ANSWERS();
  ChildRun run = ForkInitWith(Fault::kPageSize);
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), EINVAL, "F6 step 5: sysconf(_SC_PAGESIZE) fails with EINVAL");
  EXPECT_EQ(StatusName(run.Value(1)), StatusName(ExpectedForkStatus(false)))
      << "rule F6: nothing initialised (F2: UNNEEDED where the kernel reports copy-on-fork)";
}

TEST(ForkInitFaults, ScratchPageAllocationFailureIsEnomem) {
  RINGCHECK_RULE("F6");
  SKIP_IF_STEP_THREE_ANSWERS();
  ChildRun run = ForkInitWith(Fault::kMemalign);
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), ENOMEM, "F6 step 6: posix_memalign fails");
  EXPECT_EQ(StatusName(run.Value(1)), StatusName(ExpectedForkStatus(false)))
      << "rule F6: nothing initialised (F2: UNNEEDED where the kernel reports copy-on-fork)";
}

TEST(ForkInitFaults, TrialMadviseFailureIsEnosys) {
  RINGCHECK_RULE("F6");
  SKIP_IF_STEP_THREE_ANSWERS();
  ChildRun run = ForkInitWith(Fault::kMadvise);
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), ENOSYS, "F6 step 7: the trial madvise fails");
  EXPECT_EQ(StatusName(run.Value(1)), StatusName(ExpectedForkStatus(false)))
      << "rule F6: nothing initialised (F2: UNNEEDED where the kernel reports copy-on-fork)";
}

TEST(ForkInitFaults, TreeRootAllocationFailureIsEnomem) {
  RINGCHECK_RULE("F6");
  SKIP_IF_STEP_THREE_ANSWERS();
  ChildRun run = ForkInitWith(Fault::kRootMalloc);
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), ENOMEM, "F6 step 8: malloc of the tree root fails");
  EXPECT_EQ(StatusName(run.Value(1)), StatusName(ExpectedForkStatus(false)))
      << "rule F6: nothing initialised (F2: UNNEEDED where the kernel reports copy-on-fork)";
}

// The faults above change nothing when disarmed: the same call succeeds.
TEST(ForkInitFaults, WithoutAFaultInitSucceeds) {
  RINGCHECK_RULE("F6");
  ChildRun run = ForkInitWith(Fault::kNone);
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), 0, "F6");
  EXPECT_EQ(StatusName(run.Value(1)), StatusName(ExpectedForkStatus(true))) << "rule F6";
}

// F9: RDMAV_FORK_SAFE=1 with a range already marked before the first
// ibv_get_device_list: the ibv_fork_init that ibverbs_init calls fails
// (too late, F6 step 4), which only prints a warning; tracking stays off.
TEST(ForkSafeEnvFaults, FailedInitOnlyWarns) {
  RINGCHECK_RULE("F9 F6");
  SKIP_IF_STEP_THREE_ANSWERS();
  char log_template[] = "/tmp/ringcheck-verbs-stderr.XXXXXX";
  const int log = mkstemp(log_template);
  ASSERT_GE(log, 0);
  unlink(log_template);
  Pages page(1);
  ASSERT_TRUE(page.ok());
  ChildRun run = InChild([&](ChildChannel& child) {
    for (const char* var : {"IBV_FORK_SAFE", "RDMAV_HUGEPAGES_SAFE"}) unsetenv(var);
    setenv("RDMAV_FORK_SAFE", "1", 1);
    child.Put(0, ibv_dontfork_range(page.page(0), PageSize()));
    dup2(log, 2);
    int n = 0;
    ibv_device** list = ibv_get_device_list(&n);
    if (list != nullptr) ibv_free_device_list(list);
    child.Put(1, ibv_is_fork_initialized());
    child.Put(2, ibv_fork_init());
  });
  ASSERT_CHILD_RAN(run);
  std::ostringstream text;
  text << std::ifstream("/proc/self/fd/" + std::to_string(log)).rdbuf();
  close(log);
  EXPECT_RESULT(run.Value(0), 0, "F7: ibv_dontfork_range before any init");
  EXPECT_NE(text.str().find("fork()-safety requested but init failed"), std::string::npos)
      << "rule F9: the child's stderr was: " << text.str();
  EXPECT_EQ(StatusName(run.Value(1)), StatusName(ExpectedForkStatus(false)))
      << "rule F9: tracking stays off (F2: UNNEEDED where the kernel reports copy-on-fork)";
  EXPECT_RESULT(run.Value(2), EINVAL, "F6 step 4: too late, asked again");
}

}  // namespace
}  // namespace ringcheck
