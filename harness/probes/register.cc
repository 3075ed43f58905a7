// Probes for io_uring_register and io_uring_enter behaviours that no opcode,
// feature bit or register opcode announces by itself.
#include <liburing.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <ctime>

#include "harness/probe_registry.h"

namespace ringcheck {
namespace {

long Register(int fd, unsigned op, const void* arg, unsigned nr) {
  long ret = syscall(__NR_io_uring_register, fd, op, arg, nr);
  return ret < 0 ? -errno : ret;
}

// Runs `check` on a scratch ring made with `flags`; false if none can be made.
template <typename Check>
bool OnRing(unsigned flags, Check check) {
  io_uring ring;
  if (io_uring_queue_init(4, &ring, flags) != 0) return false;
  bool ok = check(ring);
  io_uring_queue_exit(&ring);
  return ok;
}

}  // namespace

RINGCHECK_PROBE(rsrc_register_sparse, "5.19",
                "IORING_RSRC_REGISTER_SPARSE in FILES2/BUFFERS2 (empty table without an array)") {
  return OnRing(0, [](io_uring& ring) {
    io_uring_rsrc_register rr = {};
    rr.nr = 4;
    rr.flags = IORING_RSRC_REGISTER_SPARSE;
    return Register(ring.ring_fd, IORING_REGISTER_FILES2, &rr, sizeof(rr)) == 0;
  });
}

RINGCHECK_PROBE(pbuf_ring_mmap, "6.4",
                "IOU_PBUF_RING_MMAP: the kernel allocates a provided-buffer ring for mmap") {
  return OnRing(0, [](io_uring& ring) {
    io_uring_buf_reg reg = {};
    reg.ring_entries = 8;
    reg.bgid = 3;
    reg.flags = IOU_PBUF_RING_MMAP;
    return Register(ring.ring_fd, IORING_REGISTER_PBUF_RING, &reg, 1) == 0;
  });
}

RINGCHECK_PROBE(enter_abs_timer, "6.12",
                "IORING_ENTER_ABS_TIMER: an absolute EXT_ARG timeout") {
  return OnRing(0, [](io_uring& ring) {
    __kernel_timespec ts = {0, 0};  // long past: returns at once
    io_uring_getevents_arg arg = {};
    arg.ts = reinterpret_cast<uintptr_t>(&ts);
    long ret = syscall(__NR_io_uring_enter, ring.ring_fd, 0, 1,
                       IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG | IORING_ENTER_ABS_TIMER,
                       &arg, sizeof(arg));
    return ret < 0 && errno == ETIME;
  });
}

RINGCHECK_PROBE(sysctl_io_uring_disabled, "6.6",
                "the kernel.io_uring_disabled and kernel.io_uring_group sysctls") {
  return access("/proc/sys/kernel/io_uring_disabled", F_OK) == 0 &&
         access("/proc/sys/kernel/io_uring_group", F_OK) == 0;
}

RINGCHECK_PROBE(napi_static_tracking, "6.13",
                "IORING_REGISTER_NAPI with opcode and IO_URING_NAPI_TRACKING_STATIC") {
  return OnRing(0, [](io_uring& ring) {
    // struct io_uring_napi of 6.13: the byte after prefer_busy_poll is the
    // opcode (0 = register), then op_param 1 = static tracking.
    unsigned char napi[16] = {};
    napi[0] = 1;          // busy_poll_to = 1 us
    napi[8] = 1;          // op_param = IO_URING_NAPI_TRACKING_STATIC
    long ret = Register(ring.ring_fd, IORING_REGISTER_NAPI, napi, 1);
    if (ret == 0) Register(ring.ring_fd, IORING_UNREGISTER_NAPI, nullptr, 1);
    return ret == 0;
  });
}

}  // namespace ringcheck

namespace ringcheck {

RINGCHECK_PROBE(rsrc_tags_on_unregister, "6.13",
                "unregistering a tagged file or buffer table posts the tags as CQEs") {
  io_uring ring;
  if (io_uring_queue_init(4, &ring, 0) != 0) return false;
  bool posted = false;
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    uint64_t tag = 7;
    io_uring_rsrc_register rr = {};
    rr.nr = 1;
    rr.data = reinterpret_cast<uintptr_t>(&fd);
    rr.tags = reinterpret_cast<uintptr_t>(&tag);
    if (syscall(__NR_io_uring_register, ring.ring_fd, IORING_REGISTER_FILES2, &rr, sizeof(rr)) == 0 &&
        syscall(__NR_io_uring_register, ring.ring_fd, IORING_UNREGISTER_FILES, nullptr, 0) == 0) {
      __kernel_timespec ts = {1, 0};
      io_uring_cqe* cqe = nullptr;
      posted = io_uring_wait_cqe_timeout(&ring, &cqe, &ts) == 0 && cqe->user_data == 7;
    }
    close(fd);
  }
  io_uring_queue_exit(&ring);
  return posted;
}

}  // namespace ringcheck
