// The CQE oracles of the sqe fuzzer: one CQE per SQE (with the exceptions
// CQE_SKIP_SUCCESS, multishot F_MORE, zero-copy NOTIF and cancelled chains
// allow), no unknown user_data, results in range, NOP and restricted-opcode
// results. Also closes the fds requests created.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "fuzz/common/oracle.h"
#include "fuzz/sqe/state.h"
#include "harness/errno_names.h"

namespace ringcheck::fuzz::sqe {

bool trace = false;

namespace {

std::string Describe(const Entry& e, uint64_t ud) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s user_data 0x%llx sqe flags 0x%x", e.desc ? e.desc->name : "denied",
                static_cast<unsigned long long>(ud), e.flags);
  return buf;
}


void CloseNewFd(const Entry& e, const Step& st, int32_t res) {
  if (res < 0 || e.desc == nullptr || !(e.desc->traits & kCreatesFd)) return;
  if (st.spec.file.raw != 0 && e.op != IORING_OP_FIXED_FD_INSTALL) return;  // direct: a slot index
  rcfuzz::CloseNoTimeWait(res);  // SOCKET, ACCEPT
}


// The hot path: a plain NOP of this input completing 0 for the first time
// (every check of HandleCqe would pass). Not instrumented for coverage: the
// extra counter says all there is to say, and this runs for every NOP.
__attribute__((no_sanitize("coverage"))) bool QuietNop(const io_uring_cqe* cqe) {
  static uint8_t* const counter = FeatureCounter(uint32_t{IORING_OP_NOP} << 20);
  const unsigned idx = static_cast<unsigned>(cqe->user_data - S->ud_base);
  if (idx >= static_cast<unsigned>(S->prog.nsqes) || cqe->res != 0 || cqe->flags != 0 || trace) return false;
  Entry& e = S->entries[idx];
  if (e.op != IORING_OP_NOP || !e.consumed || e.finals || e.denied || (e.flags & IOSQE_CQE_SKIP_SUCCESS)) {
    return false;
  }
  e.finals = 1;
  if (*counter != 255) ++*counter;
  return true;
}

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
      const std::string op = FindOp(p.op[idx]) ? FindOp(p.op[idx])->name : "opcode " + std::to_string(p.op[idx]);
      switch (ClassifyLateCqe(&p, idx, cqe->res, cqe->flags, S->known_zc_cancelled_notif)) {
        case LateCqe::kAccepted:
          ++S->count.late;
          return;
        case LateCqe::kAfterLast:
          OracleFail("one-cqe-per-sqe", "a request posted another CQE after its input ended",
                     op + " res " + ResultName(cqe->res) + " flags " + std::to_string(cqe->flags));
        case LateCqe::kNotifNotAnnounced:
          OracleFail("one-cqe-per-sqe", op + " posted a CQE after its last one",
                     "late NOTIF after a result without F_MORE, res " + ResultName(cqe->res));
        case LateCqe::kUnknown:
          break;
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
    // Known finding zc-cancelled-notif (findings/README.md): a cancelled
    // zero-copy send still posts its NOTIF. Suppressed only when asked.
    if ((cqe->flags & IORING_CQE_F_NOTIF) && e.desc && (e.desc->traits & kZeroCopy) && !e.zc_notif &&
        S->known_zc_cancelled_notif) {
      e.zc_notif = true;
      CountFeature(0x7a630000u);
      return;
    }
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
  if (cqe->res >= 0 && e.desc) {  // effects the reset must undo (see NoteEffects)
    if ((e.desc->traits & kPathOp) && e.op != IORING_OP_STATX) S->dir_dirty = true;
    if (e.op == IORING_OP_CLOSE) S->recreate |= (1u << rcfuzz::kVictim0) | (1u << rcfuzz::kVictim1);
  }
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

}  // namespace

LateCqe ClassifyLateCqe(State::Past* p, unsigned idx, int32_t res, uint32_t flags, bool known_zc_cancelled_notif) {
  const bool notif = flags & IORING_CQE_F_NOTIF;
  if (p->zc[idx]) {  // a zero-copy send whose NOTIF was not seen
    if (notif) {
      const bool announced = p->zc_more[idx] || !p->zc_result[idx];
      p->zc[idx] = false;
      if (!p->zc_result[idx]) return LateCqe::kAccepted;  // the result may follow (batching)
      return announced || known_zc_cancelled_notif ? LateCqe::kAccepted : LateCqe::kNotifNotAnnounced;
    }
    if (!p->zc_result[idx]) {
      p->zc_result[idx] = true;
      p->zc_more[idx] = flags & IORING_CQE_F_MORE;
      p->silent[idx] = false;
      return LateCqe::kAccepted;
    }
    return LateCqe::kAfterLast;  // a second result
  }
  if (p->silent[idx]) {
    if (!(flags & IORING_CQE_F_MORE)) p->silent[idx] = false;  // multishot: more may come
    if (p->new_fd[idx] && res >= 0) rcfuzz::CloseNoTimeWait(res);
    return LateCqe::kAccepted;
  }
  if (p->finished[idx]) return LateCqe::kAfterLast;
  return LateCqe::kUnknown;
}

__attribute__((no_sanitize("coverage"))) void Reap() {
  unsigned head, n = 0;
  io_uring_cqe* cqe;
  io_uring_for_each_cqe(&S->ring, head, cqe) {
    if (!QuietNop(cqe)) HandleCqe(cqe);
    ++n;
  }
  io_uring_cq_advance(&S->ring, n);
}

// Submits what is queued; a link chain never spans two submissions.
}  // namespace ringcheck::fuzz::sqe
