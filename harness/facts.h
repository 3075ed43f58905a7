// The facts a test establishes about itself while it runs, kept as data (not
// folded into messages) so that the recorder writes them as JSON fields and
// reports read fields: the rules it checks, the features it exercises, and
// for every failed check the rule, the expected and the actual result.
#ifndef RINGCHECK_HARNESS_FACTS_H_
#define RINGCHECK_HARNESS_FACTS_H_

#include <string>
#include <vector>

namespace ringcheck {

struct FailedCheck {
  std::string rule;        // what the check named: "C5", "C5: sparse table"; may be empty
  std::string expected;    // "-EBUSY", "an error", "success"
  std::string actual;      // "0"
  std::string expression;  // the C++ expression that was checked
};

struct TestFacts {
  std::vector<std::string> rules;     // ids, each once, in first-seen order
  std::vector<std::string> features;  // feature ids, each once
  std::vector<FailedCheck> failed;
  // Kernel behaviour the harness worked around while the test ran (so it
  // is never silent): "a timed wait on an SQPOLL ring returned -ETIME after
  // 0 ms of 5000".
  std::vector<std::string> observations;
};

// Thread-safe: checks made on helper threads count for the running test.
void NoteRules(const std::string& space_separated_ids);
void NoteFeatures(const std::string& space_separated_ids);
void NoteFailedCheck(FailedCheck check);
void NoteObservation(const std::string& what);

// The facts gathered since the last call (the recorder calls it when a test
// starts and when it ends).
TestFacts TakeFacts();

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_FACTS_H_
