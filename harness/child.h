// Running code in a forked child with a deadline, and reading how it ended.
#ifndef RINGCHECK_HARNESS_CHILD_H_
#define RINGCHECK_HARNESS_CHILD_H_

#include <chrono>
#include <functional>
#include <string>

namespace ringcheck {

struct ChildOutcome {
  enum Kind { kExited, kSignaled, kTimedOut, kNotStarted } kind = kNotStarted;
  int exit_code = -1;  // kExited
  int signal = 0;      // kSignaled
  int error = 0;       // kNotStarted: the errno of fork/pidfd_open

  bool ExitedWith(int code) const { return kind == kExited && exit_code == code; }
  bool KilledBy(int sig) const { return kind == kSignaled && signal == sig; }
  std::string Describe() const;  // "exited 3", "killed by SIGSEGV", "timed out"
};

// Forks; the child runs `body` and _exit()s with its return value (no atexit
// handlers, no gtest teardown). The parent waits up to `timeout` (then kills
// the child with SIGKILL and reports kTimedOut). GoogleTest assertions made
// in the child are lost: return distinct exit codes instead.
ChildOutcome RunInChild(const std::function<int()>& body,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10));

// In a child: touches one byte at `addr` and returns normally if readable; a
// SIGSEGV ends the child (read the outcome with KilledBy(SIGSEGV)).
void TouchByte(const void* addr);

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_CHILD_H_
