#include "harness/capabilities.h"

#include "harness/probe_registry.h"

#include <fcntl.h>
#include <liburing.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

#include "harness/errno_names.h"
#include "harness/json.h"
#include "harness/setup_call.h"
#include "harness/uapi.h"

namespace ringcheck {
namespace {

constexpr unsigned kSetupFlagCount = 21;  // IOPOLL (bit 0) .. SQ_REWIND (bit 20)

std::string ReadFirstLine(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return "";
  return line;
}

int ReadIntFile(const char* path) {
  std::string line = ReadFirstLine(path);
  if (line.empty()) return -1;
  return std::atoi(line.c_str());
}

uint64_t EffectiveCaps() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CapEff:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  }
  return 0;
}

long HugePagesTotal() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("HugePages_Total:", 0) == 0) return std::stol(line.substr(16));
  }
  return 0;
}

// A page that is mapped but not accessible: any copy from it faults, so a
// register opcode the kernel knows answers -EFAULT instead of -EINVAL.
void* FaultingPointer() {
  static void* page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return page;
}

// io_uring_setup with one flag (and its companions); 0 or -errno.
int TrySetupFlag(uint32_t flag, int helper_ring_fd) {
  io_uring_params p;
  std::memset(&p, 0, sizeof p);
  p.flags = flag | SetupFlagCompanions(flag);
  if (p.flags & IORING_SETUP_CQSIZE) p.cq_entries = 16;
  if (p.flags & IORING_SETUP_ATTACH_WQ) p.wq_fd = static_cast<uint32_t>(helper_ring_fd);
  if (p.flags & IORING_SETUP_SQ_AFF) p.sq_thread_cpu = static_cast<uint32_t>(FirstAllowedCpu());
  int ret = TrySetup(4, p).result;
  return ret >= 0 ? 0 : ret;
}

// Harmless calls, one per register opcode: a kernel that knows the opcode
// answers something other than -EINVAL (mostly -EFAULT from the faulting
// argument, -ENXIO for "nothing registered", -EBADFD for an enabled ring).
struct RegisterProbe {
  unsigned opcode;
  std::function<int(int ring_fd, int defer_ring_fd)> call;
};

int Reg(int fd, unsigned op, const void* arg, unsigned nr) {
  return io_uring_register(static_cast<unsigned>(fd), op, const_cast<void*>(arg), nr);
}

