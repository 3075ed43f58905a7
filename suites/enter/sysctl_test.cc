// The kernel.io_uring_disabled and kernel.io_uring_group sysctls
// (Documentation/admin-guide/sysctl/kernel.rst; kernel io_uring.c
// io_uring_allowed, io_uring_setup). Changing them disturbs every process
// on the machine, so tests that do run only inside ringcheck's guests
// (RINGCHECK_GUEST=1, harness/vm/init.sh) and put the old values back.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "harness/child.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/in_child.h"
#include "suites/register/register_util.h"

namespace ringcheck {
namespace {

constexpr char kDisabled[] = "/proc/sys/kernel/io_uring_disabled";
constexpr char kGroup[] = "/proc/sys/kernel/io_uring_group";

bool ReadLong(const char* path, long* out) {
  std::ifstream in(path);
  return static_cast<bool>(in >> *out);
}

bool WriteLong(const char* path, long value) {
  std::ofstream out(path);
  out << value << "\n";
  out.flush();
  return static_cast<bool>(out);
}

// io_uring_setup as the kernel answers it (the fd is closed again).
long SetupRaw() {
  io_uring_params p = {};
  long fd = syscall(__NR_io_uring_setup, 2, &p);
  if (fd < 0) return -errno;
  close(static_cast<int>(fd));
  return 0;
}

// Setup attempted by uid/gid 65534 in a child.
long SetupAsNobody() {
  ChildRun run = InChild([](ChildChannel& child) {
    ASSERT_EQ(BecomeUser(), 0) << "cannot become uid 65534";
    child.Put(0, SetupRaw());
  });
  EXPECT_CHILD_RAN(run);
  return run.Value(0);
}

class SysctlGuard {
 public:
  SysctlGuard() { ok_ = ReadLong(kDisabled, &disabled_) && ReadLong(kGroup, &group_); }
  ~SysctlGuard() {
    if (!ok_) return;
    WriteLong(kGroup, group_);
    WriteLong(kDisabled, disabled_);
  }
  bool ok() const { return ok_; }

 private:
  bool ok_ = false;
  long disabled_ = 0;
  long group_ = -1;
};

class IoUringSysctl : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_FEATURE("sysctl_io_uring_disabled");
    if (!InGuest())
      GTEST_SKIP() << "environment:host (changes a global sysctl; runs in guests)";
    guard_ = std::make_unique<SysctlGuard>();
    ASSERT_TRUE(guard_->ok());
  }
  void TearDown() override { guard_.reset(); }
  std::unique_ptr<SysctlGuard> guard_;
};

// J86: both sysctls read as numbers: io_uring_disabled 0, 1 or 2, and
// io_uring_group a gid or -1. (Read only: safe on any machine.)
TEST(IoUringSysctlRead, ValuesAreInRange) {
  RINGCHECK_RULE("J86");
  REQUIRE_FEATURE("sysctl_io_uring_disabled");
  long disabled = -5, group = -5;
  ASSERT_TRUE(ReadLong(kDisabled, &disabled));
  ASSERT_TRUE(ReadLong(kGroup, &group));
  EXPECT_TRUE(disabled >= 0 && disabled <= 2) << "J86: io_uring_disabled " << disabled;
  EXPECT_GE(group, -1) << "J86: io_uring_group " << group;
}

// J86: out-of-range values are refused by the sysctl (-EINVAL) and change
// nothing.
TEST_F(IoUringSysctl, OutOfRangeValueIsRefused) {
  RINGCHECK_RULE("J86");
  long before = -5;
  ASSERT_TRUE(ReadLong(kDisabled, &before));
  EXPECT_FALSE(WriteLong(kDisabled, 3)) << "J86: 3 accepted";
  long after = -5;
  ASSERT_TRUE(ReadLong(kDisabled, &after));
  EXPECT_EQ(after, before) << "J86";
}

// J87: 2 refuses every new ring with -EPERM, root's too; rings that exist
// keep working.
TEST_F(IoUringSysctl, TwoRefusesEveryone) {
  RINGCHECK_RULE("J87");
  io_uring existing;
  ASSERT_EQ(io_uring_queue_init(2, &existing, 0), 0);
  ASSERT_TRUE(WriteLong(kDisabled, 2));
  EXPECT_RESULT(SetupRaw(), -EPERM, "J87: root");
  EXPECT_RESULT(SetupAsNobody(), -EPERM, "J87: uid 65534");
  io_uring_prep_nop(io_uring_get_sqe(&existing));
  EXPECT_RESULT(io_uring_submit_and_wait(&existing, 1), 1, "J87: an existing ring");
  io_uring_queue_exit(&existing);
}

// J88: 1 lets CAP_SYS_ADMIN and members of io_uring_group create rings;
// others get -EPERM.
TEST_F(IoUringSysctl, OneAllowsAdminOnly) {
  RINGCHECK_RULE("J88");
  ASSERT_TRUE(WriteLong(kGroup, -1));
  ASSERT_TRUE(WriteLong(kDisabled, 1));
  EXPECT_RESULT(SetupRaw(), 0, "J88: root");
  EXPECT_RESULT(SetupAsNobody(), -EPERM, "J88: uid 65534, no group set");
}

TEST_F(IoUringSysctl, OneAllowsTheGroup) {
  RINGCHECK_RULE("J88");
  ASSERT_TRUE(WriteLong(kGroup, kNobody));
  ASSERT_TRUE(WriteLong(kDisabled, 1));
  EXPECT_RESULT(SetupAsNobody(), 0, "J88: gid 65534 is io_uring_group");
  ASSERT_TRUE(WriteLong(kGroup, kNobody - 1));
  EXPECT_RESULT(SetupAsNobody(), -EPERM, "J88: another group");
}

// J89: 0 lets everyone create rings.
TEST_F(IoUringSysctl, ZeroAllowsEveryone) {
  RINGCHECK_RULE("J89");
  ASSERT_TRUE(WriteLong(kDisabled, 0));
  EXPECT_RESULT(SetupRaw(), 0, "J89: root");
  EXPECT_RESULT(SetupAsNobody(), 0, "J89: uid 65534");
}

}  // namespace
}  // namespace ringcheck
