// Shared by the register and enter suites: the raw system calls (liburing's
// wrappers retry or adjust some answers, e.g. io_uring_register_files raises
// RLIMIT_NOFILE on -EMFILE), small SQE helpers, a scratch directory and a
// way to become an unprivileged user in a forked child.
#ifndef RINGCHECK_SUITES_REGISTER_REGISTER_UTIL_H_
#define RINGCHECK_SUITES_REGISTER_REGISTER_UTIL_H_

#include <liburing.h>
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "harness/ring.h"

namespace ringcheck {

// io_uring_register(2) and io_uring_enter(2) as the kernel answers them:
// the result, or -errno.
long RegisterRaw(int fd, unsigned opcode, const void* arg, unsigned nr_args);
long EnterRaw(int fd, unsigned to_submit, unsigned min_complete, unsigned flags,
              const void* arg, size_t argsz);

// Queues `count` NOPs with user_data base, base+1, ... and submits them;
// returns what io_uring_submit returned, at most `count`.
int SubmitNops(Ring& ring, unsigned count, uint64_t base = 1);

// Queues one SQE prepared by `prep` and submits it; returns the submit result.
template <typename Prep>
int SubmitOne(Ring& ring, Prep prep) {
  io_uring_sqe* sqe = ring.NextSqe();
  prep(sqe);
  return ring.Submit();
}

// One CQE within the deadline, or a CQE with res = kNoCqe and user_data 0.
constexpr int32_t kNoCqe = -999999;
Cqe ReapOne(Ring& ring, std::chrono::milliseconds timeout = std::chrono::seconds(5));

// A private directory removed (with its files) on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& parent = "");
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// In a forked child only: drops every group and becomes uid/gid `id`
// (65534 when not given) for real, effective and saved ids. 0 or -errno.
constexpr unsigned kNobody = 65534;
int BecomeUser(unsigned id = kNobody, bool keep_saved_root = false);

// CLOCK_MONOTONIC now, in nanoseconds, and elapsed milliseconds since t0.
int64_t MonotonicNs();
int64_t ClockNs(clockid_t clock);
inline double ElapsedMs(int64_t t0) { return (MonotonicNs() - t0) / 1e6; }

// A readable pipe: write end and read end, closed on destruction.
struct Pipe {
  Pipe();
  ~Pipe();
  int read_fd = -1;
  int write_fd = -1;
};

// Reads an eventfd without blocking: the counter, or 0 when it was zero.
uint64_t ReadEventfd(int efd);

// Memory available to the system (MemAvailable), in bytes; 0 if unknown.
uint64_t MemAvailableBytes();

// Whether the environment is a ringcheck guest (harness/vm/init.sh).
bool InGuest();

}  // namespace ringcheck

#endif  // RINGCHECK_SUITES_REGISTER_REGISTER_UTIL_H_
