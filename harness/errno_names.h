// Errno values as the names a reader of a man page knows.
#ifndef RINGCHECK_HARNESS_ERRNO_NAMES_H_
#define RINGCHECK_HARNESS_ERRNO_NAMES_H_

#include <string>

namespace ringcheck {

// "EBUSY" for EBUSY; "errno 1234" for a value without a name.
std::string ErrnoName(int err);

// A syscall-style result: "-EBUSY" for -EBUSY, "0" or "7" for non-negative.
std::string ResultName(long res);

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_ERRNO_NAMES_H_
