#include "harness/matchers.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "harness/facts.h"
#include "harness/features.h"

namespace ringcheck {

::testing::AssertionResult ResultMatches(const char* actual_expr, const char*, const char*,
                                         long actual, long expected, const std::string& rule) {
  if (actual == expected) return ::testing::AssertionSuccess();
  NoteFailedCheck({rule, ResultName(expected), ResultName(actual), actual_expr});
  return ::testing::AssertionFailure() << "expected " << ResultName(expected) << ", got "
                                       << ResultName(actual) << " (rule " << rule
                                       << "): " << actual_expr;
}

::testing::AssertionResult ResultIsError(const char* actual_expr, const char*, long actual,
                                         const std::string& rule) {
  if (actual < 0) return ::testing::AssertionSuccess();
  NoteFailedCheck({rule, "an error", ResultName(actual), actual_expr});
  return ::testing::AssertionFailure() << "expected an error, got " << ResultName(actual)
                                       << " (rule " << rule << "): " << actual_expr;
}

::testing::AssertionResult ResultIsSuccess(const char* actual_expr, const char*, long actual,
                                           const std::string& rule) {
  if (actual >= 0) return ::testing::AssertionSuccess();
  NoteFailedCheck({rule, "success", ResultName(actual), actual_expr});
  return ::testing::AssertionFailure() << "expected success, got " << ResultName(actual)
                                       << " (rule " << rule << "): " << actual_expr;
}

void RecordRules(const std::string& rules) { NoteRules(rules); }

void RecordFeatures(const std::string& features) {
  std::istringstream in(features);
  std::string id;
  while (in >> id) {
    if (FindFeature(id) == nullptr) {
      std::fprintf(stderr, "ringcheck: RINGCHECK_FEATURE names unknown feature '%s' "
                   "(see harness/features.cc)\n", id.c_str());
      std::abort();
    }
  }
  NoteFeatures(features);
}

}  // namespace ringcheck
