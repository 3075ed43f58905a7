// io_uring ABI constants newer than the liburing header we build with.
//
// liburing 2.9's io_uring.h stops at the 6.13-era ABI. The running kernel may
// be newer (6.18 here, 7.x under qemu), so the values the suites and the probe
// need are defined here from the kernel's uapi header when the library's
// header lacks them.
#ifndef RINGCHECK_HARNESS_UAPI_H_
#define RINGCHECK_HARNESS_UAPI_H_

#include <liburing.h>

// Setup flags.
#ifndef IORING_SETUP_CQE_MIXED
#define IORING_SETUP_CQE_MIXED (1U << 18)
#endif
#ifndef IORING_SETUP_SQE_MIXED
#define IORING_SETUP_SQE_MIXED (1U << 19)
#endif
#ifndef IORING_SETUP_SQ_REWIND
#define IORING_SETUP_SQ_REWIND (1U << 20)
#endif

// CQE flags.
#ifndef IORING_CQE_F_SKIP
#define IORING_CQE_F_SKIP (1U << 5)
#endif
#ifndef IORING_CQE_F_32
#define IORING_CQE_F_32 (1U << 15)
#endif
#ifndef IORING_CQE_F_TSTAMP_HW
#define IORING_CQE_F_TSTAMP_HW (1U << 16)
#endif

// Feature bits.
#ifndef IORING_FEAT_RW_ATTR
#define IORING_FEAT_RW_ATTR (1U << 16)
#endif
#ifndef IORING_FEAT_NO_IOWAIT
#define IORING_FEAT_NO_IOWAIT (1U << 17)
#endif

// NOP flags (sqe->nop_flags).
#ifndef IORING_NOP_INJECT_RESULT
#define IORING_NOP_INJECT_RESULT (1U << 0)
#endif
#ifndef IORING_NOP_FILE
#define IORING_NOP_FILE (1U << 1)
#endif
#ifndef IORING_NOP_FIXED_FILE
#define IORING_NOP_FIXED_FILE (1U << 2)
#endif
#ifndef IORING_NOP_FIXED_BUFFER
#define IORING_NOP_FIXED_BUFFER (1U << 3)
#endif
#ifndef IORING_NOP_TW
#define IORING_NOP_TW (1U << 4)
#endif
#ifndef IORING_NOP_CQE32
#define IORING_NOP_CQE32 (1U << 5)
#endif

namespace ringcheck {

// Opcodes after IORING_OP_LISTEN (57), by kernel uapi value.
enum : unsigned {
  kOpRecvZc = 58,
  kOpEpollWait = 59,
  kOpReadvFixed = 60,
  kOpWritevFixed = 61,
  kOpPipe = 62,
  kOpNop128 = 63,
  kOpUringCmd128 = 64,
};

// Register opcodes after IORING_REGISTER_MEM_REGION (34), and the two that
// liburing 2.9 names only in later releases.
enum : unsigned {
  kRegisterSendMsgRing = 31,
  kRegisterZcrxIfq = 32,
  kRegisterQuery = 35,
};

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_UAPI_H_
