// FSETXATTR, SETXATTR, FGETXATTR, GETXATTR (io_uring_prep_fsetxattr(3) ...,
// setxattr(2), getxattr(2); kernel io_uring/xattr.c __io_getxattr_prep /
// __io_setxattr_prep, fs/xattr.c setxattr_copy, do_getxattr, import_xattr_name,
// xattr_resolve_name). Rules G113-G122. They need user.* extended attributes
// on the scratch file system: ext4 has them, tmpfs since 6.6; elsewhere the
// tests SKIP with environment:user_xattr.
#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/files/files_util.h"

namespace ringcheck {
namespace {

class Xattr : public FilesTest {
 protected:
  void SetUp() override {
    REQUIRE_FEATURE("op_fsetxattr");
    REQUIRE_FEATURE("op_fgetxattr");
    FilesTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(d_.ok());
    if (!UserXattrsWork(d_.path())) {
      GTEST_SKIP() << "environment:user_xattr (the scratch file system keeps no user.* attributes)";
    }
    ASSERT_TRUE(d_.WriteFile("f", "x"));
    path_ = d_.Path("f");
    fd_.reset(open(path_.c_str(), O_RDWR | O_CLOEXEC));
    ASSERT_TRUE(fd_.valid());
  }
  int FSet(const char* name, const std::string& value, int flags = 0) {
    return RunOne(ring(), [&](io_uring_sqe* s) {
      io_uring_prep_fsetxattr(s, fd_.get(), name, value.data(), flags, value.size());
    });
  }
  int FGet(const char* name, char* buf, unsigned len) {
    return RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_fgetxattr(s, fd_.get(), name, buf, len); });
  }
  TempDir d_;
  std::string path_;
  UniqueFd fd_;
  char buf_[64] = {};
};

TEST_F(Xattr, FsetThenFgetRoundTrips) {
  RINGCHECK_RULE("G113");
  EXPECT_RESULT(FSet("user.k", "value"), 0, "G113: set");
  EXPECT_RESULT(FGet("user.k", buf_, sizeof(buf_)), 5, "G113: get returns the value's length");
  EXPECT_EQ(std::string(buf_, 5), "value");
  char sys[16];
  EXPECT_EQ(fgetxattr(fd_.get(), "user.k", sys, sizeof(sys)), 5) << "G113: visible to getxattr(2)";
}

TEST_F(Xattr, SetThenGetByPath) {
  REQUIRE_FEATURE("op_setxattr");
  REQUIRE_FEATURE("op_getxattr");
  RINGCHECK_RULE("G114");
  std::string v = "by-path";
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_setxattr(s, "user.p", v.data(), path_.c_str(), 0, v.size());
                }),
                0, "G114: SETXATTR");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_getxattr(s, "user.p", buf_, path_.c_str(), sizeof(buf_));
                }),
                7, "G114: GETXATTR");
  EXPECT_EQ(std::string(buf_, 7), "by-path");
}

TEST_F(Xattr, GetByMissingPathIsEnoent) {
  REQUIRE_FEATURE("op_getxattr");
  RINGCHECK_RULE("G114");
  std::string missing = d_.Path("missing");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_getxattr(s, "user.p", buf_, missing.c_str(), sizeof(buf_));
                }),
                -ENOENT, "G114");
}

TEST_F(Xattr, ZeroSizeGetReturnsLength) {
  RINGCHECK_RULE("G115");
  ASSERT_EQ(FSet("user.k", "twelve bytes"), 0);
  EXPECT_RESULT(FGet("user.k", nullptr, 0), 12, "G115");
}

TEST_F(Xattr, SmallBufferIsErange) {
  RINGCHECK_RULE("G116");
  ASSERT_EQ(FSet("user.k", "twelve bytes"), 0);
  EXPECT_RESULT(FGet("user.k", buf_, 4), -ERANGE, "G116");
}

TEST_F(Xattr, MissingNameIsEnodata) {
  RINGCHECK_RULE("G117");
  EXPECT_RESULT(FGet("user.none", buf_, sizeof(buf_)), -ENODATA, "G117");
}

TEST_F(Xattr, CreateOnExistingIsEexist) {
  RINGCHECK_RULE("G118");
  ASSERT_EQ(FSet("user.k", "1"), 0);
  EXPECT_RESULT(FSet("user.k", "2", XATTR_CREATE), -EEXIST, "G118");
  EXPECT_RESULT(FGet("user.k", buf_, sizeof(buf_)), 1, "G118");
  EXPECT_EQ(buf_[0], '1') << "G118: unchanged";
}

TEST_F(Xattr, ReplaceOnMissingIsEnodata) {
  RINGCHECK_RULE("G118");
  EXPECT_RESULT(FSet("user.none", "2", XATTR_REPLACE), -ENODATA, "G118");
}

TEST_F(Xattr, ReplaceOnExistingReplaces) {
  RINGCHECK_RULE("G118");
  ASSERT_EQ(FSet("user.k", "old"), 0);
  EXPECT_RESULT(FSet("user.k", "newer", XATTR_REPLACE), 0, "G118");
  EXPECT_RESULT(FGet("user.k", buf_, sizeof(buf_)), 5, "G118");
}

TEST_F(Xattr, UnknownSetFlagIsInvalid) {
  RINGCHECK_RULE("G119");
  EXPECT_RESULT(FSet("user.k", "v", 0x10), -EINVAL, "G119");
}

TEST_F(Xattr, GetWithFlagsIsInvalid) {
  RINGCHECK_RULE("G119");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_fgetxattr(s, fd_.get(), "user.k", buf_, sizeof(buf_));
                  s->xattr_flags = XATTR_CREATE;
                }),
                -EINVAL, "G119: getxattr takes no flags");
}

TEST_F(Xattr, EmptyNameIsErange) {
  RINGCHECK_RULE("G120");
  EXPECT_RESULT(FSet("", "v"), -ERANGE, "G120: empty");
}

TEST_F(Xattr, OverlongNameIsErange) {
  RINGCHECK_RULE("G120");
  std::string name = "user." + std::string(300, 'n');
  EXPECT_RESULT(FSet(name.c_str(), "v"), -ERANGE, "G120: 305 bytes");
}

TEST_F(Xattr, UnknownNamespaceIsNotSupported) {
  RINGCHECK_RULE("G121");
  EXPECT_RESULT(FSet("bogus.k", "v"), -EOPNOTSUPP, "G121");
}

TEST_F(Xattr, OversizedValueIsE2big) {
  RINGCHECK_RULE("G122");
  std::string big(XATTR_SIZE_MAX + 1, 'v');
  EXPECT_RESULT(FSet("user.big", big), -E2BIG, "G122");
}

}  // namespace
}  // namespace ringcheck
