// Assertions on syscall-style results that speak in errno names and rule ids:
//   EXPECT_RESULT(io_uring_register(...), -EBUSY, "C5");
// fails with "expected -EBUSY, got 0 (rule C5): io_uring_register(...)".
#ifndef RINGCHECK_HARNESS_MATCHERS_H_
#define RINGCHECK_HARNESS_MATCHERS_H_

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "harness/errno_names.h"

namespace ringcheck {

// Turns a libc-style return (-1 with errno) into a kernel-style one (-errno).
inline long SysResult(long ret) { return ret == -1 ? -errno : ret; }

::testing::AssertionResult ResultMatches(const char* actual_expr, const char* expected_expr,
                                         const char* rule_expr, long actual, long expected,
                                         const std::string& rule);

// Passes when actual is negative (any -errno); for "must fail" rules.
::testing::AssertionResult ResultIsError(const char* actual_expr, const char* rule_expr,
                                         long actual, const std::string& rule);

// Passes when actual is non-negative (a count, an fd or 0).
::testing::AssertionResult ResultIsSuccess(const char* actual_expr, const char* rule_expr,
                                           long actual, const std::string& rule);

// Records the rule ids a test checks, so results and reports can name them.
// Several ids may be given as one space-separated string: "A31 A32".
void RecordRules(const std::string& rules);

// Records the features (ids of harness/features.cc) a test exercises, so the
// feature x kernel matrix can say "supported, N tests PASS". REQUIRE_FEATURE
// and the opcodes a Ring submits record theirs without this.
void RecordFeatures(const std::string& features);

}  // namespace ringcheck

#define EXPECT_RESULT(actual, expected, rule) \
  EXPECT_PRED_FORMAT3(::ringcheck::ResultMatches, actual, expected, rule)
#define ASSERT_RESULT(actual, expected, rule) \
  ASSERT_PRED_FORMAT3(::ringcheck::ResultMatches, actual, expected, rule)
#define EXPECT_SOME_ERROR(actual, rule) \
  EXPECT_PRED_FORMAT2(::ringcheck::ResultIsError, actual, rule)

#define EXPECT_SUCCESS(actual, rule) \
  EXPECT_PRED_FORMAT2(::ringcheck::ResultIsSuccess, actual, rule)
#define ASSERT_SUCCESS(actual, rule) \
  ASSERT_PRED_FORMAT2(::ringcheck::ResultIsSuccess, actual, rule)

#define RINGCHECK_RULE(rules) ::ringcheck::RecordRules(rules)
#define RINGCHECK_FEATURE(features) ::ringcheck::RecordFeatures(features)

#endif  // RINGCHECK_HARNESS_MATCHERS_H_
