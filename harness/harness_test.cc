// Unit tests of the harness's own pieces (not of the kernel).
#include <gtest/gtest.h>
#include <unistd.h>

#include <liburing.h>

#include <cerrno>
#include <set>
#include <fstream>

#include "harness/capabilities.h"
#include "harness/child.h"
#include "harness/errno_names.h"
#include "harness/expectations.h"
#include "harness/features.h"
#include "harness/facts.h"
#include "harness/fd.h"
#include "harness/hugepages.h"
#include "harness/in_child.h"
#include "harness/json.h"
#include "harness/kernel_log.h"
#include "harness/matchers.h"

namespace ringcheck {
namespace {

TEST(ErrnoNames, NamesAndResults) {
  EXPECT_EQ(ErrnoName(EBUSY), "EBUSY");
  EXPECT_EQ(ErrnoName(9999), "errno 9999");
  EXPECT_EQ(ResultName(-ENXIO), "-ENXIO");
  EXPECT_EQ(ResultName(0), "0");
  EXPECT_EQ(ResultName(42), "42");
}

TEST(Json, NestedAndEscaped) {
  JsonWriter w;
  w.BeginObject().Field("a", "x\"y\n").Key("b").BeginArray().Int(1).Bool(false).EndArray();
  w.Field("c", 3).EndObject();
  EXPECT_EQ(w.str(), R"({"a":"x\"y\n","b":[1,false],"c":3})");
}

TEST(Expectations, GlobsOnKernelAndTest) {
  std::string path = ScratchDir() + "/ringcheck-expect-" + std::to_string(getpid()) + ".txt";
  {
    std::ofstream f(path);
    f << "# comment\n\n5.10.*  Clone*.Busy  older kernel (rule C26)\nbad-line-without-reason\n";
  }
  Expectations e;
  e.LoadFile(path);
  unlink(path.c_str());
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e.errors().size(), 1u);
  ASSERT_NE(e.Find("5.10.0-32-amd64", "CloneBuffers.Busy"), nullptr);
  EXPECT_EQ(e.Find("5.10.0-32-amd64", "CloneBuffers.Busy")->reason, "older kernel (rule C26)");
  EXPECT_EQ(e.Find("6.1.0", "CloneBuffers.Busy"), nullptr);
  EXPECT_EQ(e.Find("5.10.0", "Other.Busy"), nullptr);
}

TEST(Expectations, FeatureConditionsAndFlaky) {
  if (!Caps().usable()) GTEST_SKIP() << "unsupported:io_uring";
  std::string path = ScratchDir() + "/ringcheck-expect2-" + std::to_string(getpid()) + ".txt";
  {
    std::ofstream f(path);
    f << "has:op_nop  A.Has  the probe lists NOP\n"
      << "lacks:op_nop  A.Lacks  never on a kernel with io_uring\n"
      << "*,has:op_nop  A.Flaky  flaky a race (rule N1)\n"
      << "*  A.SpacedFlaky  flaky   spaces after the word (rule N1)\n"
      << "has:no_such_feature  A.Bad  an unknown feature is refused\n";
  }
  Expectations e;
  e.LoadFile(path);
  unlink(path.c_str());
  EXPECT_EQ(e.size(), 4u);
  ASSERT_EQ(e.errors().size(), 1u);
  EXPECT_NE(e.errors()[0].find("unknown feature"), std::string::npos) << e.errors()[0];
  EXPECT_NE(e.Find("6.18.0", "A.Has"), nullptr);
  EXPECT_EQ(e.Find("6.18.0", "A.Lacks"), nullptr);
  const Expectation* flaky = e.Find("6.18.0", "A.Flaky");
  ASSERT_NE(flaky, nullptr);
  EXPECT_TRUE(flaky->flaky);
  EXPECT_EQ(flaky->reason, "a race (rule N1)");
  const Expectation* spaced = e.Find("6.18.0", "A.SpacedFlaky");
  ASSERT_NE(spaced, nullptr);
  EXPECT_TRUE(spaced->flaky);
  EXPECT_EQ(spaced->reason, "spaces after the word (rule N1)") << "no space before the reason";
}

TEST(Facts, FailedChecksKeepRuleExpectedAndActual) {
  TakeFacts();
  NoteFailedCheck({"C5: sparse table", "-EBUSY", "0", "call()"});
  NoteRules("C5 C6");
  NoteFeatures("op_nop op_nop");
  TestFacts f = TakeFacts();
  EXPECT_EQ(f.rules, (std::vector<std::string>{"C5", "C6"}));
  EXPECT_EQ(f.features, (std::vector<std::string>{"op_nop"}));
  ASSERT_EQ(f.failed.size(), 1u);
  EXPECT_EQ(f.failed[0].expected, "-EBUSY");
  EXPECT_TRUE(TakeFacts().failed.empty());
}

