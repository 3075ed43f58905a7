// Running code in another task, for rules that depend on which task makes a
// call: io_uring keeps per-task state (the io_uring task context and its
// table of registered ring fds, a SINGLE_ISSUER ring's submitter, the mm a
// ring accounts to).
#ifndef RINGCHECK_HARNESS_TASK_H_
#define RINGCHECK_HARNESS_TASK_H_

#include <functional>

#include "harness/child.h"

namespace ringcheck {

// Runs `body` in a new std::thread and joins it. A new thread starts without
// an io_uring task context, so its registered-ring table is empty, and the
// kernel drops whatever the thread registers when it exits: tests that fill
// slots do it here and cannot disturb the test thread. GoogleTest EXPECT_*
// work in the body; an ASSERT_* only leaves the body.
void InFreshThread(const std::function<void()>& body);

// A syscall-style result carried through a child's exit status, for
// RunInChild bodies: 0 stays 0, -errno becomes errno (1..199), a small
// positive result n becomes 200 + n (capped at 239). Exit codes 240..255 are
// left to the body for its own "could not even start" cases.
int ExitCodeFor(long result);

// The result ExitCodeFor encoded; or, when the child did not exit with such
// a code, a value no syscall returns (kNoResult) — compare with
// EXPECT_RESULT and print outcome.Describe() alongside.
constexpr long kNoResult = -100000;
long ResultFromExit(const ChildOutcome& outcome);

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_TASK_H_
