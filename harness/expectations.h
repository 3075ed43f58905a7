// Expectations files: known, accepted deviations of particular kernels.
//
// Each non-comment line of expectations/*.txt reads
//   <kernel>  <test name glob>  [flaky]  <reason...>
// <kernel> is a comma-separated list of conditions that must all hold: a
// release glob ("5.10.*"), "has:<feature>" or "lacks:<feature>" (what the
// capability probe found; preferred wherever a probe can tell).
// e.g.  lacks:feat_cqe_skip  CqOverflow.*  rule D16: io_cqring_overflow_flush ...
// A FAIL of a matching test on a matching kernel becomes XFAIL with the
// reason. A PASS of such a test is an XPASS, which fails the run like a FAIL
// (the entry is stale) unless the entry says "flaky" (the deviation is a
// race that does not hit every run): then the PASS stays a PASS.
#ifndef RINGCHECK_HARNESS_EXPECTATIONS_H_
#define RINGCHECK_HARNESS_EXPECTATIONS_H_

#include <string>
#include <vector>

namespace ringcheck {

struct Expectation {
  std::string kernel_glob;
  std::string test_glob;
  std::string reason;
  std::string source;  // file:line
  bool flaky = false;
};

class Expectations {
 public:
  // Loads every *.txt file in `dir` (a missing dir loads nothing). Malformed
  // lines are reported in errors() and ignored.
  void LoadDirectory(const std::string& dir);
  void LoadFile(const std::string& path);
  // The first expectation matching this kernel and test, or nullptr.
  // Feature conditions are answered by the running kernel's capabilities.
  const Expectation* Find(const std::string& kernel_release, const std::string& test) const;
  const std::vector<std::string>& errors() const { return errors_; }
  size_t size() const { return items_.size(); }

 private:
  std::vector<Expectation> items_;
  std::vector<std::string> errors_;
};

// Where the expectations live: $RINGCHECK_EXPECTATIONS, else the runfiles of
// a Bazel test, else "".
std::string DefaultExpectationsDir();

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_EXPECTATIONS_H_
