#include "harness/child_probe.h"

#include <signal.h>
#include <sys/prctl.h>

#include "harness/child.h"

namespace ringcheck {
namespace {

ChildOutcome TouchInChild(const void* addr) {
  return RunInChild([addr] {
    prctl(PR_SET_DUMPABLE, 0);  // an expected SIGSEGV must not leave a core file
    TouchByte(addr);
    return 0;
  });
}

}  // namespace

::testing::AssertionResult FaultsInChild(const void* addr) {
  ChildOutcome o = TouchInChild(addr);
  if (o.KilledBy(SIGSEGV)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "a child reading " << addr
                                       << " should die of SIGSEGV, but it " << o.Describe()
                                       << (o.ExitedWith(0) ? " (the memory is there)" : "");
}

::testing::AssertionResult ReadableInChild(const void* addr) {
  ChildOutcome o = TouchInChild(addr);
  if (o.ExitedWith(0)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "a child reading " << addr
                                       << " should read it and exit 0, but it " << o.Describe();
}

}  // namespace ringcheck