std::vector<RegisterProbe> RegisterProbes() {
  void* bad = FaultingPointer();
  constexpr unsigned kRsrcRegSize = sizeof(io_uring_rsrc_register);
  constexpr unsigned kRsrcUpdSize = sizeof(io_uring_rsrc_update2);
  return {
      {IORING_REGISTER_BUFFERS, [](int fd, int) { return Reg(fd, IORING_REGISTER_BUFFERS, nullptr, 1); }},
      {IORING_UNREGISTER_BUFFERS, [](int fd, int) { return Reg(fd, IORING_UNREGISTER_BUFFERS, nullptr, 0); }},
      {IORING_REGISTER_FILES, [](int fd, int) { return Reg(fd, IORING_REGISTER_FILES, nullptr, 1); }},
      {IORING_UNREGISTER_FILES, [](int fd, int) { return Reg(fd, IORING_UNREGISTER_FILES, nullptr, 0); }},
      {IORING_REGISTER_EVENTFD, [bad](int fd, int) { return Reg(fd, IORING_REGISTER_EVENTFD, bad, 1); }},
      {IORING_UNREGISTER_EVENTFD, [](int fd, int) { return Reg(fd, IORING_UNREGISTER_EVENTFD, nullptr, 0); }},
      {IORING_REGISTER_FILES_UPDATE, [bad](int fd, int) { return Reg(fd, IORING_REGISTER_FILES_UPDATE, bad, 1); }},
      {IORING_REGISTER_EVENTFD_ASYNC, [bad](int fd, int) { return Reg(fd, IORING_REGISTER_EVENTFD_ASYNC, bad, 1); }},
      {IORING_REGISTER_PROBE,
       [](int fd, int) {
         char buf[sizeof(io_uring_probe) + 256 * sizeof(io_uring_probe_op)] = {};
         return Reg(fd, IORING_REGISTER_PROBE, buf, 256);
       }},
      {IORING_REGISTER_PERSONALITY,
       [](int fd, int) {
         int id = Reg(fd, IORING_REGISTER_PERSONALITY, nullptr, 0);
         if (id > 0) Reg(fd, IORING_UNREGISTER_PERSONALITY, nullptr, static_cast<unsigned>(id));
         return id;
       }},
      {IORING_UNREGISTER_PERSONALITY,
       [](int fd, int) {
         int id = Reg(fd, IORING_REGISTER_PERSONALITY, nullptr, 0);
         if (id <= 0) return Reg(fd, IORING_UNREGISTER_PERSONALITY, nullptr, 0xffff);
         return Reg(fd, IORING_UNREGISTER_PERSONALITY, nullptr, static_cast<unsigned>(id));
       }},
      {IORING_REGISTER_RESTRICTIONS, [bad](int fd, int) { return Reg(fd, IORING_REGISTER_RESTRICTIONS, bad, 1); }},
      {IORING_REGISTER_ENABLE_RINGS, [](int fd, int) { return Reg(fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0); }},
      {IORING_REGISTER_FILES2, [bad](int fd, int) { return Reg(fd, IORING_REGISTER_FILES2, bad, kRsrcRegSize); }},
      {IORING_REGISTER_FILES_UPDATE2, [bad](int fd, int) { return Reg(fd, IORING_REGISTER_FILES_UPDATE2, bad, kRsrcUpdSize); }},
      {IORING_REGISTER_BUFFERS2, [bad](int fd, int) { return Reg(fd, IORING_REGISTER_BUFFERS2, bad, kRsrcRegSize); }},
      {IORING_REGISTER_BUFFERS_UPDATE, [bad](int fd, int) { return Reg(fd, IORING_REGISTER_BUFFERS_UPDATE, bad, kRsrcUpdSize); }},
      {IORING_REGISTER_IOWQ_AFF, [bad](int fd, int) { return Reg(fd, IORING_REGISTER_IOWQ_AFF, bad, 8); }},
      {IORING_UNREGISTER_IOWQ_AFF, [](int fd, int) { return Reg(fd, IORING_UNREGISTER_IOWQ_AFF, nullptr, 0); }},
      {IORING_REGISTER_IOWQ_MAX_WORKERS,
       [](int fd, int) {
         unsigned values[2] = {0, 0};  // zeros only read the current limits
         return Reg(fd, IORING_REGISTER_IOWQ_MAX_WORKERS, values, 2);
       }},
      {IORING_REGISTER_RING_FDS, [bad](int fd, int) { return Reg(fd, IORING_REGISTER_RING_FDS, bad, 1); }},
      {IORING_UNREGISTER_RING_FDS, [bad](int fd, int) { return Reg(fd, IORING_UNREGISTER_RING_FDS, bad, 1); }},
      {IORING_REGISTER_PBUF_RING, [bad](int fd, int) { return Reg(fd, IORING_REGISTER_PBUF_RING, bad, 1); }},
      {IORING_UNREGISTER_PBUF_RING, [bad](int fd, int) { return Reg(fd, IORING_UNREGISTER_PBUF_RING, bad, 1); }},
      {IORING_REGISTER_SYNC_CANCEL, [bad](int fd, int) { return Reg(fd, IORING_REGISTER_SYNC_CANCEL, bad, 1); }},
      {IORING_REGISTER_FILE_ALLOC_RANGE, [bad](int fd, int) { return Reg(fd, IORING_REGISTER_FILE_ALLOC_RANGE, bad, 0); }},
      {IORING_REGISTER_PBUF_STATUS, [bad](int fd, int) { return Reg(fd, IORING_REGISTER_PBUF_STATUS, bad, 1); }},
      {IORING_REGISTER_NAPI, [bad](int fd, int) { return Reg(fd, IORING_REGISTER_NAPI, bad, 1); }},
      {IORING_UNREGISTER_NAPI, [](int fd, int) { return Reg(fd, IORING_UNREGISTER_NAPI, nullptr, 1); }},
      {IORING_REGISTER_CLOCK, [bad](int fd, int) { return Reg(fd, IORING_REGISTER_CLOCK, bad, 0); }},
      {IORING_REGISTER_CLONE_BUFFERS, [bad](int fd, int) { return Reg(fd, IORING_REGISTER_CLONE_BUFFERS, bad, 1); }},
      // "Blind" opcode: no ring, fd -1.
      {kRegisterSendMsgRing, [bad](int, int) { return Reg(-1, kRegisterSendMsgRing, bad, 1); }},
      // zcrx and resize want a DEFER_TASKRUN ring with 32-byte CQEs before
      // they look at their argument.
      {kRegisterZcrxIfq, [bad](int, int dfd) { return dfd < 0 ? -EINVAL : Reg(dfd, kRegisterZcrxIfq, bad, 1); }},
      {IORING_REGISTER_RESIZE_RINGS, [bad](int, int dfd) { return dfd < 0 ? -EINVAL : Reg(dfd, IORING_REGISTER_RESIZE_RINGS, bad, 1); }},
      {IORING_REGISTER_MEM_REGION, [bad](int fd, int) { return Reg(fd, IORING_REGISTER_MEM_REGION, bad, 1); }},
      {kRegisterQuery, [bad](int, int) { return Reg(-1, kRegisterQuery, bad, 0); }},
  };
}

