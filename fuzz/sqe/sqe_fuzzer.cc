// libFuzzer target: sequences of SQEs over a sandboxed, restricted ring, with
// the oracles of issue 5 checked after every input (see oracle.h for the
// message format). One ring and one pool serve the whole process; what an
// input changed is put back before the next one.
#include <liburing.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <bitset>
#include <string>
#include <vector>

#include "fuzz/common/oracle.h"
#include "fuzz/sqe/decode.h"
#include "fuzz/sqe/kit_pool.h"
#include "fuzz/sqe/sqe_fuzzer.h"
#include "harness/capabilities.h"
#include "harness/errno_names.h"
#include "harness/features.h"

namespace ringcheck::fuzz {
namespace {

constexpr uint64_t kOwnUd = 0xA4ull << 56;  // the fuzzer's own requests
constexpr uint64_t kHousekeepingUd = kOwnUd | 2;
constexpr uint64_t kInputTag = 0xA5ull << 56;

struct Entry {
  const OpDesc* desc;
  uint8_t op, flags;
  bool denied, follower, may_skip, consumed;
  bool zc_result, zc_more, zc_notif;  // zero-copy sends: result CQE, its F_MORE, NOTIF CQE
  uint8_t finals;
  uint16_t more;
  int step;  // index in prog.steps
};

struct State {
  bool usable = false;
  rcfuzz::Pool pool;
  io_uring ring;
  std::vector<const OpDesc*> allowed;
  std::vector<uint8_t> denied;
  Program prog;
  Entry entries[rcfuzz::kMaxRecords];
  uint64_t gen = 0, ud_base = 0;
  // Earlier inputs' requests, for CQEs that arrive after their input ended:
  // a CQE_SKIP_SUCCESS candidate that never posted may still fail later (a
  // DRAIN-deferred request is beyond cancel's reach until it is issued).
  // Fixed storage: libFuzzer runs a leak check after any input that leaves
  // more allocations than it found, so the per-input path allocates nothing.
  struct Past {
    uint64_t ud_base;
    std::bitset<rcfuzz::kMaxRecords> silent;    // no CQE yet, none required
    std::bitset<rcfuzz::kMaxRecords> finished;  // completed
    uint8_t op[rcfuzz::kMaxRecords];
  };
  static constexpr uint64_t kPastInputs = 1024;
  Past past[kPastInputs];  // by generation
  int queued = 0, consumed = 0;
  bool cancel_sent = false, cancel_seen = false;
  uint64_t sqes = 0;
  std::chrono::milliseconds deadline{3000};
  // What the input touched, so the reset does only what is needed.
  bool dir_dirty, files_dirty, fixed_dirty, pbuf_dirty, legacy_dirty, io_dirty;
  uint32_t recreate;  // pool fd indices to recreate
};

State* S = nullptr;

std::string Describe(const Entry& e, uint64_t ud) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s user_data 0x%llx sqe flags 0x%x", e.desc ? e.desc->name : "denied",
                static_cast<unsigned long long>(ud), e.flags);
  return buf;
}

const char* OpName(const Entry& e) { return e.denied ? "a restricted opcode" : e.desc->name; }

void CloseNewFd(const Entry& e, const Step& st, int32_t res) {
  if (res < 0 || e.desc == nullptr || !(e.desc->traits & kCreatesFd)) return;
  if (st.spec.file.raw != 0 && e.op != IORING_OP_FIXED_FD_INSTALL) return;  // direct: a slot index
  close(res);
}

bool trace = false;  // RINGCHECK_FUZZ_TRACE=1: print every SQE and CQE

