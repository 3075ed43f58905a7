// What the verbs tests stand on: libibverbs state is per process and set
// once (fork tracking, the environment read at the first
// ibv_get_device_list), so every libibverbs call happens in a forked child of
// a test process that never calls libibverbs itself; and the kernel's own
// answer about copy-on-fork, asked the way rdma-core asks it.
#ifndef RINGCHECK_SUITES_VERBS_VERBS_SUPPORT_H_
#define RINGCHECK_SUITES_VERBS_VERBS_SUPPORT_H_

#include <gtest/gtest.h>
#include <infiniband/verbs.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "harness/in_child.h"

// Exported by libibverbs since IBVERBS_1.1 but declared only in headers that
// Debian's libibverbs-dev no longer installs.
extern "C" int ibv_dontfork_range(void* base, size_t size);
extern "C" int ibv_dofork_range(void* base, size_t size);

namespace ringcheck {

// RDMA_NLDEV_CMD_SYS_GET's RDMA_NLDEV_SYS_ATTR_COPY_ON_FORK (rules F3, F4).
enum class CopyOnFork {
  kNoNetlinkRdma,  // no NETLINK_RDMA socket or no answer (ib_core not loaded)
  kNotReported,    // an answer without the attribute (kernel before 5.13)
  kOff,            // the attribute, 0
  kOn,             // the attribute, non-zero
};
CopyOnFork KernelCopyOnFork();  // asked once per test process
const char* Describe(CopyOnFork c);

// The libibverbs release (rdma-core vNN) from the loaded library's file name
// (libibverbs.so.1.14.NN.0); -1 when it cannot be read.
int LibibverbsRelease();

// What ibv_is_fork_initialized() must say on this kernel (rule F2):
// UNNEEDED when the kernel reports copy-on-fork, else ENABLED once fork
// tracking is initialised and DISABLED before.
ibv_fork_status ExpectedForkStatus(bool initialised);
std::string StatusName(long status);

// Whether ibv_fork_init() really starts range tracking here: not on a
// copy-on-fork kernel from rdma-core v51 on (rule F6, step 3).
bool ForkInitTracksRanges();

using VerbsEnv = std::vector<std::pair<std::string, std::string>>;

// Runs `body` in a forked child with a libibverbs nobody has used yet, with
// RDMAV_FORK_SAFE, IBV_FORK_SAFE, RDMAV_HUGEPAGES_SAFE and RDMAV_USE_MADVISE
// removed from the environment and then `env` set: read the run with
// ASSERT_CHILD_RAN. A child whose libibverbs is not fresh fails.
ChildRun InFreshProcess(const VerbsEnv& env, const std::function<void(ChildChannel&)>& body);

// In a child: what a fork made now sees at `addr`: 1 readable, 0 SIGSEGV,
// -1 anything else. PageSeen names such a value for assertion messages.
long SeenByFork(const void* addr);
std::string PageSeen(long seen);
constexpr const char* kReadable = "readable";
constexpr const char* kFaults = "SIGSEGV";

// Number of RDMA devices libibverbs lists (asked in a fresh child, once);
// -1 when that child failed.
int RdmaDeviceCount();

}  // namespace ringcheck

// SKIPs unless libibverbs lists at least one RDMA device.
#define REQUIRE_RDMA_DEVICE()                                                        \
  do {                                                                               \
    const int ringcheck_devices_ = ::ringcheck::RdmaDeviceCount();                   \
    if (ringcheck_devices_ < 0) FAIL() << "the child listing RDMA devices failed";   \
    if (ringcheck_devices_ == 0) {                                                   \
      GTEST_SKIP() << "device:rdma (ibv_get_device_list lists no RDMA device)";      \
    }                                                                                \
  } while (0)

#endif  // RINGCHECK_SUITES_VERBS_VERBS_SUPPORT_H_
