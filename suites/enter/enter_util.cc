#include "suites/enter/enter_util.h"

#include <liburing.h>

#include "harness/configs.h"

namespace ringcheck {

std::vector<RingConfig> WaitableRingConfigs() {
  std::vector<RingConfig> out;
  for (const RingConfig& c : AllRingConfigs()) {
    if (c.flags & (IORING_SETUP_IOPOLL | IORING_SETUP_REGISTERED_FD_ONLY)) continue;
    // liburing's own NO_MMAP memory comes from the few reserved huge pages,
    // which binaries running in parallel exhaust (-ENOMEM); NO_MMAP stays
    // covered by no_mmap_user_memory.
    if (c.name == "no_mmap") continue;
    out.push_back(c);
  }
  return out;
}

}  // namespace ringcheck