TEST(InChild, HandsBackValuesFailuresAndSkips) {
  ChildRun ok = InChild([](ChildChannel& c) { c.Put(3, -EEXIST); });
  EXPECT_TRUE(ChildRanCleanly(ok)) << ok.Describe();
  EXPECT_EQ(ok.Value(3), -EEXIST);
  EXPECT_FALSE(ok.Has(4));

  ChildRun failed = InChild([](ChildChannel&) { EXPECT_RESULT(0, -EBUSY, "C5"); });
  EXPECT_FALSE(ChildRanCleanly(failed));
  ASSERT_EQ(failed.failures.size(), 1u);
  EXPECT_NE(failed.failures[0].find("expected -EBUSY, got 0 (rule C5)"), std::string::npos)
      << failed.failures[0];

  ChildRun asserted = InChild([](ChildChannel& c) {
    ASSERT_EQ(1, 2);
    c.Put(0, 1);  // not reached
  });
  EXPECT_FALSE(asserted.Has(0));
  EXPECT_EQ(asserted.failures.size(), 1u);

  ChildRun skipped = InChild([](ChildChannel&) { GTEST_SKIP() << "environment:test"; });
  EXPECT_TRUE(skipped.finished);
  EXPECT_EQ(skipped.skip_reason, "environment:test");

  ChildRun crashed = InChild([](ChildChannel&) { TouchByte(nullptr); });
  EXPECT_FALSE(ChildRanCleanly(crashed));
  EXPECT_TRUE(crashed.outcome.KilledBy(SIGSEGV)) << crashed.Describe();

  ChildRun hung = InChild([](ChildChannel&) { pause(); }, std::chrono::milliseconds(100));
  EXPECT_EQ(hung.outcome.kind, ChildOutcome::kTimedOut);
  EXPECT_FALSE(hung.finished);
}

TEST(HugePages, ReservationAddsAndGivesBack) {
  std::string why;
  const long pool_before = FreeHugePages();
  {
    auto r = HugePageReservation::Ensure(2, &why);
    if (r == nullptr) GTEST_SKIP() << "environment:hugepages (" << why << ")";
    EXPECT_GE(FreeHugePages(), static_cast<long>(r->added()));
    EXPECT_GE(r->added(), 1u);
  }
  EXPECT_EQ(FreeHugePages(), pool_before) << "the pool must end where it began";
}

TEST(KernelLog, RecognisesProblems) {
  EXPECT_TRUE(KernelLog::IsProblem("BUG: KASAN: use-after-free in io_req_task_work"));
  EXPECT_TRUE(KernelLog::IsProblem("WARNING: CPU: 1 PID: 5 at io_uring/io_uring.c:123"));
  EXPECT_TRUE(KernelLog::IsProblem("Oops: general protection fault"));
  EXPECT_FALSE(KernelLog::IsProblem("ringcheck: nop_test starts"));
  EXPECT_FALSE(KernelLog::IsProblem("eth0: link up"));
}

TEST(Child, ReportsExitCodeSignalAndTimeout) {
  EXPECT_TRUE(RunInChild([] { return 7; }).ExitedWith(7));
  ChildOutcome segv = RunInChild([] {
    TouchByte(nullptr);
    return 0;
  });
  EXPECT_TRUE(segv.KilledBy(SIGSEGV)) << segv.Describe();
  ChildOutcome hang = RunInChild(
      [] {
        pause();
        return 0;
      },
      std::chrono::milliseconds(100));
  EXPECT_EQ(hang.kind, ChildOutcome::kTimedOut) << hang.Describe();
}

TEST(Features, RegistryIdsAreUniqueAndNamed) {
  std::set<std::string> ids;
  for (const Feature& f : AllFeatures()) {
    EXPECT_TRUE(ids.insert(f.id).second) << "duplicate feature id " << f.id;
    EXPECT_FALSE(f.mainline.empty()) << f.id;
  }
  EXPECT_NE(FindFeature("op_nop"), nullptr);
  EXPECT_NE(FindFeature("setup_defer_taskrun"), nullptr);
  EXPECT_NE(FindFeature("register_clone_buffers"), nullptr);
  EXPECT_EQ(SetupFlagsString(IORING_SETUP_SQPOLL | IORING_SETUP_SINGLE_ISSUER),
            "SQPOLL|SINGLE_ISSUER");
}

// The probe must tell "unknown opcode" from "known, bad argument": an opcode
// past every kernel's table answers -EINVAL, and the snapshot says NOP works.
TEST(Capabilities, ProbeSeesNopAndRejectsNonsense) {
  if (!Caps().usable()) GTEST_SKIP() << "unsupported:io_uring";
  EXPECT_TRUE(Supported("op_nop"));
  EXPECT_TRUE(Supported("register_probe"));
  io_uring ring;
  ASSERT_EQ(io_uring_queue_init(4, &ring, 0), 0);
  EXPECT_EQ(io_uring_register(ring.ring_fd, 200, nullptr, 0), -EINVAL);
  io_uring_queue_exit(&ring);
}

}  // namespace
}  // namespace ringcheck
