#include "fuzz/setup/setup_model.h"

#include <cerrno>

#include "harness/uapi.h"

namespace ringcheck::fuzz {
namespace {

constexpr unsigned kMaxEntries = 32768;    // IORING_MAX_ENTRIES (since 5.4)
constexpr unsigned kMaxCqEntries = 65536;  // IORING_MAX_CQ_ENTRIES

unsigned RoundUpPow2(unsigned v) {
  unsigned r = 1;
  while (r < v) r <<= 1;
  return r;
}

Expected Fail(int err, const char* rule) { return Expected{true, err, rule, 0, 0}; }
Expected Unknown(const char* why) { return Expected{false, 0, why, 0, 0}; }

}  // namespace

Expected ExpectedSetupResult(const SetupCase& c, const SetupEnv& env) {
  const io_uring_params& p = c.params;
  const uint32_t f = p.flags;
  auto has = [f](uint32_t bit) { return (f & bit) != 0; };

  // E3: the sysctl is checked before anything is copied.
  if (env.io_uring_disabled == 2) return Fail(-EPERM, "E3");
  if (env.io_uring_disabled == 1 && !env.cap_sys_admin) return Unknown("E3 depends on io_uring_group");
  if (c.params_unreadable) return Fail(-EFAULT, "E1");
  for (uint32_t r : p.resv) {
    if (r != 0) return Fail(-EINVAL, "E2");
  }
  // E4: a flag this kernel does not know. Flags the probe could not settle
  // either way (refused for another reason) are outside the model.
  if (f & env.unknown_flags) return Fail(-EINVAL, "E4");
  if (f & ~(env.known_flags | env.unknown_flags)) {
    return (f & ~((1u << 21) - 1)) ? Fail(-EINVAL, "E4") : Unknown("flag the probe could not settle");
  }
  if (has(IORING_SETUP_REGISTERED_FD_ONLY) && !has(IORING_SETUP_NO_MMAP)) return Fail(-EINVAL, "E5");
  if (has(IORING_SETUP_SQPOLL) && (f & (IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG)))
    return Fail(-EINVAL, "E6");
  if (has(IORING_SETUP_SQPOLL) && has(IORING_SETUP_DEFER_TASKRUN)) return Fail(-EINVAL, "E7");
  if (has(IORING_SETUP_TASKRUN_FLAG) && !(f & (IORING_SETUP_COOP_TASKRUN | IORING_SETUP_DEFER_TASKRUN)))
    return Fail(-EINVAL, "E8");
  if (has(IORING_SETUP_HYBRID_IOPOLL) && !has(IORING_SETUP_IOPOLL)) return Fail(-EINVAL, "E9");
  if (has(IORING_SETUP_DEFER_TASKRUN) && !has(IORING_SETUP_SINGLE_ISSUER)) return Fail(-EINVAL, "E10");
  if (has(IORING_SETUP_CQE32) && has(IORING_SETUP_CQE_MIXED)) return Fail(-EINVAL, "E11");
  if (has(IORING_SETUP_SQE128) && has(IORING_SETUP_SQE_MIXED)) return Fail(-EINVAL, "E12");
  if (has(IORING_SETUP_SQ_REWIND)) return Unknown("SQ_REWIND is newer than the model");

  // E13-E19: entries.
  if (c.entries == 0) return Fail(-EINVAL, "E13");
  unsigned entries = c.entries;
  if (entries > kMaxEntries) {
    if (!has(IORING_SETUP_CLAMP)) return Fail(-EINVAL, "E14");
    entries = kMaxEntries;
  }
  const unsigned sq = RoundUpPow2(entries);
  unsigned cq;
  if (has(IORING_SETUP_CQSIZE)) {
    if (p.cq_entries == 0) return Fail(-EINVAL, "E16");
    unsigned want = p.cq_entries;
    if (want > kMaxCqEntries) {
      if (!has(IORING_SETUP_CLAMP)) return Fail(-EINVAL, "E17");
      want = kMaxCqEntries;
    }
    cq = RoundUpPow2(want);
    if (cq < sq) return Fail(-EINVAL, "E18");
  } else {
    cq = 2 * sq;  // E19
  }
  if (has(IORING_SETUP_CQE_MIXED) && cq < 2) return Fail(-EOVERFLOW, "E20");
  if (has(IORING_SETUP_SQE_MIXED) && sq < 2) return Fail(-EOVERFLOW, "E20");

  // E21: the caller's memory for NO_MMAP rings.
  if (has(IORING_SETUP_NO_MMAP)) {
    switch (c.memory) {
      case RingMemory::kZero: return Fail(-EFAULT, "E21");
      case RingMemory::kMisaligned: return Fail(-EINVAL, "E21");
      case RingMemory::kUnmapped: return Fail(-EFAULT, "E21");
      case RingMemory::kNone: return Unknown("NO_MMAP without a memory choice");
      case RingMemory::kValid: break;
    }
  }

  // E22-E24: checked when the SQ offload is set up, after the rings exist.
  if (has(IORING_SETUP_ATTACH_WQ)) {
    if (has(IORING_SETUP_SQPOLL)) return Unknown("ATTACH_WQ with SQPOLL shares an SQ thread");
    if (c.wq == WqFd::kNotOpen || c.wq == WqFd::kNone) {
      if (c.wq == WqFd::kNone) return Unknown("wq_fd 0 is whatever fd 0 is");
      return Fail(-ENXIO, "E22");
    }
    if (c.wq == WqFd::kNotRing) return Fail(-EINVAL, "E22");
  }
  if (has(IORING_SETUP_SQ_AFF)) {
    if (!has(IORING_SETUP_SQPOLL)) return Fail(-EINVAL, "E23");
    const unsigned cpu = p.sq_thread_cpu;
    if (cpu >= env.nr_cpu_ids || cpu >= 1024 || !env.cpu_allowed[cpu]) return Fail(-EINVAL, "E24");
  }
  if (has(IORING_SETUP_REGISTERED_FD_ONLY) && c.slots_full) return Fail(-EBUSY, "E26");
  return Expected{true, 0, "E15/E19", sq, cq};
}

}  // namespace ringcheck::fuzz
