// One raw io_uring_setup call, cleaned up after: for the setup suite, the
// capability probe and the setup fuzzer.
#ifndef RINGCHECK_HARNESS_SETUP_CALL_H_
#define RINGCHECK_HARNESS_SETUP_CALL_H_

#include <liburing.h>

namespace ringcheck {

struct SetupAttempt {
  int result = 0;            // the fd or slot index (already released), or -errno
  io_uring_params params{};  // as the kernel left them
};

// Calls io_uring_setup(entries, &params). With IORING_SETUP_NO_MMAP and
// `provide_memory`, page-aligned memory for the rings and SQEs is filled in
// (user_addr) unless the caller already set it. The created ring (fd, or
// registered slot for REGISTERED_FD_ONLY) is closed before returning.
SetupAttempt TrySetup(unsigned entries, const io_uring_params& params, bool provide_memory = true);

// The first CPU this thread may run on (for SQ_AFF's sq_thread_cpu).
int FirstAllowedCpu();

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_SETUP_CALL_H_