// CLONE_BUFFERS with nr=1 from a ring without buffers: a kernel that knows
// offsets gets as far as "source has no buffers" (-ENXIO); 6.12 finds a
// non-zero word in its pad[] and answers -EINVAL (rules C15, C26).
bool ProbeCloneOffsets(io_uring* ring) {
  struct io_uring_clone_buffers arg;
  std::memset(&arg, 0, sizeof arg);
  arg.src_fd = static_cast<uint32_t>(ring->ring_fd);
  arg.nr = 1;
  return Reg(ring->ring_fd, IORING_REGISTER_CLONE_BUFFERS, &arg, 1) == -ENXIO;
}

// Registers the ring in a slot, then uses the slot: for enter and register.
void ProbeRegisteredRing(io_uring* ring, Capabilities* caps) {
  io_uring_rsrc_update up;
  std::memset(&up, 0, sizeof up);
  up.offset = -1U;
  up.data = static_cast<uint64_t>(ring->ring_fd);
  bool registered = Reg(ring->ring_fd, IORING_REGISTER_RING_FDS, &up, 1) == 1;
  caps->custom["enter_registered_ring"] = false;
  caps->custom["register_use_registered_ring"] = false;
  if (!registered) return;
  int enter = io_uring_enter(up.offset, 0, 0, IORING_ENTER_REGISTERED_RING, nullptr);
  caps->custom["enter_registered_ring"] = enter == 0;
  char buf[sizeof(io_uring_probe) + 8 * sizeof(io_uring_probe_op)] = {};
  int reg = Reg(static_cast<int>(up.offset), IORING_REGISTER_PROBE | IORING_REGISTER_USE_REGISTERED_RING,
                buf, 8);
  caps->custom["register_use_registered_ring"] = reg == 0;
  io_uring_rsrc_update del;
  std::memset(&del, 0, sizeof del);
  del.offset = up.offset;
  Reg(ring->ring_fd, IORING_UNREGISTER_RING_FDS, &del, 1);
}

}  // namespace

