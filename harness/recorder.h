// The result recorder: a GoogleTest listener that writes one JSON line per
// event into <results dir>/suites/<binary>.jsonl, so a run that crashes
// mid-way still says which test was running (a "start" with no "end" is an
// ERROR). It turns failures listed in the expectations into XFAIL, keeps
// skip reasons (GoogleTest 1.12 drops them from its own JSON), records the
// rule ids a test names, and watches the kernel log and taint.
#ifndef RINGCHECK_HARNESS_RECORDER_H_
#define RINGCHECK_HARNESS_RECORDER_H_

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "harness/expectations.h"
#include "harness/kernel_log.h"

namespace ringcheck {

struct RunTotals {
  int pass = 0, fail = 0, skip = 0, xfail = 0, xpass = 0;
  std::vector<std::string> kernel_problems;
};

class Recorder : public ::testing::EmptyTestEventListener {
 public:
  // `path` may be empty: then nothing is written, but verdicts are still
  // computed (for the exit code).
  Recorder(const std::string& path, const std::string& binary, Expectations expectations);
  ~Recorder() override;

  void OnTestProgramStart(const ::testing::UnitTest& unit) override;
  void OnTestStart(const ::testing::TestInfo& info) override;
  void OnTestPartResult(const ::testing::TestPartResult& result) override;
  void OnTestEnd(const ::testing::TestInfo& info) override;
  void OnTestProgramEnd(const ::testing::UnitTest& unit) override;

  const RunTotals& totals() const { return totals_; }

  // Also write a JUnit XML file with ringcheck's verdicts (for CI
  // dashboards): XFAIL and SKIP become <skipped>, XPASS a <failure>.
  void WriteJUnitTo(const std::string& path) { junit_path_ = path; }

 private:
  struct Verdict {
    std::string suite, name, verdict, reason;
    std::vector<std::string> messages;
    long long ms;
  };
  void WriteJUnit() const;

  void WriteLine(const std::string& json);

  int out_ = -1;  // the results file, O_APPEND
  std::string path_;
  std::string binary_;
  std::string kernel_release_;
  Expectations expectations_;
  std::unique_ptr<KernelLog> kernel_log_;
  long taint_before_ = -1;
  std::chrono::steady_clock::time_point test_start_;
  std::vector<std::string> failures_;
  std::string skip_reason_;
  RunTotals totals_;
  std::string junit_path_;
  std::vector<Verdict> verdicts_;
};

// The exit status of a suite binary that could not write its results (the
// disk stayed full, harness/write_all.h): its log says why.
constexpr int kExitResultsLost = 3;

// The results file a binary writes: $RINGCHECK_RESULTS_FILE (the runner's
// file for one part of a binary), else $RINGCHECK_RESULTS_DIR/suites/<binary>.jsonl,
// else $TEST_UNDECLARED_OUTPUTS_DIR/<binary>.jsonl under `bazel test`, else "".
std::string DefaultResultsPath(const std::string& binary);

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_RECORDER_H_
