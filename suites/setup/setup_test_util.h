// Shared by the setup suite's files: a raw setup call with chosen flags.
#ifndef RINGCHECK_SUITES_SETUP_SETUP_TEST_UTIL_H_
#define RINGCHECK_SUITES_SETUP_SETUP_TEST_UTIL_H_

#include <cstring>

#include "harness/setup_call.h"

namespace ringcheck {

inline io_uring_params Params(uint32_t flags, unsigned cq_entries = 0) {
  io_uring_params p;
  std::memset(&p, 0, sizeof p);
  p.flags = flags;
  p.cq_entries = cq_entries;
  return p;
}

// io_uring_setup(entries) with these flags; the fd (released) or -errno.
inline int SetupWith(uint32_t flags, unsigned entries = 4) {
  return TrySetup(entries, Params(flags)).result;
}

}  // namespace ringcheck

#endif  // RINGCHECK_SUITES_SETUP_SETUP_TEST_UTIL_H_
