// libFuzzer target: sequences of SQEs over a sandboxed, restricted ring, with
// the oracles of issue 5 checked after every input (see oracle.h for the
// message format, cqe_oracle.cc for the CQE checks). One ring and one pool
// serve the whole process; what an input changed is put back before the next.
#include <liburing.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz/common/oracle.h"
#include "fuzz/sqe/decode.h"
#include "fuzz/sqe/dir_reaper.h"
#include "fuzz/sqe/kit_pool.h"
#include "fuzz/sqe/sqe_fuzzer.h"
#include "fuzz/sqe/state.h"
#include "harness/capabilities.h"
#include "harness/errno_names.h"
#include "harness/features.h"

namespace ringcheck::fuzz::sqe {

State* S = nullptr;

namespace {

// Requests of this input that still owe a CQE: queued ones (the next
// submission takes them) and submitted ones without their final CQE, less
// those that may complete silently (CQE_SKIP_SUCCESS).
unsigned Owed() {
  unsigned n = 0;
  for (int i = 0; i < S->queued; ++i) {
    const Entry& e = S->entries[i];
    if (!e.finals && !e.may_skip) ++n;
  }
  return n;
}

// A wait step that waits gives up after this long without a new CQE: what
// io-wq and task work complete comes within a few microseconds of the last
// completion; requests parked on an empty socket or a long timer do not
// come at all, and waiting the step's whole time for them was most of the
// nightly job's time (fuzz/README.md, "Where the time goes").
constexpr unsigned kIdleGapUs = 20;

int SubmitAndWait(unsigned wait_nr, unsigned wait_us) {
  __kernel_timespec ts = {0, static_cast<long long>(wait_us) * 1000};
  io_uring_cqe* cqe;
  const int ret = io_uring_submit_and_wait_timeout(&S->ring, &cqe, wait_nr, &ts, nullptr);
  return ret == -ETIME ? 0 : ret;
}

// Submits what is queued. With `wait_nr`, also waits (a wait step, see
// decode.h) until `wait_nr` CQEs are ready, but for no more than the
// input's requests owe; with `wait_us`, for at most that long and no longer
// than kIdleGapUs without a new CQE; with nothing owed, or no `wait_us`, it
// only reaps what is ready.
void Submit(unsigned wait_nr = 0, unsigned wait_us = 0) {
  if (wait_nr > 0 && wait_us > 0) {
    const unsigned owed = Owed();
    if (owed == 0) wait_us = 0;
    wait_nr = std::min(wait_nr, std::max(owed, 1u));
  }
  const bool timed = wait_nr > 0 && wait_us > 0;
  const auto start = std::chrono::steady_clock::now();
  for (int attempt = 0; attempt < 100; ++attempt) {
    int ret = wait_nr > 0 && !timed ? SubmitAndWait(wait_nr, 0) : io_uring_submit(&S->ring);
    if (ret >= 0) break;
    // libFuzzer's SIGALRM interrupts waits: the SQEs may be taken all the same.
    if (ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
      OracleFail("ring-consistency", "io_uring_enter failed on a working ring", ResultName(ret));
    }
    Reap();
  }
  // What the kernel took, from the SQ head itself: return values miss SQEs
  // taken by a call that then failed waiting.
  S->consumed = static_cast<int>(io_uring_smp_load_acquire(S->ring.sq.khead) - S->sq_base);
  const int records = std::min(S->consumed, S->prog.nsqes);
  for (int i = 0; i < records; ++i) S->entries[i].consumed = true;
  // The wait, in slices of kIdleGapUs, while CQEs keep coming. The CQEs of
  // requests that completed as they were submitted count.
  const auto until = start + std::chrono::microseconds(wait_us);
  for (unsigned tail = io_uring_smp_load_acquire(S->ring.cq.ktail); timed;) {
    if (io_uring_cq_ready(&S->ring) >= wait_nr) break;
    const auto left = std::chrono::duration_cast<std::chrono::microseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    const int ret = SubmitAndWait(wait_nr, std::min(static_cast<unsigned>(left.count()), kIdleGapUs));
    if (ret < 0 && ret != -EINTR) {
      OracleFail("ring-consistency", "io_uring_enter failed on a working ring", ResultName(ret));
    }
    const unsigned now = io_uring_smp_load_acquire(S->ring.cq.ktail);
    if (now == tail) break;  // none came in a whole slice
    tail = now;
  }
  Reap();
}

// DrainPool polls the pool's fds, then reads what they hold. A request
// still in flight can take the data in between (its poll wakeup runs as
// task work when poll returns, an io-wq worker reads whenever it runs), and
// the read of a blocking pool fd (pipe 0, the eventfd, the listener's
// accept) then waits for data no one sends: until libFuzzer's alarm,
// 16 s later with the nightly's -timeout=30 (its 10-15 s "slow units").
// A timer signal to this thread, armed around DrainPool, ends each such
// call with EINTR after kDrainGuardNs, and DrainPool goes on with the next fd.
constexpr long kDrainGuardNs = 2000000;
int drain_signal = 0;
timer_t drain_timer;

void Interrupt(int) {}  // no SA_RESTART: the blocked call returns EINTR

void SetUpDrainGuard() {
  const int sig = SIGRTMIN + 4;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = Interrupt;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, nullptr) != 0) return;
  sigevent sev;
  std::memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = sig;
  sev._sigev_un._tid = static_cast<pid_t>(syscall(SYS_gettid));
  if (timer_create(CLOCK_MONOTONIC, &sev, &drain_timer) != 0) return;
  drain_signal = sig;
}