uint32_t SetupFlagCompanions(uint32_t flag) {
  switch (flag) {
    case IORING_SETUP_SQ_AFF: return IORING_SETUP_SQPOLL;
    case IORING_SETUP_TASKRUN_FLAG: return IORING_SETUP_COOP_TASKRUN;
    case IORING_SETUP_DEFER_TASKRUN: return IORING_SETUP_SINGLE_ISSUER;
    case IORING_SETUP_REGISTERED_FD_ONLY: return IORING_SETUP_NO_MMAP;
    case IORING_SETUP_HYBRID_IOPOLL: return IORING_SETUP_IOPOLL;
    case IORING_SETUP_SQ_REWIND: return IORING_SETUP_NO_SQARRAY;
    default: return 0;
  }
}

bool Capabilities::Has(const Feature& f) const {
  if (!usable()) return false;
  switch (f.proof) {
    case Proof::kOpcode:
      return f.value < op_supported.size() && op_supported[f.value];
    case Proof::kFeatureBit:
      return (features & f.value) != 0;
    case Proof::kSetupFlag: {
      auto it = setup_results.find(SetupFlagName(f.value));
      return it != setup_results.end() && it->second == 0;
    }
    case Proof::kRegisterOp: {
      auto it = register_results.find(RegisterOpName(f.value));
      return it != register_results.end() && it->second != -EINVAL;
    }
    case Proof::kCustom: {
      auto it = custom.find(f.id);
      return it != custom.end() && it->second;
    }
  }
  return false;
}

uint32_t Capabilities::UnsupportedSetupFlags(uint32_t flags) const {
  uint32_t missing = 0;
  for (unsigned i = 0; i < 32; ++i) {
    uint32_t bit = 1U << i;
    if (!(flags & bit)) continue;
    auto it = setup_results.find(SetupFlagName(bit));
    if (it == setup_results.end() || it->second != 0) missing |= bit;
  }
  return missing;
}

Capabilities MeasureCapabilities() {
  Capabilities caps;
  utsname u;
  if (uname(&u) == 0) {
    caps.kernel_release = u.release;
    caps.kernel_version = u.version;
    caps.machine = u.machine;
  }
  caps.liburing_version =
      std::to_string(IO_URING_VERSION_MAJOR) + "." + std::to_string(IO_URING_VERSION_MINOR);
  caps.io_uring_disabled = ReadIntFile("/proc/sys/kernel/io_uring_disabled");
  caps.io_uring_group = ReadIntFile("/proc/sys/kernel/io_uring_group");
  uint64_t eff = EffectiveCaps();
  caps.root = geteuid() == 0;
  caps.cap_sys_admin = eff & (1ULL << 21);
  caps.cap_ipc_lock = eff & (1ULL << 14);
  caps.cap_sys_nice = eff & (1ULL << 23);
  caps.cap_net_admin = eff & (1ULL << 12);
  caps.online_cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  caps.hugepages_total = HugePagesTotal();
  int kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  caps.kmsg_readable = kmsg >= 0;
  if (kmsg >= 0) close(kmsg);

  io_uring ring;
  io_uring_params p;
  std::memset(&p, 0, sizeof p);
  int ret = io_uring_queue_init_params(8, &ring, &p);
  if (ret < 0) {
    caps.setup_error = ret;
    return caps;
  }
  caps.features = p.features;

  // The task context (and its io-wq) exists only after a first submission;
  // some register opcodes look at it before their argument.
  io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  io_uring_prep_nop(sqe);
  io_uring_submit_and_wait(&ring, 1);
  io_uring_cqe* cqe;
  if (io_uring_peek_cqe(&ring, &cqe) == 0) io_uring_cqe_seen(&ring, cqe);

  caps.op_supported.assign(256, false);
  char probe_buf[sizeof(io_uring_probe) + 256 * sizeof(io_uring_probe_op)] = {};
  auto* probe = reinterpret_cast<io_uring_probe*>(probe_buf);
  caps.probe_result = io_uring_register_probe(&ring, probe, 256);
  if (caps.probe_result == 0) {
    caps.last_op = probe->last_op;
    for (unsigned i = 0; i < probe->ops_len && i < 256; ++i) {
      caps.op_supported[probe->ops[i].op] = (probe->ops[i].flags & IO_URING_OP_SUPPORTED) != 0;
    }
  }

  for (unsigned i = 0; i < kSetupFlagCount; ++i) {
    caps.setup_results[SetupFlagName(1U << i)] = TrySetupFlag(1U << i, ring.ring_fd);
  }

  io_uring defer_ring;
  io_uring_params dp;
  std::memset(&dp, 0, sizeof dp);
  dp.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQE32;
  int defer_fd = io_uring_queue_init_params(8, &defer_ring, &dp) == 0 ? defer_ring.ring_fd : -1;
  for (const RegisterProbe& rp : RegisterProbes()) {
    caps.register_results[RegisterOpName(rp.opcode)] = rp.call(ring.ring_fd, defer_fd);
  }
  if (defer_fd >= 0) io_uring_queue_exit(&defer_ring);

  caps.custom["clone_buffers_offset"] = ProbeCloneOffsets(&ring);
  ProbeRegisteredRing(&ring, &caps);
  io_uring_queue_exit(&ring);
  for (const CustomProbe& p : RegisteredProbes()) caps.custom[p.id] = p.probe();
  return caps;
}

