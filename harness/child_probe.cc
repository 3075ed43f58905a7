#include "harness/child_probe.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include <cstdio>
#include <cstdlib>

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

long ResultFromChild(const std::function<long()>& call) {
  ChildValues got;
  ChildOutcome o = RunInChild([&] {
    got[0] = call();
    return 0;
  });
  EXPECT_TRUE(o.ExitedWith(0)) << "the child " << o.Describe();
  return got[0];
}

ChildValues::ChildValues() {
  void* p = mmap(nullptr, kCount * sizeof(long), PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    std::perror("ringcheck: ChildValues mmap");
    std::abort();
  }
  values_ = static_cast<long*>(p);
  for (size_t i = 0; i < kCount; ++i) values_[i] = kUnset;
}

ChildValues::~ChildValues() { munmap(values_, kCount * sizeof(long)); }

long& ChildValues::operator[](size_t i) {
  if (i >= kCount) {
    std::fprintf(stderr, "ringcheck: ChildValues index %zu out of range\n", i);
    std::abort();
  }
  return values_[i];
}

}  // namespace ringcheck