void Drain() {
  itimerspec t;
  std::memset(&t, 0, sizeof t);
  t.it_value.tv_nsec = t.it_interval.tv_nsec = kDrainGuardNs;  // every call that blocks
  if (drain_signal != 0) timer_settime(drain_timer, 0, &t, nullptr);
  DrainPool(&S->pool);
  t.it_value.tv_nsec = t.it_interval.tv_nsec = 0;
  if (drain_signal != 0) timer_settime(drain_timer, 0, &t, nullptr);
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

// Zero-copy sends of this input whose result announced a NOTIF (F_MORE)
// that has not arrived. A chain cancelled by the cancel-all counts as done
// without it, and the NOTIF comes when the socket's skb is freed.
bool NotifOutstanding() {
  for (int i = 0; i < S->prog.nsqes; ++i) {
    const Entry& e = S->entries[i];
    if (e.consumed && e.desc && (e.desc->traits & kZeroCopy) && e.zc_result && e.zc_more && !e.zc_notif) return true;
  }
  return false;
}

void WaitForRequests(std::chrono::steady_clock::time_point start) {
  bool& cancel_sent = S->cancel_sent;
  int quick = 0;  // rounds in a row that went on without waiting
  bool waited = false;
  for (int round = 0;; ++round) {
    if (S->consumed < S->queued) Submit();
    Reap();
    if (S->consumed >= S->queued && AllDone(cancel_sent)) return;
    if (round == 0) {  // run pending task work once before cancelling
      io_uring_get_events(&S->ring);
      continue;
    }
    if (S->consumed >= S->queued) {
      // A synchronous cancel of everything: unlike an ASYNC_CANCEL SQE it
      // cannot queue behind a DRAIN request of the input. Every round,
      // because cancelling the head of a hard link issues the next request:
      // when it cancelled something (it returns how many), the next round
      // comes at once, to cancel that one too; when it found nothing, what
      // is left runs in io-wq (or waits behind a DRAIN), and the round waits.
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
      ++S->count.cancelled;
      const unsigned tail = io_uring_smp_load_acquire(S->ring.cq.ktail);
      Reap();
      if (AllDone(cancel_sent)) {
        // ret counts what the cancel found in io-wq (pending or running),
        // armed polls, waitids, futexes and timeouts; 0 with no CQE since
        // means none of the input's requests is anywhere a request runs.
        S->cancel_found_none = ret == 0 && tail == io_uring_smp_load_acquire(S->ring.cq.ktail);
        return;
      }
      if (ret > 0 && quick < 16) {
        ++quick;
        continue;
      }
    }
    quick = 0;
    if (round >= 2) {  // unblocks writers and zero-copy notifications
      Drain();
      ++S->count.drained;
    }
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
    if (!waited) ++S->count.waited;
    waited = true;
    __kernel_timespec ts = {0, 200000};
    io_uring_cqe* cqe;
    io_uring_wait_cqe_timeout(&S->ring, &cqe, &ts);
  }
}

// A request that may complete without a CQE (CQE_SKIP_SUCCESS) and has not
// posted one counts as done once the cancel-all went out, yet it may still
// run in io-wq: an ASYNC CLOSE of a victim's fd number that runs after the
// reset made a new pool fd at that number closes the new one (the HARNESS
// aborts "could not recreate pool fd 16" and "restoring the fixed file
// table: ... at slot 20", an input of eight such CLOSEs replayed a few dozen
// times). A synchronous cancel of each by its user_data, in submission order
// (a link follower is issued when its head completes), returns -ENOENT at
// once for one that is done, cancels one still queued, and waits for one
// that is running: for 2 ms at most in all, after which the rest count as
// done, as they did before. The CLOSE above, a TIMEOUT, an OPENAT finish
// in tens of microseconds (an FSYNC in about 0.1 ms); a request still
// running after that is stuck (ASYNC|HARDLINK RECVs on a unix socket were
// seen still running after 100 ms, 333 times a minute) and waiting for it
// only costs time.
void SettleSilentRequests() {
  if (!S->cancel_seen) return;  // without the cancel-all, AllDone waited for them
  if (S->cancel_found_none) return;  // nothing left to run (WaitForRequests)
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
  for (int i = 0; i < S->prog.nsqes; ++i) {
    const Entry& e = S->entries[i];
    if (!e.consumed || e.finals || !e.may_skip) continue;
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    io_uring_sync_cancel_reg reg;
    std::memset(&reg, 0, sizeof reg);
    reg.addr = S->ud_base | static_cast<uint64_t>(i);
    reg.fd = -1;
    reg.timeout.tv_nsec = static_cast<long long>(left.count());
    const int ret = io_uring_register_sync_cancel(&S->ring, &reg);
    if (ret < 0 && ret != -ENOENT && ret != -ETIME && ret != -EALREADY && ret != -EINTR) {
      HarnessFail("cancelling a request that may complete silently: " + ResultName(ret));
    }
    ++S->count.settled;
  }
  Reap();
}

// Waits until every request of the input completed (or the deadline oracle
// fires), then, up to a quarter of the deadline, for the NOTIFs announced
// by zero-copy sends of cancelled chains, so one input's completions do not
// land in the next. One that is later still is attributed to its input by
// ClassifyLateCqe.
void WaitForEverything() {
  const auto start = std::chrono::steady_clock::now();
  WaitForRequests(start);
  SettleSilentRequests();
  if (NotifOutstanding()) {
    ++S->count.notif_waits;
    const auto until = std::chrono::steady_clock::now() + S->deadline / 4;
    while (NotifOutstanding() && std::chrono::steady_clock::now() < until) {
      Drain();
      __kernel_timespec ts = {0, 200000};
      io_uring_cqe* cqe;
      io_uring_wait_cqe_timeout(&S->ring, &cqe, &ts);
      Reap();
    }
  }
  const auto waited = std::chrono::steady_clock::now() - start;
  if (waited > std::chrono::microseconds(200)) {
    S->count.wait_us += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(waited).count());
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

// Puts the pool's fds back into the fixed table. The update stops at the
// first slot it cannot fill: a pool fd closed behind the fuzzer's back by a
// request of an earlier input that ran late (DRAIN defers requests beyond
// cancel's reach) is made anew and the update goes on from there.
void RestoreFixedTable(int* files) {
  for (unsigned from = 0, repairs = 0; from < rcfuzz::kFixedSlots;) {
    int ret = io_uring_register_files_update(&S->ring, from, files + from, rcfuzz::kFixedSlots - from);
    if (ret == static_cast<int>(rcfuzz::kFixedSlots - from)) return;
    const unsigned bad = from + static_cast<unsigned>(ret < 0 ? 0 : ret);
    if (bad >= rcfuzz::kPoolFdCount || ++repairs > 4 || !rcfuzz::Recreate(&S->pool, static_cast<int>(bad)) ||
        fcntl(S->pool.fd[bad], F_GETFD) < 0) {
      HarnessFail("restoring the fixed file table: " + ResultName(ret) + " at slot " + std::to_string(bad));
    }
    files[bad] = S->pool.fd[bad];
    from = bad;
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
    io_uring_submit(&S->ring);
    for (int waited = 0; waited < 1000 && !io_uring_cq_ready(&S->ring); ++waited) {  // they run inline
      __kernel_timespec ts = {0, 1000000};
      io_uring_cqe* cqe;
      io_uring_wait_cqe_timeout(&S->ring, &cqe, &ts);
    }
    if (!io_uring_cq_ready(&S->ring)) {
      OracleFail("completion-deadline", "REMOVE_BUFFERS of the reset did not complete", "after 1000 ms");
    }
    Reap();
  }
  if (S->io_dirty || S->recreate) Drain();
  // The directory first: an input that removed or renamed "d" and also hit
  // the subdirectory's fd left nothing for Recreate(kSubdirFd) to open (the
  // HARNESS abort "could not recreate pool fd 1" of a 30-minute run).
  if (S->dir_dirty && rcfuzz::ResetDirectory(&p)) S->fixed_dirty = true;
  for (int i = 0; i < rcfuzz::kPoolFdCount; ++i) {
    if (S->recreate & (1u << i)) {
      if (!rcfuzz::Recreate(&p, i)) {
        const int e = errno;
        int rings = 0;
        const int fds = CountOpenFds(&rings);
        errno = e;
        HarnessFail("could not recreate pool fd " + std::to_string(i) + " (" + std::to_string(fds) + " fds open)");
      }
      ++S->count.recreated;
      S->fixed_dirty = true;
    }
  }
  for (int i = 0; i < rcfuzz::kPoolFdCount; ++i) {
    if (S->files_dirty & (1u << i)) rcfuzz::RestoreFile(&p, i);
  }
  if (S->fixed_dirty) {
    int files[rcfuzz::kFixedSlots];
    rcfuzz::FixedTable(p, files);
    RestoreFixedTable(files);
  }
  if (S->pbuf_dirty) {
    uint16_t head = 0;
    if (io_uring_buf_ring_head(&S->ring, rcfuzz::kPbufGroup, &head) == 0) {
      rcfuzz::RefillPbufRing(&p, head + (p.pbuf_tail & ~0xffffu));
    }
  }
}

// Known finding drain-link-zc (findings/README.md): a DRAIN link with a
// zero-copy send never completes. When asked to step around it, an input
// with a zero-copy send loses its DRAIN flags.
void AvoidDrainWithZeroCopy(Program* prog) {
  bool zc = false;
  for (int i = 0; i < prog->nsteps; ++i) {
    const Step& st = prog->steps[i];
    if (st.kind == Step::kSqe && st.desc && (st.desc->traits & kZeroCopy)) zc = true;
  }
  if (!zc) return;
  for (int i = 0; i < prog->nsteps; ++i) prog->steps[i].spec.flags &= static_cast<uint8_t>(~IOSQE_IO_DRAIN);
}

// Marks what a record may change, from its opcode's traits and its fields.
void NoteEffects(const Entry& e, const rcfuzz::SqeSpec& s) {
  if (e.desc == nullptr) return;
  const uint16_t t = e.desc->traits;
  // Names a path operation may create, and a victim fd CLOSE may close,
  // need a reset only if the request succeeded (cqe_oracle.cc looks), or
  // might succeed without a CQE.
  if ((t & kPathOp) && e.may_skip) S->dir_dirty = true;
  if (e.op == IORING_OP_CLOSE && e.may_skip) S->recreate |= (1u << rcfuzz::kVictim0) | (1u << rcfuzz::kVictim1);
  if (t & kUsesFd) S->io_dirty = true;
  // A file whose size or offset the request may change; with FIXED_FILE the
  // slot number is the pool index.
  const bool moves = (t & kMutatesFile) || ((t & kUsesFd) && s.off.kind == rcfuzz::kRaw && s.off.raw == ~0ull);
  if (moves) {
    if (s.fd.kind == rcfuzz::kFd) S->files_dirty |= 1u << s.fd.index;
    else if ((e.flags & IOSQE_FIXED_FILE) && s.fd.raw < rcfuzz::kPoolFdCount) S->files_dirty |= 1u << s.fd.raw;
    if (e.op == IORING_OP_SPLICE || e.op == IORING_OP_TEE) S->files_dirty |= ~0u;  // the input side too
  }
  if ((t & kFixedTable) || e.op == IORING_OP_MSG_RING) S->fixed_dirty = true;
  if (e.flags & IOSQE_BUFFER_SELECT) S->pbuf_dirty = true;
  if (e.op == IORING_OP_PROVIDE_BUFFERS) S->legacy_dirty = true;
  if (t & kHitsFd) {
    if (s.fd.kind == rcfuzz::kFd) S->recreate |= 1u << s.fd.index;
    else if ((e.flags & IOSQE_FIXED_FILE) && s.fd.raw < rcfuzz::kPoolFdCount) S->recreate |= 1u << s.fd.raw;
  }
}

void RunInput(const uint8_t* data, size_t size) {
  if (S->gen > 0) {
    State::Past& past = S->past[S->gen % State::kPastInputs];
    past.ud_base = S->ud_base;
    past.silent.reset();
    past.finished.reset();
    past.new_fd.reset();
    past.zc.reset();
    past.zc_result.reset();
    past.zc_more.reset();
    for (int i = 0; i < S->prog.nsqes; ++i) {
      const Entry& e = S->entries[i];
      if (!e.consumed) continue;
      if (e.finals) past.finished.set(i);
      else if (e.may_skip) past.silent.set(i);
      const bool zc = e.desc && (e.desc->traits & kZeroCopy);
      past.zc[i] = zc && !e.zc_notif;
      past.zc_result[i] = zc && e.zc_result;
      past.zc_more[i] = zc && e.zc_more;
      const rcfuzz::SqeSpec& spec = S->prog.steps[e.step].spec;
      if (e.desc && (e.desc->traits & kCreatesFd) && (spec.file.raw == 0 || e.op == IORING_OP_FIXED_FD_INSTALL)) {
        past.new_fd.set(i);
      }
      past.op[i] = e.op;
    }
  }
  ++S->gen;
  S->ud_base = kInputTag | ((S->gen & 0xffffffffffull) << 16);
  DecodeProgram(data, size, S->allowed, S->denied, S->ud_base, &S->prog);
  if (S->known_drain_link_zc) AvoidDrainWithZeroCopy(&S->prog);
  S->queued = S->consumed = 0;
  S->sq_base = io_uring_smp_load_acquire(S->ring.sq.khead);  // CheckRing: nothing left from before
  S->cancel_seen = S->cancel_sent = S->cancel_found_none = false;
  S->dir_dirty = S->fixed_dirty = S->pbuf_dirty = S->legacy_dirty = S->io_dirty = false;
  S->files_dirty = 0;
  S->recreate = 0;
  bool in_link = false, chain_skip = false;
  for (int i = 0; i < S->prog.nsteps; ++i) {
    Step& st = S->prog.steps[i];
    if (st.kind != Step::kSqe) {
      Submit(st.kind == Step::kWait ? st.wait_nr : 0, st.wait_us);
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
    // A PIPE that may complete after its input ended would leave two fds no
    // one can close (they are written to scratch memory the next input
    // reuses): such a PIPE creates fixed files instead.
    if (e.may_skip && st.desc && (st.desc->traits & kPipeOut) && st.spec.file.raw == 0) {
      st.spec.file = rcfuzz::Raw(IORING_FILE_INDEX_ALLOC);
    }
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
  StopDirReaper();
}

void Init() {
  S = new State();
  if (!Caps().usable()) {
    std::fprintf(stderr, "ringcheck sqe fuzzer: io_uring is not usable here (%s); inputs are ignored\n",
                 ResultName(Caps().setup_error).c_str());
    return;
  }
  trace = std::getenv("RINGCHECK_FUZZ_TRACE") != nullptr;
  if (const char* known = std::getenv("RINGCHECK_FUZZ_KNOWN")) {
    S->known_zc_cancelled_notif = std::strstr(known, "zc-cancelled-notif") != nullptr;
    S->known_drain_link_zc = std::strstr(known, "drain-link-zc") != nullptr;
  }
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
  if (StartDirReaper(S->pool.dir)) S->pool.take_dir = TakeDir;
  SetUpDrainGuard();
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

}  // namespace ringcheck::fuzz::sqe

namespace ringcheck::fuzz {

uint64_t SqeFuzzerSqeCount() { return sqe::S ? sqe::S->sqes : 0; }

void StatsExtra(char* buf, size_t size) {
  const sqe::State::Counters& c = sqe::S->count;
  std::snprintf(buf, size,
                "waited=%llu cancelled=%llu drained=%llu notif_waits=%llu recreated=%llu late=%llu wait_ms=%llu "
                "trashed=%llu settled=%llu",
                static_cast<unsigned long long>(c.waited), static_cast<unsigned long long>(c.cancelled),
                static_cast<unsigned long long>(c.drained), static_cast<unsigned long long>(c.notif_waits),
                static_cast<unsigned long long>(c.recreated), static_cast<unsigned long long>(c.late),
                static_cast<unsigned long long>(c.wait_us / 1000),
                static_cast<unsigned long long>(sqe::DirsTrashed()),
                static_cast<unsigned long long>(c.settled));
}

}  // namespace ringcheck::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ringcheck::fuzz;
  using namespace ringcheck::fuzz::sqe;
  if (S == nullptr) Init();
  if (!S->usable) return 0;
  LogInputStart("sqe", data, size);
  if (trace) std::fprintf(stderr, "input of %zu bytes\n", size);
  const auto start = std::chrono::steady_clock::now();
  RunInput(data, size);
  if (trace) {
    std::fprintf(stderr, "input done in %lld us\n", static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                       std::chrono::steady_clock::now() - start).count()));
  }
  NoteExec("sqe", S->sqes, 100000, StatsExtra);
  return 0;
}
