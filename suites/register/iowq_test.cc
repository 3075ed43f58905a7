// IORING_REGISTER_IOWQ_AFF, UNREGISTER_IOWQ_AFF and IOWQ_MAX_WORKERS
// (io_uring_register(2), io_uring_register_iowq_aff(3),
// io_uring_register_iowq_max_workers(3); kernel register.c
// io_register_iowq_aff, io_register_iowq_max_workers; io-wq.c
// io_wq_cpu_affinity, io_wq_max_workers; sqpoll.c io_sqpoll_wq_cpu_affinity).
#include <dirent.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <fstream>
#include <string>
#include <vector>

#include "harness/configs.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/register/register_util.h"

namespace ringcheck {
namespace {

// Thread ids of this process's io-wq workers (comm "iou-wrk-<pid>").
std::vector<pid_t> IoWqWorkers() {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream comm(std::string("/proc/self/task/") + e->d_name + "/comm");
    std::string name;
    std::getline(comm, name);
    if (name.rfind("iou-wrk-", 0) == 0) out.push_back(std::stoi(e->d_name));
  }
  closedir(d);
  return out;
}

class IoWq : public RingTest {
 protected:
  void SetUp() override {
    RingTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // The task's io-wq exists once it has submitted to a ring.
    ASSERT_EQ(SubmitNops(ring(), 1), 1);
    ASSERT_EQ(ring().Reap(1).size(), 1u);
  }
};

// J53: IOWQ_AFF needs a mask: arg NULL or length 0 is -EINVAL.
TEST_P(IoWq, AffinityNeedsAMask) {
  RINGCHECK_RULE("J53");
  REQUIRE_FEATURE("register_iowq_aff");
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_IOWQ_AFF, nullptr, sizeof(set)), -EINVAL,
                "J53: NULL");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_IOWQ_AFF, &set, 0), -EINVAL, "J53: 0");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_IOWQ_AFF, &set, sizeof(set)), 0, "J53");
}

// J54: UNREGISTER_IOWQ_AFF takes no argument and resets the mask.
TEST_P(IoWq, UnregisterAffinity) {
  RINGCHECK_RULE("J54");
  REQUIRE_FEATURE("register_unregister_iowq_aff");
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_IOWQ_AFF, &set, 0), -EINVAL, "J54");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_IOWQ_AFF, nullptr, 1), -EINVAL, "J54");
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_IOWQ_AFF, &set, sizeof(set)), 0, "J53");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_IOWQ_AFF, nullptr, 0), 0, "J54");
}

// J55: IOWQ_MAX_WORKERS wants two counts; counts above INT_MAX are -EINVAL;
// {0, 0} reads the limits; a new pair returns the old one.
TEST_P(IoWq, MaxWorkersArgumentsAreValidated) {
  RINGCHECK_RULE("J55");
  REQUIRE_FEATURE("register_iowq_max_workers");
  unsigned counts[2] = {0, 0};
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_IOWQ_MAX_WORKERS, counts, 1), -EINVAL,
                "J55: nr_args 1");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_IOWQ_MAX_WORKERS, nullptr, 2), -EINVAL,
                "J55: NULL");
  unsigned huge[2] = {static_cast<unsigned>(INT_MAX) + 1u, 0};
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_IOWQ_MAX_WORKERS, huge, 2), -EINVAL,
                "J55: above INT_MAX");
}

TEST_P(IoWq, MaxWorkersReadsAndSetsBothLimits) {
  RINGCHECK_RULE("J55 J56");
  REQUIRE_FEATURE("register_iowq_max_workers");
  unsigned before[2] = {0, 0};
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_IOWQ_MAX_WORKERS, before, 2), 0, "J55");
  EXPECT_GT(before[0], 0u) << "J55: bounded limit read as 0";
  EXPECT_GT(before[1], 0u) << "J55: unbounded limit read as 0";
  unsigned set[2] = {2, 3};
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_IOWQ_MAX_WORKERS, set, 2), 0, "J55");
  EXPECT_EQ(set[0], before[0]) << "J55: the old bounded limit comes back";
  EXPECT_EQ(set[1], before[1]) << "J55: the old unbounded limit comes back";
  unsigned only_bounded[2] = {5, 0};
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_IOWQ_MAX_WORKERS, only_bounded, 2), 0,
                "J55");
  EXPECT_EQ(only_bounded[0], 2u) << "J55";
  EXPECT_EQ(only_bounded[1], 3u) << "J55";
  unsigned after[2] = {0, 0};
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_IOWQ_MAX_WORKERS, after, 2), 0, "J55");
  EXPECT_EQ(after[0], 5u) << "J55: bounded set to 5";
  EXPECT_EQ(after[1], 3u) << "J55: a 0 leaves the unbounded limit alone";
}

INSTANTIATE_TEST_SUITE_P(Rings, IoWq,
                         ::testing::Values(ConfigNamed("default"), ConfigNamed("sqpoll"),
                                           ConfigNamed("coop_taskrun"),
                                           ConfigNamed("defer_taskrun_single_issuer")),
                         ConfigParamName);

// J53: io-wq workers of a ring run on the registered CPUs.
TEST(IoWqAffinity, WorkersRunOnTheRegisteredCpus) {
  RINGCHECK_RULE("J53");
  REQUIRE_FEATURE("register_iowq_aff");
  int cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  if (cpus < 2) GTEST_SKIP() << "environment:cpus (one CPU: every mask is the full set)";
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  ASSERT_EQ(SubmitNops(*ring, 1), 1);
  ring->Reap(1);
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(1, &set);
  ASSERT_RESULT(RegisterRaw(ring->fd(), IORING_REGISTER_IOWQ_AFF, &set, sizeof(set)), 0, "J53");
  Pipe p;
  char buf[1];
  SubmitOne(*ring, [&](io_uring_sqe* sqe) {
    io_uring_prep_read(sqe, p.read_fd, buf, 1, 0);
    sqe->flags |= IOSQE_ASYNC;
    sqe->user_data = 9;
  });
  std::vector<pid_t> workers;
  int64_t deadline = MonotonicNs() + 5'000'000'000;
  while ((workers = IoWqWorkers()).empty() && MonotonicNs() < deadline) sched_yield();
  ASSERT_FALSE(workers.empty()) << "no io-wq worker appeared for an IOSQE_ASYNC read";
  for (pid_t tid : workers) {
    cpu_set_t got;
    CPU_ZERO(&got);
    ASSERT_EQ(sched_getaffinity(tid, sizeof(got), &got), 0);
    EXPECT_TRUE(CPU_EQUAL(&got, &set)) << "J53: worker " << tid << " may run on "
                                       << CPU_COUNT(&got) << " CPUs";
  }
  ASSERT_EQ(write(p.write_fd, "x", 1), 1);
  EXPECT_RESULT(ReapOne(*ring).res, 1, "J53");
}

}  // namespace
}  // namespace ringcheck
