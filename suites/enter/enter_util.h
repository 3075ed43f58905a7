// Shared by the enter suite's files.
#ifndef RINGCHECK_SUITES_ENTER_ENTER_UTIL_H_
#define RINGCHECK_SUITES_ENTER_ENTER_UTIL_H_

#include <vector>

#include "harness/ring.h"

namespace ringcheck {

// The matrix minus the rings a sleeping wait does not apply to: IOPOLL
// rings poll for completions instead of sleeping (no EXT_ARG timeout, no
// wake-ups), REGISTERED_FD_ONLY rings have no fd to enter or poll, and
// no_mmap (liburing's huge-page ring memory) gives way to no_mmap_user_memory.
std::vector<RingConfig> WaitableRingConfigs();

}  // namespace ringcheck

#endif  // RINGCHECK_SUITES_ENTER_ENTER_UTIL_H_