void HandleCqe(const io_uring_cqe* cqe) {
  const uint64_t ud = cqe->user_data;
  if (trace) {
    std::fprintf(stderr, "  cqe user_data 0x%llx res %s flags 0x%x\n", static_cast<unsigned long long>(ud),
                 ResultName(cqe->res).c_str(), cqe->flags);
  }
  if ((ud >> 56) == (kOwnUd >> 56)) return;
  const uint64_t base = ud & ~(kUdIndexMask | kUdAlias);
  const unsigned idx = static_cast<unsigned>(ud & kUdIndexMask);
  if (base != S->ud_base) {
    // A request of an earlier input that could complete silently may still
    // post its failure late (CQE_SKIP_SUCCESS); nothing else may.
    const uint64_t gen = (base >> 16) & 0xffffffffffull;
    State::Past& p = S->past[gen % State::kPastInputs];
    if ((base >> 56) == (kInputTag >> 56) && gen < S->gen && S->gen - gen >= State::kPastInputs) {
      return;  // older than the window: only a silent request can be that late
    }
    if (p.ud_base == base && idx < rcfuzz::kMaxRecords) {
      if (p.silent[idx]) {
        p.silent[idx] = false;
        return;
      }
      if (p.finished[idx]) {
        OracleFail("one-cqe-per-sqe", "a request posted another CQE after its input ended",
                   FindOp(p.op[idx]) ? FindOp(p.op[idx])->name : "opcode " + std::to_string(p.op[idx]) +
                   " res " + ResultName(cqe->res) + " flags " + std::to_string(cqe->flags));
      }
    }
    char buf[96];
    std::snprintf(buf, sizeof buf, "user_data 0x%llx res %d flags 0x%x",
                  static_cast<unsigned long long>(ud), cqe->res, cqe->flags);
    OracleFail("unknown-user-data", "a CQE carries user_data no request of this input has", buf);
  }
  if (idx >= static_cast<unsigned>(S->prog.nsqes) || !S->entries[idx].consumed) {
    OracleFail("unknown-user-data", "a CQE for a request that was never submitted",
               "record " + std::to_string(idx));
  }
  Entry& e = S->entries[idx];
  const Step* st = &S->prog.steps[e.step];
  CountFeature((uint32_t{e.op} << 20) ^ (ResultClass(cqe->res) << 6) ^ (cqe->flags & 0x3f));
  const bool notif = cqe->flags & IORING_CQE_F_NOTIF;
  if (!notif && cqe->res < -4095) {
    OracleFail("res-range", std::string(OpName(e)) + " completed with a result outside [-4095, INT_MAX]",
               Describe(e, ud) + " res " + std::to_string(cqe->res));
  }
  if (e.finals > 0) {
    OracleFail("one-cqe-per-sqe", std::string(OpName(e)) + " posted a CQE after its last one",
               Describe(e, ud) + " res " + ResultName(cqe->res) + " cqe flags " + std::to_string(cqe->flags));
  }
  if (e.desc && (e.desc->traits & kZeroCopy)) {
    // The result CQE says with F_MORE whether a NOTIF follows; with completion
    // batching the NOTIF may be posted before it.
    if (notif) {
      if (e.zc_notif) OracleFail("one-cqe-per-sqe", "a zero-copy send posted two NOTIF CQEs", Describe(e, ud));
      e.zc_notif = true;
    } else {
      if (e.zc_result) OracleFail("one-cqe-per-sqe", "a zero-copy send posted two result CQEs", Describe(e, ud));
      e.zc_result = true;
      e.zc_more = cqe->flags & IORING_CQE_F_MORE;
    }
    if (e.zc_result && e.zc_notif && !e.zc_more) {
      OracleFail("one-cqe-per-sqe", std::string(OpName(e)) + " posted a NOTIF although its result CQE had no F_MORE",
                 Describe(e, ud) + " result " + ResultName(notif ? 0 : cqe->res));
    }
    if (e.zc_result && (e.zc_notif || !e.zc_more)) e.finals = 1;
    return;
  }
  if (notif) OracleFail("one-cqe-per-sqe", std::string(OpName(e)) + " posted a NOTIF CQE", Describe(e, ud));
  if (cqe->flags & IORING_CQE_F_MORE) {
    if (e.desc == nullptr || !(e.desc->traits & kMultishot)) {
      OracleFail("one-cqe-per-sqe", std::string(OpName(e)) + " (not multishot) posted a CQE with F_MORE",
                 Describe(e, ud));
    }
    ++e.more;
    if (st) CloseNewFd(e, *st, cqe->res);
    return;
  }
  e.finals = 1;
  if (st) CloseNewFd(e, *st, cqe->res);
  if (e.desc && (e.desc->traits & kPipeOut) && cqe->res >= 0 && st && st->spec.file.raw == 0) {
    int fds[2];
    std::memcpy(fds, S->pool.scratch + idx * rcfuzz::kScratchPerRecord, sizeof fds);
    close(fds[0]);
    close(fds[1]);
  }
  // A request outside any chain, without DRAIN or BUFFER_SELECT. (A LINK flag
  // on the last SQE of a submission makes a dangling chain: 6.18 cancels it.)
  const bool plain = !e.follower && !(e.flags & (IOSQE_IO_DRAIN | IOSQE_BUFFER_SELECT | IOSQE_IO_LINK |
                                                 IOSQE_IO_HARDLINK));
  if (e.op == IORING_OP_NOP && !e.denied && plain && !(e.flags & IOSQE_FIXED_FILE)) {
    // An ASYNC NOP waits for io-wq, so the input's own cancel requests (or
    // the fuzzer's cancel-all) may cancel it; nothing else may fail it.
    if (cqe->res != 0 && cqe->res != -ECANCELED) {
      OracleFail("nop-result", "NOP completed with a result other than 0",
                 Describe(e, ud) + " res " + ResultName(cqe->res));
    }
    if ((e.flags & IOSQE_CQE_SKIP_SUCCESS) && cqe->res == 0) {
      OracleFail("cqe-skip-success", "a successful NOP with CQE_SKIP_SUCCESS posted a CQE", Describe(e, ud));
    }
  }
  if (e.denied && plain && cqe->res != -EACCES) {
    OracleFail("restricted-opcode", "an opcode outside the restrictions completed other than -EACCES",
               "opcode " + std::to_string(e.op) + " " + Describe(e, ud) + " res " + ResultName(cqe->res));
  }
}