const Capabilities& Caps() {
  // Measured in a thread of its own: the probe submits and registers ring
  // fds, which gives the calling task an io_uring context, and tests about
  // per-task state (registered ring slots, SINGLE_ISSUER) want the test
  // thread to start without one.
  static const Capabilities* caps = [] {
    auto* measured = new Capabilities();
    std::thread([measured] { *measured = MeasureCapabilities(); }).join();
    return measured;
  }();
  return *caps;
}

std::string Capabilities::ToJson() const {
  JsonWriter w;
  w.BeginObject();
  w.Field("schema", "ringcheck.capabilities/1");
  w.Key("kernel").BeginObject();
  w.Field("release", kernel_release).Field("version", kernel_version).Field("machine", machine);
  w.EndObject();
  w.Field("liburing", liburing_version);
  w.Field("usable", usable());
  w.Field("setup_error", ResultName(setup_error));
  w.Field("io_uring_disabled", io_uring_disabled);
  w.Field("io_uring_group", io_uring_group);
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%x", features);
  w.Field("features_mask", hex);
  w.Field("probe_result", ResultName(probe_result));
  w.Field("last_op", last_op);
  w.Key("privileges").BeginObject();
  w.Field("root", root).Field("cap_sys_admin", cap_sys_admin).Field("cap_ipc_lock", cap_ipc_lock);
  w.Field("cap_sys_nice", cap_sys_nice).Field("cap_net_admin", cap_net_admin);
  w.EndObject();
  w.Key("machine_facts").BeginObject();
  w.Field("online_cpus", online_cpus).Field("hugepages_total", static_cast<int64_t>(hugepages_total));
  w.Field("kmsg_readable", kmsg_readable);
  w.EndObject();
  w.Key("setup_flags").BeginObject();
  for (const auto& [name, res] : setup_results) w.Field(name, ResultName(res));
  w.EndObject();
  w.Key("register_ops").BeginObject();
  for (const auto& [name, res] : register_results) w.Field(name, ResultName(res));
  w.EndObject();
  // One entry per registry feature: the verdict tests consult.
  w.Key("features").BeginArray();
  for (const Feature& f : AllFeatures()) {
    w.BeginObject();
    w.Field("id", f.id).Field("supported", Has(f)).Field("mainline", f.mainline);
    w.Field("what", f.what);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.str();
}

}  // namespace ringcheck
