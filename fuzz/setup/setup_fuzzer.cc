// libFuzzer target: io_uring_setup with every flag, entries, cq_entries,
// sq_thread_cpu, wq_fd and NO_MMAP memory, against ExpectedSetupResult (a
// model of spec section E). Cases the model does not cover are skipped.
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "fuzz/common/byte_reader.h"
#include "fuzz/common/oracle.h"
#include "fuzz/setup/setup_model.h"
#include "harness/capabilities.h"
#include "harness/errno_names.h"
#include "harness/features.h"
#include "harness/setup_call.h"

namespace ringcheck::fuzz {
namespace {

constexpr size_t kRegion = 4u << 20;  // SQEs or rings of the largest ring

struct State {
  bool usable = false;
  SetupEnv env;
  io_uring helper;     // a plain ring: ATTACH_WQ target, registered-slot filler
  int pipe_fd = -1;    // open, but not an io_uring
  char* memory = nullptr;    // 2 * kRegion, MAP_SHARED
  char* unmapped = nullptr;  // 2 * kRegion, PROT_NONE
  void* bad_params = nullptr;
};
State* S = nullptr;

void Init() {
  S = new State();
  const Capabilities& caps = Caps();
  if (!caps.usable()) {
    std::fprintf(stderr, "ringcheck setup fuzzer: io_uring is not usable here; inputs are ignored\n");
    return;
  }
  for (unsigned bit = 0; bit < 21; ++bit) {
    auto it = caps.setup_results.find(SetupFlagName(1u << bit));
    if (it == caps.setup_results.end()) continue;
    if (it->second == 0) S->env.known_flags |= 1u << bit;
    if (it->second == -EINVAL) S->env.unknown_flags |= 1u << bit;
  }
  S->env.io_uring_disabled = caps.io_uring_disabled < 0 ? 0 : caps.io_uring_disabled;
  S->env.cap_sys_admin = caps.cap_sys_admin;
  S->env.nr_cpu_ids = static_cast<unsigned>(sysconf(_SC_NPROCESSORS_CONF));
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof set, &set);
  for (unsigned i = 0; i < 1024 && i < CPU_SETSIZE; ++i) S->env.cpu_allowed[i] = CPU_ISSET(i, &set);
  if (io_uring_queue_init(4, &S->helper, 0) < 0) HarnessFail("creating the helper ring");
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) HarnessFail("creating a pipe");
  S->pipe_fd = p[0];
  S->memory = static_cast<char*>(mmap(nullptr, 2 * kRegion, PROT_READ | PROT_WRITE,
                                      MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  S->unmapped = static_cast<char*>(mmap(nullptr, 2 * kRegion, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  S->bad_params = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (S->memory == MAP_FAILED || S->unmapped == MAP_FAILED || S->bad_params == MAP_FAILED)
    HarnessFail("mapping ring memory");
  S->usable = true;
}

unsigned Count(ByteReader& in) {
  static const unsigned kCounts[] = {0, 1, 2, 3, 4, 7, 8, 64, 4096, 4097, 32767, 32768, 32769,
                                     65535, 65536, 65537, 0x7fffffff, 0xffffffff};
  const uint8_t sel = in.U8();
  return sel < 224 ? kCounts[sel % (sizeof kCounts / sizeof *kCounts)] : in.U32();
}

SetupCase Decode(const uint8_t* data, size_t size) {
  ByteReader in(data, size);
  SetupCase c;
  c.entries = Count(in);
  uint32_t flags = in.U32();
  const uint8_t knobs = in.U8();
  if ((knobs & 0xf) != 0xf) flags &= (1u << 21) - 1;  // unknown bits, one time in 16
  // SQPOLL starts a kernel thread per ring: keep it to one input in four.
  if ((knobs & 0x30) != 0x30) flags &= ~IORING_SETUP_SQPOLL;
  c.params.flags = flags;
  c.params.cq_entries = Count(in);
  const unsigned cpus[] = {0, 1, S->env.nr_cpu_ids - 1, S->env.nr_cpu_ids, 9999, 0xffffffff};
  c.params.sq_thread_cpu = cpus[in.Below(6)];
  c.params.sq_thread_idle = in.U8();
  static const WqFd kWq[] = {WqFd::kRing, WqFd::kNotOpen, WqFd::kNotRing, WqFd::kNone};
  c.wq = in.Pick(kWq);
  static const RingMemory kMem[] = {RingMemory::kValid, RingMemory::kValid, RingMemory::kZero,
                                    RingMemory::kMisaligned, RingMemory::kUnmapped};
  if (flags & IORING_SETUP_NO_MMAP) c.memory = in.Pick(kMem);
  const uint8_t rare = in.U8();
  if (rare == 0xff) c.params.resv[rare % 3] = 1;
  c.params_unreadable = rare == 0xfe;
  c.slots_full = (flags & IORING_SETUP_REGISTERED_FD_ONLY) && (rare & 7) == 7;
  return c;
}

int Perform(SetupCase& c) {
  io_uring_params& p = c.params;
  switch (c.wq) {
    case WqFd::kRing: p.wq_fd = static_cast<uint32_t>(S->helper.ring_fd); break;
    case WqFd::kNotOpen: p.wq_fd = 9999; break;  // beyond RLIMIT_NOFILE
    case WqFd::kNotRing: p.wq_fd = static_cast<uint32_t>(S->pipe_fd); break;
    case WqFd::kNone: p.wq_fd = 0; break;
  }
  char* base = c.memory == RingMemory::kUnmapped ? S->unmapped : S->memory;
  const uint64_t skew = c.memory == RingMemory::kMisaligned ? 8 : 0;
  if (c.memory != RingMemory::kZero && c.memory != RingMemory::kNone) {
    p.sq_off.user_addr = reinterpret_cast<uint64_t>(base) + skew;
    p.cq_off.user_addr = reinterpret_cast<uint64_t>(base + kRegion) + skew;
  }
  if (c.params_unreadable) {
    long ret = syscall(__NR_io_uring_setup, c.entries, S->bad_params);
    if (ret >= 0) close(static_cast<int>(ret));
    return ret < 0 ? -errno : static_cast<int>(ret);
  }
  io_uring_rsrc_update slots[16];
  int filled = 0;
  if (c.slots_full) {
    std::memset(slots, 0, sizeof slots);
    for (auto& s : slots) {
      s.offset = -1U;
      s.data = static_cast<uint64_t>(S->helper.ring_fd);
    }
    filled = io_uring_register(static_cast<unsigned>(S->helper.ring_fd), IORING_REGISTER_RING_FDS, slots, 16);
    if (filled != 16) HarnessFail("filling the 16 registered-ring slots: " + ResultName(filled));
  }
  SetupAttempt a = TrySetup(c.entries, p, /*provide_memory=*/false);
  if (filled > 0) {
    for (auto& s : slots) s.data = 0;
    io_uring_register(static_cast<unsigned>(S->helper.ring_fd), IORING_UNREGISTER_RING_FDS, slots, 16);
  }
  p = a.params;
  return a.result;
}

std::string CaseString(const SetupCase& c) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "entries %u flags %s cq_entries %u sq_thread_cpu %u wq %d memory %d",
                c.entries, SetupFlagsString(c.params.flags).c_str(), c.params.cq_entries,
                c.params.sq_thread_cpu, static_cast<int>(c.wq), static_cast<int>(c.memory));
  return buf;
}

}  // namespace
}  // namespace ringcheck::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ringcheck;
  using namespace ringcheck::fuzz;
  if (S == nullptr) Init();
  if (!S->usable) return 0;
  LogInputStart("setup", data, size);
  SetupCase c = Decode(data, size);
  const Expected want = ExpectedSetupResult(c, S->env);
  const SetupCase asked = c;
  const int got = Perform(c);
  uint32_t rule = 0;
  for (const char* r = want.rule; *r; ++r) rule = rule * 31 + static_cast<uint8_t>(*r);
  CountFeature(rule ^ (ResultClass(got < 0 ? got : 0) << 20) ^ (want.known ? 1u << 30 : 0));
  if (want.known) {
    const int got_class = got < 0 ? got : 0;
    // Resource exhaustion is outside the model.
    const bool exhausted = want.result == 0 && got == -ENOMEM;
    if (got_class != want.result && !exhausted) {
      OracleFail("setup-differential",
                 std::string("rule ") + want.rule + " expects " + ResultName(want.result) + ", the kernel returned " +
                     ResultName(got_class),
                 CaseString(asked));
    }
    if (want.result == 0 && got >= 0) {
      if (c.params.sq_entries != want.sq_entries || c.params.cq_entries != want.cq_entries) {
        OracleFail("setup-params", "sq_entries/cq_entries differ from rules E15/E19",
                   CaseString(asked) + " got sq " + std::to_string(c.params.sq_entries) + " cq " +
                       std::to_string(c.params.cq_entries) + ", expected sq " + std::to_string(want.sq_entries) +
                       " cq " + std::to_string(want.cq_entries));
      }
      if (c.params.features != Caps().features) {
        OracleFail("setup-params", "features differ from the probe's plain ring", CaseString(asked));
      }
    }
  }
  CheckKernelLog("setup");
  NoteExec("setup");
  return 0;
}
