// libFuzzer target: io_uring_register opcodes with structured arguments on a
// fresh ring (plain, R_DISABLED, or DEFER_TASKRUN with 32-byte CQEs), some
// with resources already registered, interleaved with NOP/READ_FIXED batches
// that check the ring still completes every request exactly once.
#include <fcntl.h>
#include <liburing.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz/common/byte_reader.h"
#include "fuzz/common/oracle.h"
#include "harness/capabilities.h"
#include "harness/errno_names.h"
#include "harness/features.h"
#include "harness/uapi.h"

namespace ringcheck::fuzz {
namespace {

constexpr size_t kPoolSize = 1 << 20;
constexpr uint64_t kNopTag = 0x5200000000000000ull;
constexpr uint64_t kMsgTag = 0x5300000000000000ull;

struct State {
  bool usable = false;
  char* mem = nullptr;  // page aligned, never unmapped: the kernel may pin it
  int fds[6];           // pipe r/w, memfd, eventfd, not open, -1
  io_uring source;      // a ring with two registered buffers, for CLONE_BUFFERS
  unsigned register_last = 64;  // one past the newest register opcode the kernel knows
};
State* S = nullptr;

void Init() {
  S = new State();
  if (!Caps().usable()) {
    std::fprintf(stderr, "ringcheck register fuzzer: io_uring is not usable here; inputs are ignored\n");
    return;
  }
  for (unsigned op = 0; op < 64; ++op) {  // one past the newest opcode the probe found known
    auto it = Caps().register_results.find(RegisterOpName(op));
    if (it != Caps().register_results.end() && it->second != -EINVAL) S->register_last = op + 1;
  }
  S->mem = static_cast<char*>(mmap(nullptr, kPoolSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  int p[2];
  if (S->mem == MAP_FAILED || pipe2(p, O_CLOEXEC) < 0) HarnessFail("pool setup");
  S->fds[0] = p[0], S->fds[1] = p[1];
  S->fds[2] = memfd_create("ringcheck-register", MFD_CLOEXEC);
  if (ftruncate(S->fds[2], 65536) < 0) HarnessFail("memfd");
  S->fds[3] = eventfd(0, EFD_CLOEXEC);
  S->fds[4] = 9999;
  S->fds[5] = -1;
  if (io_uring_queue_init(4, &S->source, 0) < 0) HarnessFail("source ring");
  iovec iov[2] = {{S->mem, 4096}, {S->mem + 8192, 8192}};
  io_uring_register_buffers(&S->source, iov, 2);
  S->usable = true;
}

uint32_t Count(ByteReader& in) {
  static const uint32_t kCounts[] = {0, 1, 2, 3, 4, 8, 15, 16, 17, 64, 1024, 16384, 16385, 65535, 65536, 0xffffffff};
  return in.Pick(kCounts);
}

void* Address(ByteReader& in, size_t len) {
  const uint8_t sel = in.U8();
  if (sel >= 240) return reinterpret_cast<void*>(sel == 255 ? 0 : 0xffff888000000000ull);
  size_t page = (sel % 64) * 4096;
  if (page + len > kPoolSize) page = 0;
  return S->mem + page + (sel >= 200 ? 1 : 0);
}

class Input {
 public:
  Input(ByteReader& in, io_uring* ring) : in_(in), ring_(ring) {}
  ~Input() {
    for (unsigned slot : ring_slots_) {  // registered-ring slots are per task: never leak one
      io_uring_rsrc_update up = {};
      up.offset = slot;
      io_uring_register(static_cast<unsigned>(ring_->ring_fd), IORING_UNREGISTER_RING_FDS, &up, 1);
    }
  }
  void Step();

 private:
  int Fd() { return in_.Below(8) == 7 ? ring_->ring_fd : S->fds[in_.Below(6)]; }
  void Check(unsigned op, int ret);
  int Call(unsigned op, void* arg, unsigned nr) {
    int ret = io_uring_register(static_cast<unsigned>(ring_->ring_fd), op, arg, nr);
    Check(op, ret);
    return ret;
  }
  void SubmitBatch();

  ByteReader& in_;
  io_uring* ring_;
  std::vector<unsigned> ring_slots_;
  std::vector<uint8_t> queued_;  // CQEs seen, by request number
  unsigned submitted_ = 0, completed_ = 0;
  bool restricted_ = false;  // restrictions registered and the ring enabled
  uint8_t allowed_reg_[64] = {};
};

void Input::Check(unsigned op, int ret) {
  CountFeature((op << 16) ^ ResultClass(ret));
  if (ret < -4095) OracleFail("res-range", RegisterOpName(op) + " returned below -4095", std::to_string(ret));
  // The kernel checks the opcode against its own IORING_REGISTER_LAST before
  // the restrictions: one it does not know fails -EINVAL (Linux 6.1 with
  // CLONE_BUFFERS or QUERY).
  if (restricted_ && op < 64 && !allowed_reg_[op] && ret != -EACCES && !(ret == -EINVAL && op >= S->register_last)) {
    OracleFail("restricted-register", RegisterOpName(op) + " outside the restrictions did not fail -EACCES",
               ResultName(ret));
  }
}

void Input::SubmitBatch() {
  const unsigned n = in_.Below(8) + 1;
  for (unsigned i = 0; i < n; ++i) {
    io_uring_sqe* sqe = io_uring_get_sqe(ring_);
    if (sqe == nullptr) break;
    const uint8_t kind = in_.U8();
    if (kind % 3 == 0) {
      io_uring_prep_read_fixed(sqe, S->fds[2], S->mem + 8192, 4096, 0, kind % 5);
    } else {
      io_uring_prep_nop(sqe);
      if (kind % 3 == 2) sqe->flags = IOSQE_FIXED_FILE, sqe->fd = kind % 9;
    }
    sqe->user_data = kNopTag | queued_.size();
    queued_.push_back(0);
  }
  const int ret = io_uring_submit(ring_);
  if (ret == -EBADFD) return;  // R_DISABLED: nothing was taken, the SQEs stay queued
  if (ret < 0) OracleFail("ring-consistency", "io_uring_submit failed", ResultName(ret));
  submitted_ += static_cast<unsigned>(ret);
  for (int spins = 0; completed_ < submitted_ && spins < 2000; ++spins) {
    io_uring_cqe* cqe;
    __kernel_timespec ts = {0, 1000000};
    if (io_uring_wait_cqe_timeout(ring_, &cqe, &ts) != 0) continue;
    const uint64_t ud = cqe->user_data;
    if ((ud >> 56) == (kNopTag >> 56) && (ud & 0xffffff) < queued_.size()) {
      if (++queued_[ud & 0xffffff] > 1) {
        OracleFail("one-cqe-per-sqe", "a request completed twice", ResultName(cqe->res));
      }
      if (cqe->res < -4095) OracleFail("res-range", "CQE result below -4095", std::to_string(cqe->res));
      ++completed_;
    } else if ((ud >> 56) != (kMsgTag >> 56)) {
      OracleFail("unknown-user-data", "a CQE nobody asked for", std::to_string(ud));
    }
    io_uring_cqe_seen(ring_, cqe);
  }
  if (completed_ < submitted_) {
    OracleFail("completion-deadline", "NOP/READ_FIXED batch did not complete in 2 s", "");
  }
}

void Input::Step() {
  static const unsigned kOps[] = {
      IORING_REGISTER_BUFFERS, IORING_UNREGISTER_BUFFERS, IORING_REGISTER_FILES, IORING_UNREGISTER_FILES,
      IORING_REGISTER_EVENTFD, IORING_UNREGISTER_EVENTFD, IORING_REGISTER_FILES_UPDATE,
      IORING_REGISTER_EVENTFD_ASYNC, IORING_REGISTER_PROBE, IORING_REGISTER_PERSONALITY,
      IORING_UNREGISTER_PERSONALITY, IORING_REGISTER_RESTRICTIONS, IORING_REGISTER_ENABLE_RINGS,
      IORING_REGISTER_FILES2, IORING_REGISTER_BUFFERS2, IORING_REGISTER_BUFFERS_UPDATE,
      IORING_REGISTER_IOWQ_AFF, IORING_UNREGISTER_IOWQ_AFF, IORING_REGISTER_IOWQ_MAX_WORKERS,
      IORING_REGISTER_RING_FDS, IORING_UNREGISTER_RING_FDS, IORING_REGISTER_PBUF_RING,
      IORING_UNREGISTER_PBUF_RING, IORING_REGISTER_SYNC_CANCEL, IORING_REGISTER_FILE_ALLOC_RANGE,
      IORING_REGISTER_PBUF_STATUS, IORING_REGISTER_CLOCK, IORING_REGISTER_CLONE_BUFFERS,
      kRegisterSendMsgRing, kRegisterQuery, 0xff /* a batch */};
  const unsigned op = in_.Pick(kOps);
  switch (op) {
    case IORING_REGISTER_BUFFERS: case IORING_REGISTER_BUFFERS2: {
      const unsigned n = Count(in_) % 9;
      iovec iov[8];
      for (unsigned i = 0; i < n; ++i) {
        const size_t len = Count(in_);
        iov[i] = {Address(in_, len > kPoolSize ? 0 : len), len};
      }
      if (op == IORING_REGISTER_BUFFERS) { Call(op, iov, n); break; }
      io_uring_rsrc_register reg = {};
      reg.nr = in_.U8() < 200 ? n : Count(in_);
      reg.flags = in_.U8() < 200 ? 0 : IORING_RSRC_REGISTER_SPARSE;
      reg.data = reinterpret_cast<uint64_t>(iov);
      if (reg.nr > 8 && !(reg.flags & IORING_RSRC_REGISTER_SPARSE)) reg.nr = n;
      Call(op, &reg, sizeof reg);
      break;
    }
    case IORING_REGISTER_FILES: case IORING_REGISTER_FILES2: case IORING_REGISTER_FILES_UPDATE: {
      int files[8];
      const unsigned n = Count(in_) % 9;
      for (unsigned i = 0; i < n; ++i) files[i] = Fd();
      if (op == IORING_REGISTER_FILES) { Call(op, files, n); break; }
      if (op == IORING_REGISTER_FILES_UPDATE) {
        io_uring_files_update up = {};
        up.offset = Count(in_);
        up.fds = reinterpret_cast<uint64_t>(files);
        Call(op, &up, n);
        break;
      }
      io_uring_rsrc_register reg = {};
      reg.nr = in_.U8() < 128 ? n : Count(in_) % 70000;
      reg.flags = reg.nr > n ? IORING_RSRC_REGISTER_SPARSE : 0;
      reg.data = reg.flags ? 0 : reinterpret_cast<uint64_t>(files);
      Call(op, &reg, sizeof reg);
      break;
    }
    case IORING_REGISTER_BUFFERS_UPDATE: {
      iovec iov = {Address(in_, 4096), 4096};
      io_uring_rsrc_update2 up = {};
      up.offset = Count(in_);
      up.data = reinterpret_cast<uint64_t>(&iov);
      up.nr = 1;
      Call(op, &up, sizeof up);
      break;
    }
    case IORING_REGISTER_EVENTFD: case IORING_REGISTER_EVENTFD_ASYNC: {
      int fd = Fd();
      Call(op, &fd, in_.U8() < 230 ? 1 : 2);
      break;
    }
    case IORING_REGISTER_PROBE: {
      char buf[sizeof(io_uring_probe) + 256 * sizeof(io_uring_probe_op)] = {};
      const unsigned nr = in_.U8() < 200 ? 256 : Count(in_) % 257;
      const int ret = Call(op, buf, nr);
      if (ret == 0 && nr == 256) {
        auto* probe = reinterpret_cast<io_uring_probe*>(buf);
        for (unsigned i = 0; i < probe->ops_len; ++i) {
          const bool on = probe->ops[i].flags & IO_URING_OP_SUPPORTED;
          const unsigned o = probe->ops[i].op;
          if (o < Caps().op_supported.size() && on != Caps().op_supported[o]) {
            OracleFail("probe-consistency", "PROBE disagrees with the capability snapshot", OpcodeName(o));
          }
        }
      }
      break;
    }
    case IORING_UNREGISTER_PERSONALITY: Call(op, nullptr, in_.U8() % 4); break;
    case IORING_REGISTER_RESTRICTIONS: {
      io_uring_restriction res[8] = {};
      const unsigned n = in_.Below(9);
      uint8_t allowed[64] = {};
      for (unsigned i = 0; i < n; ++i) {
        res[i].opcode = static_cast<uint16_t>(in_.Below(5));
        res[i].register_op = in_.Below(40);  // union with sqe_op / sqe_flags
        if (res[i].opcode == IORING_RESTRICTION_REGISTER_OP) allowed[res[i].register_op % 64] = 1;
      }
      if (Call(op, res, n) == 0) std::memcpy(allowed_reg_, allowed, sizeof allowed);
      break;
    }
    case IORING_REGISTER_ENABLE_RINGS: {
      const bool had_restrictions = std::any_of(std::begin(allowed_reg_), std::end(allowed_reg_), [](uint8_t v) { return v; });
      if (Call(op, nullptr, 0) == 0 && had_restrictions) restricted_ = true;
      break;
    }
    case IORING_REGISTER_IOWQ_AFF: {
      uint64_t mask = in_.U8() % 4;
      Call(op, &mask, in_.U8() < 200 ? sizeof mask : Count(in_) % 64);
      break;
    }
    case IORING_REGISTER_IOWQ_MAX_WORKERS: {
      unsigned v[2] = {in_.U8() % 5u, in_.U8() % 5u};
      Call(op, v, in_.U8() < 240 ? 2 : 3);
      break;
    }
    case IORING_REGISTER_RING_FDS: case IORING_UNREGISTER_RING_FDS: {
      io_uring_rsrc_update up = {};
      up.offset = in_.U8() < 128 ? -1U : in_.U8() % 20;
      up.data = op == IORING_REGISTER_RING_FDS ? static_cast<uint64_t>(Fd()) : 0;
      const int ret = Call(op, &up, 1);
      if (op == IORING_REGISTER_RING_FDS && ret == 1) ring_slots_.push_back(up.offset);
      break;
    }
    case IORING_REGISTER_PBUF_RING: case IORING_UNREGISTER_PBUF_RING: case IORING_REGISTER_PBUF_STATUS: {
      io_uring_buf_reg reg = {};
      const uint8_t f = in_.U8();
      reg.ring_entries = f & 1 ? 8 : Count(in_);
      reg.ring_addr = f & 2 ? 0 : reinterpret_cast<uint64_t>(Address(in_, 8 * 16));
      reg.flags = static_cast<uint16_t>((f & 2 ? IOU_PBUF_RING_MMAP : 0) | (f & 4 ? IOU_PBUF_RING_INC : 0));
      reg.bgid = in_.U8() % 4;
      Call(op, &reg, 1);
      break;
    }
    case IORING_REGISTER_SYNC_CANCEL: {
      io_uring_sync_cancel_reg reg = {};
      reg.addr = in_.U8();
      reg.fd = Fd();
      reg.flags = in_.U8() & 0x3f;
      reg.timeout.tv_nsec = 1000000;
      Call(op, &reg, 1);
      break;
    }
    case IORING_REGISTER_FILE_ALLOC_RANGE: {
      io_uring_file_index_range r = {Count(in_), Count(in_), 0};
      Call(op, &r, 0);
      break;
    }
    case IORING_REGISTER_CLOCK: {
      io_uring_clock_register c = {};
      c.clockid = in_.Below(8);
      Call(op, &c, 0);
      break;
    }
    case IORING_REGISTER_CLONE_BUFFERS: {
      struct io_uring_clone_buffers c = {};
      c.src_fd = static_cast<uint32_t>(in_.U8() < 220 ? S->source.ring_fd : Fd());
      c.flags = in_.Below(4);
      c.src_off = Count(in_) % 4;
      c.dst_off = Count(in_);
      c.nr = Count(in_) % 4;
      Call(op, &c, 1);
      break;
    }
    case IORING_REGISTER_RESIZE_RINGS: {
      io_uring_params p = {};
      p.sq_entries = Count(in_);
      p.cq_entries = Count(in_);
      p.flags = in_.U8() & (IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP);
      Check(op, io_uring_resize_rings(ring_, &p));  // liburing remaps the rings on success
      break;
    }
    case kRegisterSendMsgRing: {
      io_uring_sqe sqe = {};
      io_uring_prep_msg_ring(&sqe, ring_->ring_fd, in_.U8(), kMsgTag | in_.U8(), 0);
      // A "blind" opcode (fd -1): no ring of ours, so no restrictions apply.
      const int ret = io_uring_register(static_cast<unsigned>(-1), op, &sqe, 1);
      CountFeature((op << 16) ^ ResultClass(ret));
      if (ret < -4095) OracleFail("res-range", "SEND_MSG_RING returned below -4095", std::to_string(ret));
      break;
    }
    case kRegisterQuery: Call(op, nullptr, 0); break;
    case 0xff: SubmitBatch(); break;
    default: Call(op, nullptr, 0); break;  // UNREGISTER_*, PERSONALITY
  }
}

}  // namespace
}  // namespace ringcheck::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ringcheck::fuzz;
  if (S == nullptr) Init();
  if (!S->usable) return 0;
  LogInputStart("register", data, size);
  ByteReader in(data, size);
  static const uint32_t kModes[] = {0, IORING_SETUP_R_DISABLED,
                                    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQE32,
                                    IORING_SETUP_SUBMIT_ALL};
  io_uring ring;
  io_uring_params p = {};
  p.flags = in.Pick(kModes);
  if (io_uring_queue_init_params(8, &ring, &p) < 0) HarnessFail("creating a ring");
  {
    Input input(in, &ring);
    for (int steps = 0; steps < 32 && !in.empty(); ++steps) input.Step();
  }
  io_uring_queue_exit(&ring);
  CheckKernelLog("register");
  NoteExec("register");
  return 0;
}
