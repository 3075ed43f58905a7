#include "harness/configs.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "harness/capabilities.h"
#include "harness/errno_names.h"
#include "harness/features.h"
#include "harness/hugepages.h"
#include "harness/uapi.h"

namespace ringcheck {
namespace {

std::vector<RingConfig> BuildMatrix() {
  auto cfg = [](const char* name, uint32_t flags) {
    RingConfig c;
    c.name = name;
    c.flags = flags;
    return c;
  };
  std::vector<RingConfig> m;
  m.push_back(cfg("default", 0));
  RingConfig sqpoll = cfg("sqpoll", IORING_SETUP_SQPOLL);
  sqpoll.sq_thread_idle = kSqThreadIdleMs;
  m.push_back(sqpoll);
  m.push_back(cfg("iopoll", IORING_SETUP_IOPOLL));
  m.push_back(cfg("hybrid_iopoll", IORING_SETUP_IOPOLL | IORING_SETUP_HYBRID_IOPOLL));
  m.push_back(cfg("coop_taskrun", IORING_SETUP_COOP_TASKRUN));
  m.push_back(cfg("coop_taskrun_taskrun_flag", IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG));
  m.push_back(cfg("single_issuer", IORING_SETUP_SINGLE_ISSUER));
  m.push_back(cfg("defer_taskrun_single_issuer", IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER));
  m.push_back(cfg("submit_all", IORING_SETUP_SUBMIT_ALL));
  m.push_back(cfg("sqe128", IORING_SETUP_SQE128));
  m.push_back(cfg("cqe32", IORING_SETUP_CQE32));
  m.push_back(cfg("sqe128_cqe32", IORING_SETUP_SQE128 | IORING_SETUP_CQE32));
  RingConfig no_mmap = cfg("no_mmap", 0);
  no_mmap.mapping = Mapping::kNoMmapLiburing;
  m.push_back(no_mmap);
  RingConfig user_mem = cfg("no_mmap_user_memory", 0);
  user_mem.mapping = Mapping::kNoMmapUser;
  m.push_back(user_mem);
  m.push_back(cfg("no_sqarray", IORING_SETUP_NO_SQARRAY));
  // The caller's memory: liburing 2.9 takes its own NO_MMAP memory from a
  // huge page, which most machines do not have.
  RingConfig fd_only = cfg("registered_fd_only_no_mmap", IORING_SETUP_REGISTERED_FD_ONLY);
  fd_only.mapping = Mapping::kNoMmapUser;
  m.push_back(fd_only);
  m.push_back(cfg("cqe_mixed", IORING_SETUP_CQE_MIXED));
  m.push_back(cfg("r_disabled", IORING_SETUP_R_DISABLED));
  RingConfig clamp = cfg("clamp", IORING_SETUP_CLAMP);
  clamp.entries = 100000;  // above IORING_MAX_ENTRIES: clamped, not refused
  m.push_back(clamp);
  RingConfig cqsize = cfg("cqsize", 0);
  cqsize.cq_entries = 64;
  m.push_back(cqsize);
  return m;
}

}  // namespace

const std::vector<RingConfig>& AllRingConfigs() {
  static const std::vector<RingConfig>* all = new std::vector<RingConfig>(BuildMatrix());
  return *all;
}

const RingConfig& ConfigNamed(const std::string& name) {
  for (const RingConfig& c : AllRingConfigs()) {
    if (c.name == name) return c;
  }
  std::fprintf(stderr, "ringcheck: no ring configuration named '%s'\n", name.c_str());
  std::abort();
}

std::string ConfigParamName(const ::testing::TestParamInfo<RingConfig>& info) {
  return info.param.name;
}

std::string UnsupportedReason(const RingConfig& config) {
  if (!Caps().usable()) return "unsupported:io_uring (" + ResultName(Caps().setup_error) + ")";
  uint32_t missing = Caps().UnsupportedSetupFlags(config.SetupFlags());
  for (unsigned i = 0; i < 32; ++i) {
    if (missing & (1U << i)) {
      std::string name = SetupFlagName(1U << i);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      return "unsupported:setup_" + name;
    }
  }
  return "";
}

int CreateRingForTest(const RingConfig& config, std::unique_ptr<Ring>* out,
                      std::string* why_skip) {
  int ret = Ring::Create(config, out);
  if (ret < 0) *why_skip = UnsupportedReason(config);
  if (ret == -ENOMEM && why_skip->empty() && config.mapping == Mapping::kNoMmapLiburing &&
      FreeHugePages() <= 0) {
    *why_skip = "environment:hugepages (liburing " + Caps().liburing_version +
                " allocates NO_MMAP ring memory from a 2 MiB huge page; none is free and none "
                "could be added to the pool)";
  }
  return ret;
}

void RingTest::SetUp() {
  std::string why;
  int ret = CreateRingForTest(GetParam(), &ring_, &why);
  if (ret < 0) {
    if (!why.empty()) GTEST_SKIP() << why;
    FAIL() << "ring setup failed: " << ResultName(ret) << " with flags "
           << SetupFlagsString(GetParam().SetupFlags())
           << " although the kernel accepts each of them alone";
  }
  SetUpRing();
}

}  // namespace ringcheck
