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
#include "harness/fd.h"
#include "harness/json.h"
#include "harness/kernel_log.h"

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
