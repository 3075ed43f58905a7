#include "harness/matchers.h"

#include <string>

namespace ringcheck {

::testing::AssertionResult ResultMatches(const char* actual_expr, const char*, const char*,
                                         long actual, long expected, const std::string& rule) {
  if (actual == expected) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected " << ResultName(expected) << ", got "
                                       << ResultName(actual) << " (rule " << rule
                                       << "): " << actual_expr;
}

::testing::AssertionResult ResultIsError(const char* actual_expr, const char*, long actual,
                                         const std::string& rule) {
  if (actual < 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected an error, got " << ResultName(actual)
                                       << " (rule " << rule << "): " << actual_expr;
}

::testing::AssertionResult ResultIsSuccess(const char* actual_expr, const char*, long actual,
                                           const std::string& rule) {
  if (actual >= 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected success, got " << ResultName(actual)
                                       << " (rule " << rule << "): " << actual_expr;
}

void RecordRules(const std::string& rules) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  if (info == nullptr) return;
  std::string all = rules;
  const ::testing::TestResult* result = info->result();
  for (int i = 0; i < result->test_property_count(); ++i) {
    if (std::string(result->GetTestProperty(i).key()) == "rules") {
      all = std::string(result->GetTestProperty(i).value()) + " " + rules;
    }
  }
  ::testing::Test::RecordProperty("rules", all);
}

}  // namespace ringcheck