void Reap() {
  unsigned head, n = 0;
  io_uring_cqe* cqe;
  io_uring_for_each_cqe(&S->ring, head, cqe) {
    HandleCqe(cqe);
    ++n;
  }
  io_uring_cq_advance(&S->ring, n);
}

// Submits what is queued; a link chain never spans two submissions.
void Submit(unsigned wait_nr = 0, unsigned wait_ms = 0) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    int ret;
    if (wait_nr > 0) {
      __kernel_timespec ts = {0, static_cast<long long>(wait_ms) * 1000000};
      io_uring_cqe* cqe;
      const unsigned before = io_uring_sq_ready(&S->ring);
      ret = io_uring_submit_and_wait_timeout(&S->ring, &cqe, wait_nr, &ts, nullptr);
      if (ret == -ETIME || ret >= 0) ret = static_cast<int>(before - io_uring_sq_ready(&S->ring));
    } else {
      ret = io_uring_submit(&S->ring);
    }
    if (ret >= 0) {
      S->consumed += ret;
      break;
    }
    if (ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
      OracleFail("ring-consistency", "io_uring_enter failed on a working ring", ResultName(ret));
    }
    Reap();
  }
  const int records = std::min(S->consumed, S->prog.nsqes);
  for (int i = 0; i < records; ++i) S->entries[i].consumed = true;
  Reap();
}

bool AllDone(bool cancel_sent) {
  if (cancel_sent && !S->cancel_seen) return false;
  for (int i = 0; i < S->prog.nsqes; ++i) {
    const Entry& e = S->entries[i];
    if (!e.consumed || e.finals) continue;
    if (e.may_skip && S->cancel_seen) continue;
    return false;
  }
  return true;
}

io_uring_sqe* GetSqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&S->ring);
  if (sqe == nullptr) {
    Submit();
    sqe = io_uring_get_sqe(&S->ring);
    if (sqe == nullptr) HarnessFail("no SQE free after a submission");
  }
  return sqe;
}

