// The one way a test runs code in a forked child and gets its results back.
//
//   ChildRun run = InChild([&](ChildChannel& child) {
//     child.Put(0, io_uring_enter(fd, 1, 0, 0, nullptr));  // a value, by slot
//     EXPECT_RESULT(x, -EINVAL, "A31");      // fails the parent's test, with this message
//     if (...) child.Skip("environment:...");  // the parent's test SKIPs with this reason
//   });
//   ASSERT_CHILD_RAN(run);                   // the child ended normally, or FAIL/SKIP as it said
//   EXPECT_RESULT(run.Value(0), -EEXIST, "A31");
//
// GoogleTest's EXPECT_*/ASSERT_*/GTEST_SKIP in the child are forwarded to
// the parent through a shared page; an ASSERT_* ends the body. A child that
// dies (a signal, the deadline) is a failure naming how it ended, unless
// the test asked for that ending (run.outcome, e.g. FaultsInChild).
#ifndef RINGCHECK_HARNESS_IN_CHILD_H_
#define RINGCHECK_HARNESS_IN_CHILD_H_

#include <gtest/gtest.h>

#include <chrono>
#include <climits>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "harness/child.h"

namespace ringcheck {

struct ChildPage;  // the shared page (in_child.cc)

// What the body uses to hand results back.
class ChildChannel {
 public:
  static constexpr size_t kSlots = 64;
  explicit ChildChannel(ChildPage* page) : page_(page) {}
  void Put(size_t slot, long value);    // aborts on a slot >= kSlots
  void Fail(const std::string& why);    // as ADD_FAILURE() in the parent
  void Skip(const std::string& reason); // the parent's test SKIPs (the body goes on)

 private:
  ChildPage* page_;
};

struct ChildRun {
  static constexpr long kUnset = LONG_MIN;
  ChildOutcome outcome;
  bool finished = false;          // the body returned (or ASSERTed) and the child exited 0
  std::vector<long> values;       // kSlots entries, kUnset where the body put nothing
  std::vector<std::string> failures;
  std::string skip_reason;        // non-empty when the child asked to skip

  long Value(size_t slot) const { return slot < values.size() ? values[slot] : kUnset; }
  bool Has(size_t slot) const { return Value(slot) != kUnset; }
  std::string Describe() const;   // how it ended, and what it said
};

// Forks; the child runs `body` and exits. The parent waits up to `timeout`
// (then kills the child). Nothing the child buffered is written twice.
ChildRun InChild(const std::function<void(ChildChannel&)>& body,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10));

// For ASSERT_CHILD_RAN/EXPECT_CHILD_RAN: success when the child finished
// without failures; its failures and how it ended in the message otherwise.
::testing::AssertionResult ChildRanCleanly(const ChildRun& run);

}  // namespace ringcheck

// Skips the test if the child asked to; fails it (and returns) if the child
// failed or did not finish.
#define ASSERT_CHILD_RAN(run)                                              \
  do {                                                                     \
    const ::ringcheck::ChildRun& ringcheck_run_ = (run);                   \
    if (!ringcheck_run_.skip_reason.empty() && ringcheck_run_.finished) {  \
      GTEST_SKIP() << ringcheck_run_.skip_reason;                          \
    }                                                                      \
    ASSERT_TRUE(::ringcheck::ChildRanCleanly(ringcheck_run_));             \
  } while (0)

#define EXPECT_CHILD_RAN(run) EXPECT_TRUE(::ringcheck::ChildRanCleanly(run))

#endif  // RINGCHECK_HARNESS_IN_CHILD_H_
