// What a forked child sees: whether a byte of memory exists in a child at
// all (the question MADV_DONTFORK, io_uring_ring_dontfork(3) and
// ibv_fork_init(3) are about), and a shared page through which a child hands
// results back, so that assertions and their errno names stay in the parent.
#ifndef RINGCHECK_HARNESS_CHILD_PROBE_H_
#define RINGCHECK_HARNESS_CHILD_PROBE_H_

#include <gtest/gtest.h>

#include <climits>
#include <cstddef>
#include <functional>

namespace ringcheck {

// Fork a child that reads the byte at `addr`. FaultsInChild succeeds when the
// child dies of SIGSEGV (no mapping there after fork), ReadableInChild when
// it reads the byte and exits normally; anything else (another signal, a
// timeout, fork failing) fails both, with what happened in the message.
// The child does not dump core.
::testing::AssertionResult FaultsInChild(const void* addr);
::testing::AssertionResult ReadableInChild(const void* addr);

// Values a child hands back to its parent: an anonymous MAP_SHARED page that
// the child writes and the parent reads after the child has ended. Every
// slot starts as kUnset, so "the child never got there" is visible.
class ChildValues {
 public:
  static constexpr long kUnset = LONG_MIN;
  static constexpr size_t kCount = 64;

  ChildValues();
  ~ChildValues();
  ChildValues(const ChildValues&) = delete;
  ChildValues& operator=(const ChildValues&) = delete;

  long& operator[](size_t i);  // aborts when i >= kCount

 private:
  long* values_;
};

// Runs `call` in a forked child and returns what it returned there (a
// syscall-style result); a child that does not exit normally is a non-fatal
// test failure naming how it ended, and the result is then kUnset.
long ResultFromChild(const std::function<long()>& call);

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_CHILD_PROBE_H_
