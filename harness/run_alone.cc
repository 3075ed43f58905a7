// Linked into a suite binary tagged run_alone: its tests change state the
// whole machine shares (a global sysctl), so nothing may run beside it. The
// binary says so when its tests are listed (harness/main.cc), and the
// runner (harness/runner.cc) keeps every other process off meanwhile.
#include "harness/main.h"

namespace {

const bool kRegistered = [] {
  ringcheck::MarkRunAlone();
  return true;
}();

}  // namespace
