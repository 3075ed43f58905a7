// The main of every suite binary: GoogleTest plus the ringcheck recorder.
// Exit status: 0 when no test FAILed or XPASSed (XFAILs and SKIPs are fine), 1 otherwise.
#include <errno.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "harness/capabilities.h"
#include "harness/errno_names.h"
#include "harness/expectations.h"
#include "harness/main.h"
#include "harness/recorder.h"

namespace ringcheck {
namespace {
bool run_alone = false;
}  // namespace
void MarkRunAlone() { run_alone = true; }
}  // namespace ringcheck

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const std::string binary = program_invocation_short_name;

  ringcheck::Expectations expectations;
  const std::string dir = ringcheck::DefaultExpectationsDir();
  if (!dir.empty()) expectations.LoadDirectory(dir);
  for (const std::string& e : expectations.errors()) {
    std::fprintf(stderr, "ringcheck: expectations: %s\n", e.c_str());
  }

  auto* recorder = new ringcheck::Recorder(ringcheck::DefaultResultsPath(binary), binary,
                                           std::move(expectations));
  ::testing::TestEventListeners& listeners = ::testing::UnitTest::GetInstance()->listeners();
  listeners.Append(recorder);  // gtest owns it
  // Under `bazel test` the JUnit XML is ringcheck's, not GoogleTest's: an
  // XFAIL is not a <failure> there, and an XPASS is one.
  if (const char* xml = std::getenv("XML_OUTPUT_FILE")) {
    if (*xml != '\0') {
      delete listeners.Release(listeners.default_xml_generator());
      recorder->WriteJUnitTo(xml);
    }
  }

  // Listing the tests (the runner plans its parts from it) needs no
  // capability snapshot; measuring one is most of a guest binary's start.
  if (GTEST_FLAG_GET(list_tests) && ringcheck::run_alone) std::printf("%s\n", ringcheck::kRunAloneLine);
  if (!GTEST_FLAG_GET(list_tests) && !ringcheck::Caps().usable()) {
    std::fprintf(stderr, "ringcheck: io_uring cannot be used on this kernel (%s); "
                 "every test will SKIP\n",
                 ringcheck::ResultName(ringcheck::Caps().setup_error).c_str());
  }
  // The exit status comes from the recorder's verdicts, not GoogleTest's:
  // an expected failure (XFAIL) must not fail the run.
  const int gtest_status = RUN_ALL_TESTS();
  (void)gtest_status;
  const ringcheck::RunTotals& t = recorder->totals();
  std::printf("ringcheck %s: %d passed, %d failed, %d skipped, %d xfail, %d xpass\n",
              binary.c_str(), t.pass, t.fail, t.skip, t.xfail, t.xpass);
  // An XPASS (a listed deviation that did not happen) fails like a FAIL.
  return t.fail == 0 && t.xpass == 0 ? 0 : 1;
}
