// Running code in another task, for rules that depend on which task makes a
// call: io_uring keeps per-task state (the io_uring task context and its
// table of registered ring fds, a SINGLE_ISSUER ring's submitter, the mm a
// ring accounts to).
#ifndef RINGCHECK_HARNESS_TASK_H_
#define RINGCHECK_HARNESS_TASK_H_

#include <functional>

namespace ringcheck {

// Runs `body` in a new std::thread and joins it. A new thread starts without
// an io_uring task context, so its registered-ring table is empty, and the
// kernel drops whatever the thread registers when it exits: tests that fill
// slots do it here and cannot disturb the test thread. GoogleTest EXPECT_*
// work in the body; an ASSERT_* only leaves the body.
void InFreshThread(const std::function<void()>& body);

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_TASK_H_