void WaitForEverything() {
  const auto start = std::chrono::steady_clock::now();
  bool& cancel_sent = S->cancel_sent;
  for (int round = 0;; ++round) {
    if (S->consumed < S->queued) Submit();
    Reap();
    if (S->consumed >= S->queued && AllDone(cancel_sent)) return;
    if (round == 0) {  // run pending task work once before cancelling
      io_uring_get_events(&S->ring);
      continue;
    }
    if (S->consumed >= S->queued && (!cancel_sent || round % 8 == 0)) {
      // A synchronous cancel of everything: unlike an ASYNC_CANCEL SQE it
      // cannot queue behind a DRAIN request of the input. Repeated, because
      // cancelling the head of a hard link issues the next request.
      io_uring_sync_cancel_reg reg;
      std::memset(&reg, 0, sizeof reg);
      reg.flags = IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL;
      reg.fd = -1;
      reg.timeout.tv_nsec = 100000000;
      int ret = io_uring_register_sync_cancel(&S->ring, &reg);
      if (ret < 0 && ret != -ENOENT && ret != -ETIME && ret != -EALREADY && ret != -EINTR) {
        HarnessFail("cancelling the input's requests: " + ResultName(ret));
      }
      cancel_sent = S->cancel_seen = true;
      continue;
    }
    if (round >= 2) DrainPool(&S->pool);  // unblocks writers and zero-copy notifications
    if (std::chrono::steady_clock::now() - start > S->deadline) {
      std::string missing;
      for (int i = 0; i < S->prog.nsqes; ++i) {
        const Entry& e = S->entries[i];
        if (e.consumed && !e.finals && !(e.may_skip && S->cancel_seen)) {
          missing += std::string(OpName(e)) + "#" + std::to_string(i) + " ";
        }
      }
      if (S->consumed < S->queued) missing += "(SQEs not consumed) ";
      OracleFail("completion-deadline", "requests still outstanding after cancel-all and the deadline",
                 missing + "after " + std::to_string(S->deadline.count()) + " ms");
    }
    __kernel_timespec ts = {0, 1000000};
    io_uring_cqe* cqe;
    io_uring_wait_cqe_timeout(&S->ring, &cqe, &ts);
  }
}

void CheckRing() {
  io_uring& r = S->ring;
  const unsigned sq_head = io_uring_smp_load_acquire(r.sq.khead);
  const unsigned sq_tail = *r.sq.ktail;
  const unsigned cq_head = *r.cq.khead;
  const unsigned cq_tail = io_uring_smp_load_acquire(r.cq.ktail);
  if (sq_head != sq_tail || cq_tail - cq_head > r.cq.ring_entries || *r.sq.kdropped != 0) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "sq head %u tail %u dropped %u; cq head %u tail %u entries %u", sq_head,
                  sq_tail, *r.sq.kdropped, cq_head, cq_tail, r.cq.ring_entries);
    OracleFail("ring-consistency", "ring head/tail inconsistent after an input", buf);
  }
}

void Reset() {
  rcfuzz::Pool& p = S->pool;
  if (S->legacy_dirty) {
    for (uint16_t group : {0, 2, 3, 4}) {
      io_uring_sqe* sqe = GetSqe();
      io_uring_prep_remove_buffers(sqe, 65536, group);
      sqe->user_data = kHousekeepingUd;
    }
    io_uring_submit_and_wait(&S->ring, 4);
    Reap();
  }
  if (S->io_dirty || S->recreate) DrainPool(&p);
  for (int i = 0; i < rcfuzz::kPoolFdCount; ++i) {
    if (S->recreate & (1u << i)) {
      if (!rcfuzz::Recreate(&p, i)) HarnessFail("could not recreate pool fd " + std::to_string(i));
      S->fixed_dirty = true;
    }
  }
  if (S->dir_dirty) {
    rcfuzz::ResetDirectory(&p);
    S->fixed_dirty = true;
  }
  if (S->files_dirty) rcfuzz::RestoreFiles(&p);
  if (S->fixed_dirty) {
    int files[rcfuzz::kFixedSlots];
    rcfuzz::FixedTable(p, files);
    int ret = io_uring_register_files_update(&S->ring, 0, files, rcfuzz::kFixedSlots);
    if (ret != rcfuzz::kFixedSlots) HarnessFail("restoring the fixed file table: " + ResultName(ret));
  }
  if (S->pbuf_dirty) {
    uint16_t head = 0;
    if (io_uring_buf_ring_head(&S->ring, rcfuzz::kPbufGroup, &head) == 0) {
      rcfuzz::RefillPbufRing(&p, head + (p.pbuf_tail & ~0xffffu));
    }
  }
}

