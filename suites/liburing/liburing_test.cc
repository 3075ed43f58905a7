// Rules about older liburing releases: A7 (io_uring_ring_dontfork before
// 2.2, here bullseye's 0.7) and B23, B25 (register/unregister_ring_fd before
// 2.4, here bookworm's 2.3). The suite links liburing 2.9 like every other,
// so a helper program linked against the old library answers
// (old_liburing_probe.c) and the tests read its "key=value" lines.
#include <gtest/gtest.h>
#include <liburing.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "harness/features.h"
#include "harness/matchers.h"

namespace ringcheck {
namespace {

// Where Bazel put the helper: the test's runfiles (bazel test, or a binary
// started from bazel-bin by ./ringcheck run). Guest images and bundles carry
// only the suite binaries: "" there.
std::string HelperPath(const std::string& name) {
  const std::string rel = "/suites/liburing/" + name;
  std::string candidates[3];
  if (const char* srcdir = std::getenv("TEST_SRCDIR")) {
    const char* ws = std::getenv("TEST_WORKSPACE");
    candidates[0] = std::string(srcdir) + "/" + (ws ? ws : "ringcheck") + rel;
  }
  char exe[PATH_MAX] = {};
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    std::string self(exe, static_cast<size_t>(n));
    candidates[1] = self + ".runfiles/ringcheck" + rel;
    candidates[2] = self.substr(0, self.rfind('/') + 1) + name;
  }
  for (const std::string& c : candidates) {
    if (!c.empty() && access(c.c_str(), X_OK) == 0) return c;
  }
  return "";
}

// Runs the helper (with `arg`); its answers by key, or an empty map (and
// *why) if it could not run. *status gets its wait status when asked for.
std::map<std::string, long> Answers(const std::string& name, std::string* why,
                                    const std::string& arg = "", int* status_out = nullptr) {
  std::map<std::string, long> out;
  std::string path = HelperPath(name);
  if (path.empty()) {
    *why = "environment:old-liburing-helper (" + name +
           " is not installed beside this binary: guest images and bundles carry only the suites)";
    return out;
  }
  if (!arg.empty()) path += " " + arg;
  FILE* p = popen(path.c_str(), "r");
  if (p == nullptr) {
    *why = "cannot start " + path + ": " + std::strerror(errno);
    return out;
  }
  char line[256];
  while (std::fgets(line, sizeof line, p) != nullptr) {
    char* eq = std::strchr(line, '=');
    if (eq == nullptr) continue;
    *eq = '\0';
    out[line] = std::strtol(eq + 1, nullptr, 10);
  }
  int status = pclose(p);
  if (status_out != nullptr) {
    *status_out = status;
  } else if (status != 0) {
    *why = path + " ended with status " + std::to_string(status);
  }
  return out;
}

#define HELPER_ANSWERS_OR_SKIP(var, name)                                          \
  std::string var##_why;                                                           \
  std::map<std::string, long> var = Answers(name, &var##_why);                     \
  if (var##_why.rfind("environment:", 0) == 0) GTEST_SKIP() << var##_why;          \
  ASSERT_TRUE(var##_why.empty()) << var##_why;                                     \
  ASSERT_EQ(var.count("setup_failed"), 0u) << name << " could not set up a ring"

// A7: liburing 0.7's io_uring_ring_dontfork answers as 2.9's does for a
// ring that was never set up (-EINVAL, A1) and for a live one (0, and 0
// again, A5).
TEST(OldLiburing, DontforkBefore22ReturnsWhat29Returns) {
  RINGCHECK_RULE("A7 A1 A5");
  HELPER_ANSWERS_OR_SKIP(old, "old_liburing_probe_0_7");
  std::string why;
  std::map<std::string, long> zeroed = Answers("old_liburing_probe_0_7", &why, "zeroed");
  ASSERT_TRUE(why.empty()) << why;
  io_uring ring;
  std::memset(&ring, 0, sizeof ring);
  const long zeroed29 = io_uring_ring_dontfork(&ring);
  ASSERT_EQ(io_uring_queue_init(4, &ring, 0), 0);
  const long live = io_uring_ring_dontfork(&ring);
  const long again = io_uring_ring_dontfork(&ring);
  io_uring_queue_exit(&ring);
  EXPECT_RESULT(zeroed["dontfork_zeroed"], zeroed29, "A7 (A1): a zeroed ring, 0.7 vs 2.9");
  EXPECT_RESULT(old["dontfork"], live, "A7: a live ring, 0.7 vs 2.9");
  EXPECT_RESULT(old["dontfork_again"], again, "A7 (A5): twice, 0.7 vs 2.9");
  EXPECT_RESULT(zeroed["dontfork_zeroed"], -EINVAL, "A7 A1");
}

// A7 (and A6): after io_uring_queue_exit, 0.7 reads through the ring's own
// (now unmapped) memory and dies of SIGSEGV; 2.3 and later answer with
// madvise's -ENOMEM.
TEST(OldLiburing, DontforkAfterExitCrashesIn07AndIsEnomemIn23) {
  RINGCHECK_RULE("A7 A6");
  int status = -1;
  std::string why;
  std::map<std::string, long> old = Answers("old_liburing_probe_0_7", &why, "after_exit", &status);
  if (why.rfind("environment:", 0) == 0) GTEST_SKIP() << why;
  ASSERT_TRUE(why.empty()) << why;
  ASSERT_EQ(old.count("setup_failed"), 0u);
  // popen runs it through sh, which reports a child killed by a signal as
  // exit status 128 + the signal.
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGSEGV)
      << "liburing 0.7 after queue_exit: want a SIGSEGV, got wait status " << status
      << (old.count("dontfork_after_exit") ? " and answer " + std::to_string(old["dontfork_after_exit"]) : "")
      << " (rule A7)";
  std::map<std::string, long> newer = Answers("old_liburing_probe_2_3", &why, "after_exit");
  ASSERT_TRUE(why.empty()) << why;
  EXPECT_RESULT(newer["dontfork_after_exit"], -ENOMEM, "A6: liburing 2.3");
}

// B23: liburing 2.3 registers a ring fd a second time (2.4 and later answer
// -EEXIST, B22): 1 again, and enter_ring_fd moves to a new slot.
TEST(OldLiburing, RegisterRingFdTwiceIn23TakesASecondSlot) {
  RINGCHECK_RULE("B23");
  REQUIRE_FEATURE("register_ring_fds");
  HELPER_ANSWERS_OR_SKIP(old, "old_liburing_probe_2_3");
  ASSERT_EQ(old.count("register_first"), 1u) << "liburing 2.3 should have io_uring_register_ring_fd";
  EXPECT_RESULT(old["register_first"], 1, "B23: first registration");
  EXPECT_RESULT(old["register_second"], 1, "B23: the second registration is not refused");
  EXPECT_NE(old["slot_second"], old["slot_first"]) << "enter_ring_fd should move to a new slot (rule B23)";
}

// B25: liburing 2.3's io_uring_unregister_ring_fd on a ring that was never
// registered issues the call with offset = ring_fd: 1 (an empty slot, B13)
// when ring_fd < 16, else -EINVAL.
TEST(OldLiburing, UnregisterUnregisteredRingFdIn23UsesTheFdAsSlot) {
  RINGCHECK_RULE("B25 B13");
  REQUIRE_FEATURE("register_ring_fds");
  HELPER_ANSWERS_OR_SKIP(old, "old_liburing_probe_2_3");
  ASSERT_EQ(old.count("ring_fd"), 1u);
  const long want = old["ring_fd"] < 16 ? 1 : -EINVAL;
  EXPECT_RESULT(old["unregister_unregistered"], want,
                "B25: liburing 2.3, ring_fd " + std::to_string(old["ring_fd"]));
  // 2.9 answers without a system call (B25's first half).
  io_uring ring;
  ASSERT_EQ(io_uring_queue_init(4, &ring, 0), 0);
  EXPECT_RESULT(io_uring_unregister_ring_fd(&ring), -EINVAL, "B25: liburing 2.9");
  io_uring_queue_exit(&ring);
}

}  // namespace
}  // namespace ringcheck
