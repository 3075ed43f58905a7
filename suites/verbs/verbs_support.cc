#include "suites/verbs/verbs_support.h"

#include <dlfcn.h>
#include <linux/netlink.h>
#include <rdma/rdma_netlink.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>

#include "harness/child.h"
#include "harness/in_child.h"
#include "harness/fd.h"

namespace ringcheck {
namespace {

constexpr uint16_t kSysGet = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_SYS_GET);

// Looks for the copy-on-fork attribute in one SYS_GET reply.
CopyOnFork ParseSysGet(const nlmsghdr* h) {
  const char* p = static_cast<const char*>(NLMSG_DATA(h));
  int left = static_cast<int>(NLMSG_PAYLOAD(h, 0));
  while (left >= static_cast<int>(NLA_HDRLEN)) {
    const auto* a = reinterpret_cast<const nlattr*>(p);
    if (a->nla_len < NLA_HDRLEN || a->nla_len > left) break;
    if ((a->nla_type & NLA_TYPE_MASK) == RDMA_NLDEV_SYS_ATTR_COPY_ON_FORK &&
        a->nla_len >= NLA_HDRLEN + 1) {
      uint8_t v = *reinterpret_cast<const uint8_t*>(p + NLA_HDRLEN);
      return v != 0 ? CopyOnFork::kOn : CopyOnFork::kOff;
    }
    int step = NLA_ALIGN(a->nla_len);
    p += step;
    left -= step;
  }
  return CopyOnFork::kNotReported;
}

CopyOnFork AskKernel() {
  UniqueFd sock(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_RDMA));
  if (!sock.valid()) return CopyOnFork::kNoNetlinkRdma;
  timeval tv = {2, 0};
  setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_nl kernel = {};
  kernel.nl_family = AF_NETLINK;
  nlmsghdr req = {};
  req.nlmsg_len = NLMSG_LENGTH(0);
  req.nlmsg_type = kSysGet;
  req.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  req.nlmsg_seq = 1;
  if (sendto(sock.get(), &req, req.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel),
             sizeof kernel) < 0) {
    return CopyOnFork::kNoNetlinkRdma;
  }
  CopyOnFork answer = CopyOnFork::kNoNetlinkRdma;
  alignas(nlmsghdr) char buf[16384];
  for (;;) {
    ssize_t n = recv(sock.get(), buf, sizeof buf, 0);
    if (n <= 0) return answer;
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != req.nlmsg_seq) continue;
      if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE) return answer;
      if (h->nlmsg_type == kSysGet) answer = ParseSysGet(h);
    }
  }
}

}  // namespace

CopyOnFork KernelCopyOnFork() {
  static const CopyOnFork answer = AskKernel();
  return answer;
}

const char* Describe(CopyOnFork c) {
  switch (c) {
    case CopyOnFork::kNoNetlinkRdma: return "no NETLINK_RDMA answer";
    case CopyOnFork::kNotReported: return "copy-on-fork not reported";
    case CopyOnFork::kOff: return "copy-on-fork reported 0";
    case CopyOnFork::kOn: return "copy-on-fork reported 1";
  }
  return "?";
}

int LibibverbsRelease() {
  Dl_info info = {};
  if (dladdr(reinterpret_cast<void*>(&ibv_fork_init), &info) == 0 || info.dli_fname == nullptr) {
    return -1;
  }
  char* real = realpath(info.dli_fname, nullptr);
  if (real == nullptr) return -1;
  std::string path = real;
  std::free(real);
  const std::string marker = "libibverbs.so.1.";
  size_t at = path.rfind(marker);
  if (at == std::string::npos) return -1;
  unsigned abi = 0, release = 0;
  if (std::sscanf(path.c_str() + at + marker.size(), "%u.%u", &abi, &release) != 2) return -1;
  return static_cast<int>(release);
}

ibv_fork_status ExpectedForkStatus(bool initialised) {
  if (KernelCopyOnFork() == CopyOnFork::kOn) return IBV_FORK_UNNEEDED;
  return initialised ? IBV_FORK_ENABLED : IBV_FORK_DISABLED;
}

std::string StatusName(long status) {
  switch (status) {
    case IBV_FORK_DISABLED: return "IBV_FORK_DISABLED";
    case IBV_FORK_ENABLED: return "IBV_FORK_ENABLED";
    case IBV_FORK_UNNEEDED: return "IBV_FORK_UNNEEDED";
    case ChildRun::kUnset: return "(not reached)";
  }
  return "ibv_fork_status " + std::to_string(status);
}

bool ForkInitTracksRanges() {
  return KernelCopyOnFork() != CopyOnFork::kOn || LibibverbsRelease() < 51;
}

ChildRun InFreshProcess(const VerbsEnv& env, const std::function<void(ChildChannel&)>& body) {
  return InChild([&](ChildChannel& child) {
    for (const char* var :
         {"RDMAV_FORK_SAFE", "IBV_FORK_SAFE", "RDMAV_HUGEPAGES_SAFE", "RDMAV_USE_MADVISE"}) {
      unsetenv(var);
    }
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    // Tracking already on means some earlier code in the test process used
    // libibverbs: then this child is not fresh and proves nothing.
    if (ibv_is_fork_initialized() == IBV_FORK_ENABLED) {
      child.Fail("libibverbs fork tracking was already on before the test (the test process "
                 "must not call libibverbs itself)");
      return;
    }
    body(child);
  });
}

long SeenByFork(const void* addr) {
  ChildOutcome o = RunInChild([addr] {
    prctl(PR_SET_DUMPABLE, 0);
    TouchByte(addr);
    return 0;
  });
  if (o.ExitedWith(0)) return 1;
  if (o.KilledBy(SIGSEGV)) return 0;
  return -1;
}

std::string PageSeen(long seen) {
  if (seen == 1) return kReadable;
  if (seen == 0) return kFaults;
  if (seen == ChildRun::kUnset) return "(not reached)";
  return "neither readable nor SIGSEGV";
}

int RdmaDeviceCount() {
  static int count = [] {
    ChildRun run = InFreshProcess({}, [](ChildChannel& child) {
      int n = 0;
      ibv_device** list = ibv_get_device_list(&n);
      child.Put(0, list != nullptr ? n : 0);
      if (list != nullptr) ibv_free_device_list(list);
    });
    return ChildRanCleanly(run) ? static_cast<int>(run.Value(0)) : -1;
  }();
  return count;
}

}  // namespace ringcheck
