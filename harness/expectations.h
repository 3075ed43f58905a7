// Expectations files: known, accepted deviations of particular kernels.
//
// Each non-comment line of expectations/*.txt reads
//   <kernel release glob>  <test name glob>  <reason...>
// e.g.  5.10.*  CloneBuffers.*  Debian 5.10 lacks ... (rule C26)
// A FAIL of a matching test on a matching kernel becomes XFAIL with the
// reason; a PASS of such a test is reported as an unexpected pass.
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
};

class Expectations {
 public:
  // Loads every *.txt file in `dir` (a missing dir loads nothing). Malformed
  // lines are reported in errors() and ignored.
  void LoadDirectory(const std::string& dir);
  void LoadFile(const std::string& path);
  // The first expectation matching this kernel and test, or nullptr.
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