// Marks what a record may change, from its opcode's traits and its fields.
void NoteEffects(const Entry& e, const rcfuzz::SqeSpec& s) {
  if (e.desc == nullptr) return;
  const uint16_t t = e.desc->traits;
  if (t & kPathOp) S->dir_dirty = true;
  if (t & kUsesFd) S->io_dirty = true;
  if ((t & kMutatesFile) || ((t & kUsesFd) && s.off.kind == rcfuzz::kRaw && s.off.raw == ~0ull)) {
    S->files_dirty = true;
  }
  if ((t & kFixedTable) || e.op == IORING_OP_MSG_RING) S->fixed_dirty = true;
  if (e.flags & IOSQE_BUFFER_SELECT) S->pbuf_dirty = true;
  if (e.op == IORING_OP_PROVIDE_BUFFERS) S->legacy_dirty = true;
  if (t & kHitsFd) {
    if (s.fd.kind == rcfuzz::kFd) S->recreate |= 1u << s.fd.index;
    else if ((e.flags & IOSQE_FIXED_FILE) && s.fd.raw < rcfuzz::kPoolFdCount) S->recreate |= 1u << s.fd.raw;
  }
  if (e.op == IORING_OP_CLOSE) S->recreate |= (1u << rcfuzz::kVictim0) | (1u << rcfuzz::kVictim1);
}

void RunInput(const uint8_t* data, size_t size) {
  if (S->gen > 0) {
    State::Past& past = S->past[S->gen % State::kPastInputs];
    past.ud_base = S->ud_base;
    past.silent.reset();
    past.finished.reset();
    for (int i = 0; i < S->prog.nsqes; ++i) {
      const Entry& e = S->entries[i];
      if (!e.consumed) continue;
      if (e.finals) past.finished.set(i);
      else if (e.may_skip) past.silent.set(i);
      past.op[i] = e.op;
    }
  }
  ++S->gen;
  S->ud_base = kInputTag | ((S->gen & 0xffffffffffull) << 16);
  DecodeProgram(data, size, S->allowed, S->denied, S->ud_base, &S->prog);
  S->queued = S->consumed = 0;
  S->cancel_seen = S->cancel_sent = false;
  S->dir_dirty = S->files_dirty = S->fixed_dirty = S->pbuf_dirty = S->legacy_dirty = S->io_dirty = false;
  S->recreate = 0;
  bool in_link = false, chain_skip = false;
  for (int i = 0; i < S->prog.nsteps; ++i) {
    Step& st = S->prog.steps[i];
    if (st.kind != Step::kSqe) {
      Submit(st.kind == Step::kWait ? st.wait_nr : 0, st.wait_ms);
      in_link = false;
      continue;
    }
    if (io_uring_sq_space_left(&S->ring) == 0) {
      Submit();
      in_link = false;
    }
    Entry& e = S->entries[st.record];
    e = Entry{};
    e.desc = st.desc;
    e.op = st.spec.opcode;
    e.flags = st.spec.flags;
    e.denied = st.denied;
    e.follower = in_link;
    e.step = i;
    if (!in_link) chain_skip = false;
    chain_skip |= (e.flags & IOSQE_CQE_SKIP_SUCCESS) != 0;
    e.may_skip = chain_skip;
    in_link = (e.flags & (IOSQE_IO_LINK | IOSQE_IO_HARDLINK)) != 0;
    NoteEffects(e, st.spec);
    if (trace) {
      std::fprintf(stderr, "  sqe #%d %s flags 0x%x user_data 0x%llx\n", st.record,
                   st.desc ? st.desc->name : "(restricted)", e.flags,
                   static_cast<unsigned long long>(st.spec.user_data));
    }
    io_uring_sqe* sqe = GetSqe();
    if (st.spec.opcode == IORING_OP_NOP && !st.denied) {  // the hot path: nothing to resolve
      io_uring_prep_nop(sqe);
      sqe->flags = st.spec.flags;
      sqe->user_data = st.spec.user_data;
    } else {
      rcfuzz::Materialize(st.spec, rcfuzz::BaseFor(S->pool, st.record), sqe);
    }
    ++S->queued;
  }
  S->sqes += static_cast<uint64_t>(S->prog.nsqes);
  WaitForEverything();
  CheckRing();
  Reset();
  CheckKernelLog("sqe");
}

