// The sqe fuzzer's per-process state, shared by its execution (sqe_fuzzer.cc)
// and its CQE oracle (cqe_oracle.cc).
#ifndef RINGCHECK_FUZZ_SQE_STATE_H_
#define RINGCHECK_FUZZ_SQE_STATE_H_

#include <liburing.h>

#include <bitset>
#include <chrono>
#include <cstdint>
#include <vector>

#include "fuzz/sqe/decode.h"
#include "fuzz/sqe/kit_pool.h"

namespace ringcheck::fuzz::sqe {

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
    std::bitset<rcfuzz::kMaxRecords> new_fd;    // a result >= 0 is an fd to close
    // Zero-copy sends whose NOTIF has not been seen: it may still arrive
    // (the skb is freed late), and is that input's, not the next one's.
    std::bitset<rcfuzz::kMaxRecords> zc;
    std::bitset<rcfuzz::kMaxRecords> zc_result;  // its result CQE was seen
    std::bitset<rcfuzz::kMaxRecords> zc_more;    // ... and carried F_MORE
    uint8_t op[rcfuzz::kMaxRecords];
  };
  static constexpr uint64_t kPastInputs = 1024;
  Past past[kPastInputs];  // by generation
  int queued = 0, consumed = 0;
  unsigned sq_base = 0;  // SQ head when the input started
  bool cancel_sent = false, cancel_seen = false;
  // The input's last cancel-all found nothing to cancel, pending or running,
  // and nothing completed after it: no request of the input can still run
  // (SettleSilentRequests has nothing to wait for).
  bool cancel_found_none = false;
  uint64_t sqes = 0;
  // Where the time goes (the stats line of NoteExec, see fuzz/README.md):
  // inputs that had to wait for completions, needed the cancel-all, drained
  // the pool, waited for a zero-copy NOTIF after everything else was done;
  // pool fds recreated; late CQEs of earlier inputs attributed to them;
  // microseconds spent waiting.
  struct Counters {
    uint64_t waited = 0, cancelled = 0, drained = 0, notif_waits = 0, recreated = 0, late = 0, wait_us = 0;
    uint64_t settled = 0;  // silent requests looked for after the cancel-all (SettleSilentRequests)
  } count;
  std::chrono::milliseconds deadline{3000};
  // Known kernel findings the run was asked to step around
  // (RINGCHECK_FUZZ_KNOWN, see fuzz/known-findings).
  bool known_zc_cancelled_notif = false;
  bool known_drain_link_zc = false;
  // What the input touched, so the reset does only what is needed.
  bool dir_dirty, fixed_dirty, pbuf_dirty, legacy_dirty, io_dirty;
  uint32_t files_dirty;  // pool fd indices whose size or offset may have changed
  uint32_t recreate;  // pool fd indices to recreate
};

extern State* S;

inline const char* OpName(const Entry& e) { return e.denied ? "a restricted opcode" : e.desc->name; }
extern bool trace;  // RINGCHECK_FUZZ_TRACE=1: print every SQE and CQE

// Consumes every CQE in the CQ, checking each against the oracles.
void Reap();

// A CQE of an earlier input's record `idx`, with what that input left in
// `p` (updated here): accepted, or which oracle it breaks. A zero-copy send's
// NOTIF is accepted late when its result announced one (F_MORE), when its
// result has not been seen yet, or, with `known_zc_cancelled_notif`, after a
// result without F_MORE (the known finding).
enum class LateCqe { kAccepted, kAfterLast, kNotifNotAnnounced, kUnknown };
LateCqe ClassifyLateCqe(State::Past* p, unsigned idx, int32_t res, uint32_t flags, bool known_zc_cancelled_notif);

}  // namespace ringcheck::fuzz::sqe

#endif  // RINGCHECK_FUZZ_SQE_STATE_H_
