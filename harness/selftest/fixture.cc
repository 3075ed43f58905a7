// A suite with known outcomes, for checking the recorder end to end: run by
// recorder_test.py, never by ./ringcheck run (it is not tagged conformance).
#include <gtest/gtest.h>

#include <cstdlib>

#include "harness/matchers.h"

namespace ringcheck {
namespace {

TEST(SelfTest, Passes) {
  RINGCHECK_RULE("E13");
  RINGCHECK_FEATURE("op_nop");
  EXPECT_RESULT(0, 0, "E13");
}

TEST(SelfTest, SkipsWithReason) { GTEST_SKIP() << "unsupported:selftest_feature"; }

// Listed in expectations/selftest.txt: a FAIL here is an XFAIL.
TEST(SelfTest, KnownDeviation) {
  RINGCHECK_RULE("C5");
  EXPECT_RESULT(0, -EBUSY, "C5");
}

// Listed too, but passes: an XPASS, which fails the run.
TEST(SelfTest, ListedButPasses) { EXPECT_EQ(1, 1); }

// Listed as flaky: its PASS stays a PASS.
TEST(SelfTest, ListedFlakyPasses) { EXPECT_EQ(1, 1); }

// Crashes the process when asked, to show a start without an end.
TEST(SelfTest, CrashesOnRequest) {
  if (std::getenv("RINGCHECK_SELFTEST_CRASH") != nullptr) std::abort();
}

}  // namespace
}  // namespace ringcheck