void CleanUp() {
  if (S != nullptr && S->pool.fd[rcfuzz::kDirFd] >= 0) {
    rcfuzz::ResetDirectory(&S->pool);
    unlinkat(S->pool.fd[rcfuzz::kDirFd], "d", AT_REMOVEDIR);
    rmdir(S->pool.dir);
  }
}

void Init() {
  S = new State();
  if (!Caps().usable()) {
    std::fprintf(stderr, "ringcheck sqe fuzzer: io_uring is not usable here (%s); inputs are ignored\n",
                 ResultName(Caps().setup_error).c_str());
    return;
  }
  trace = std::getenv("RINGCHECK_FUZZ_TRACE") != nullptr;
  if (const char* ms = std::getenv("RINGCHECK_FUZZ_DEADLINE_MS")) S->deadline = std::chrono::milliseconds(std::atoi(ms));
  rcfuzz::ApplySandboxLimits();
  for (const OpDesc& d : OpTable()) {
    if (d.op < Caps().op_supported.size() && Caps().op_supported[d.op]) S->allowed.push_back(&d);
  }
  for (unsigned op = 0; op < Caps().op_supported.size(); ++op) {
    if (Caps().op_supported[op] && FindOp(static_cast<uint8_t>(op)) == nullptr) S->denied.push_back(static_cast<uint8_t>(op));
  }
  int ret = rcfuzz::OpenPool(&S->pool);
  if (ret < 0) HarnessFail("setting up the fd and buffer pool: " + ResultName(ret));
  std::atexit(CleanUp);
  std::vector<uint8_t> ops;
  for (const OpDesc* d : S->allowed) ops.push_back(d->op);
  uint32_t flags = 0;
  if (const char* mode = std::getenv("RINGCHECK_FUZZ_RING")) {
    if (std::strcmp(mode, "defer") == 0) flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    if (std::strcmp(mode, "sqpoll") == 0) flags = IORING_SETUP_SQPOLL;
  }
  ret = rcfuzz::SetupFuzzRing(&S->pool, &S->ring, ops.data(), static_cast<int>(ops.size()), flags);
  if (ret < 0) HarnessFail("setting up the restricted ring: " + ResultName(ret));
  S->usable = true;
}

}  // namespace

uint64_t SqeFuzzerSqeCount() { return S ? S->sqes : 0; }

}  // namespace ringcheck::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ringcheck::fuzz;
  if (S == nullptr) Init();
  if (!S->usable) return 0;
  if (trace) std::fprintf(stderr, "input of %zu bytes\n", size);
  const auto start = std::chrono::steady_clock::now();
  RunInput(data, size);
  if (trace) {
    std::fprintf(stderr, "input done in %lld us\n", static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                       std::chrono::steady_clock::now() - start).count()));
  }
  NoteExec("sqe", S->sqes);
  return 0;
}
