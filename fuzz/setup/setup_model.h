// What io_uring_setup should answer, from the validation rules of
// spec/setup.md (rules E1-E24, E26), gated by what the capability
// probe says the running kernel supports.
#ifndef RINGCHECK_FUZZ_SETUP_SETUP_MODEL_H_
#define RINGCHECK_FUZZ_SETUP_SETUP_MODEL_H_

#include <liburing.h>

#include <cstdint>
#include <string>

namespace ringcheck::fuzz {

// How the fuzzer arranged what the kernel will look at besides the params.
enum class WqFd { kNone, kRing, kNotOpen, kNotRing };
enum class RingMemory { kNone, kValid, kZero, kMisaligned, kUnmapped };

struct SetupCase {
  unsigned entries = 0;
  io_uring_params params{};
  bool params_unreadable = false;  // E1: the params pointer faults
  WqFd wq = WqFd::kNone;
  RingMemory memory = RingMemory::kNone;  // NO_MMAP only
  bool slots_full = false;         // all 16 registered-ring slots taken (E26)
};

// What the model knows about the machine.
struct SetupEnv {
  uint32_t known_flags = 0;     // flags the probe saw accepted
  uint32_t unknown_flags = 0;   // flags the probe saw refused with -EINVAL
  int io_uring_disabled = 0;
  bool cap_sys_admin = true;
  bool cpu_allowed[1024] = {};  // online and in this thread's affinity mask
  unsigned nr_cpu_ids = 0;
};

struct Expected {
  bool known = false;  // false: the model does not cover this case (skipped)
  int result = 0;      // 0 (success) or -errno
  const char* rule = "";
  unsigned sq_entries = 0, cq_entries = 0;  // on success
};

Expected ExpectedSetupResult(const SetupCase& c, const SetupEnv& env);

}  // namespace ringcheck::fuzz

#endif  // RINGCHECK_FUZZ_SETUP_SETUP_MODEL_H_
