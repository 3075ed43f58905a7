#include "harness/setup_call.h"

#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ringcheck {
namespace {

// Big enough for 32768 SQEs of 128 bytes and 65536 CQEs of 32 bytes.
constexpr size_t kSqRegion = 4u << 20;
constexpr size_t kCqRegion = 4u << 20;

// Releases a registered-ring slot that REGISTERED_FD_ONLY handed out.
void ReleaseSlot(int slot) {
  io_uring_rsrc_update up;
  std::memset(&up, 0, sizeof up);
  up.offset = static_cast<unsigned>(slot);
  io_uring_register(static_cast<unsigned>(slot),
                    IORING_UNREGISTER_RING_FDS | IORING_REGISTER_USE_REGISTERED_RING, &up, 1);
}

}  // namespace

int FirstAllowedCpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  for (int i = 0; i < CPU_SETSIZE; ++i) {
    if (CPU_ISSET(i, &set)) return i;
  }
  return 0;
}

SetupAttempt TrySetup(unsigned entries, const io_uring_params& params, bool provide_memory) {
  SetupAttempt a;
  a.params = params;
  void* mem = MAP_FAILED;
  if ((params.flags & IORING_SETUP_NO_MMAP) && provide_memory && params.sq_off.user_addr == 0 &&
      params.cq_off.user_addr == 0) {
    mem = mmap(nullptr, kSqRegion + kCqRegion, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
               -1, 0);
    if (mem == MAP_FAILED) {
      a.result = -ENOMEM;
      return a;
    }
    a.params.sq_off.user_addr = reinterpret_cast<uint64_t>(mem);
    a.params.cq_off.user_addr = reinterpret_cast<uint64_t>(static_cast<char*>(mem) + kSqRegion);
  }
  a.result = io_uring_setup(entries, &a.params);
  if (a.result >= 0) {
    if (params.flags & IORING_SETUP_REGISTERED_FD_ONLY) {
      ReleaseSlot(a.result);
    } else {
      close(a.result);
    }
  }
  if (mem != MAP_FAILED) munmap(mem, kSqRegion + kCqRegion);
  return a;
}

}  // namespace ringcheck
