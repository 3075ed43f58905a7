// RENAMEAT, UNLINKAT, MKDIRAT, SYMLINKAT, LINKAT and their errno paths
// (io_uring_prep_renameat(3) ... io_uring_prep_linkat(3), rename(2),
// unlink(2), mkdir(2), symlink(2), link(2); kernel io_uring/fs.c
// io_renameat_prep ... io_linkat_prep, fs/namei.c do_renameat2, do_unlinkat,
// do_rmdir, do_mkdirat, do_symlinkat, do_linkat). Rules G96-G112.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/files/files_util.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

namespace ringcheck {
namespace {

class Paths : public FilesTest {
 protected:
  void SetUp() override {
    FilesTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(d_.ok());
    ASSERT_TRUE(d_.WriteFile("a", "AAA"));
    ASSERT_TRUE(d_.WriteFile("b", "BB"));
    ASSERT_EQ(mkdirat(d_.fd(), "empty", 0755), 0);
    ASSERT_EQ(mkdirat(d_.fd(), "full", 0755), 0);
    ASSERT_TRUE(d_.WriteFile("full/x", "x"));
  }
  bool Exists(const char* name) {
    struct stat st;
    return fstatat(d_.fd(), name, &st, AT_SYMLINK_NOFOLLOW) == 0;
  }
  int Rename(const char* from, const char* to, unsigned flags = 0) {
    return RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_renameat(s, d_.fd(), from, d_.fd(), to, flags); });
  }
  int Unlink(const char* name, int flags = 0) {
    return RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_unlinkat(s, d_.fd(), name, flags); });
  }
  int Mkdir(const char* name, mode_t mode = 0755) {
    return RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_mkdirat(s, d_.fd(), name, mode); });
  }
  int Symlink(const char* target, const char* name) {
    return RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_symlinkat(s, target, d_.fd(), name); });
  }
  int Link(const char* from, const char* to, int flags = 0) {
    return RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_linkat(s, d_.fd(), from, d_.fd(), to, flags); });
  }
  TempDir d_;
};

TEST_F(Paths, RenameMoves) {
  REQUIRE_FEATURE("op_renameat");
  RINGCHECK_RULE("G96");
  EXPECT_RESULT(Rename("a", "c"), 0, "G96");
  EXPECT_FALSE(Exists("a"));
  EXPECT_TRUE(Exists("c"));
}

TEST_F(Paths, RenameOverwritesFile) {
  REQUIRE_FEATURE("op_renameat");
  RINGCHECK_RULE("G96");
  EXPECT_RESULT(Rename("a", "b"), 0, "G96: an existing file is replaced");
  struct stat st;
  ASSERT_EQ(fstatat(d_.fd(), "b", &st, 0), 0);
  EXPECT_EQ(st.st_size, 3) << "G96: b now holds a's contents";
}

TEST_F(Paths, RenameMissingIsEnoent) {
  REQUIRE_FEATURE("op_renameat");
  RINGCHECK_RULE("G97");
  EXPECT_RESULT(Rename("missing", "c"), -ENOENT, "G97");
}

TEST_F(Paths, RenameNoreplaceExistingIsEexist) {
  REQUIRE_FEATURE("op_renameat");
  RINGCHECK_RULE("G98");
  EXPECT_RESULT(Rename("a", "b", RENAME_NOREPLACE), -EEXIST, "G98");
  EXPECT_TRUE(Exists("a"));
}

TEST_F(Paths, RenameExchangeSwaps) {
  REQUIRE_FEATURE("op_renameat");
  RINGCHECK_RULE("G98");
  EXPECT_RESULT(Rename("a", "b", RENAME_EXCHANGE), 0, "G98");
  struct stat st;
  ASSERT_EQ(fstatat(d_.fd(), "a", &st, 0), 0);
  EXPECT_EQ(st.st_size, 2) << "G98: a now holds b's contents";
}

TEST_F(Paths, RenameDirOverNonEmptyDirIsEnotempty) {
  REQUIRE_FEATURE("op_renameat");
  RINGCHECK_RULE("G99");
  EXPECT_RESULT(Rename("empty", "full"), -ENOTEMPTY, "G99");
}

TEST_F(Paths, RenameFileOverDirIsEisdir) {
  REQUIRE_FEATURE("op_renameat");
  RINGCHECK_RULE("G99");
  EXPECT_RESULT(Rename("a", "empty"), -EISDIR, "G99");
}

TEST_F(Paths, RenameDirOverFileIsEnotdir) {
  REQUIRE_FEATURE("op_renameat");
  RINGCHECK_RULE("G99");
  EXPECT_RESULT(Rename("empty", "a"), -ENOTDIR, "G99");
}

TEST_F(Paths, RenameUnknownFlagIsInvalid) {
  REQUIRE_FEATURE("op_renameat");
  RINGCHECK_RULE("G100");
  EXPECT_RESULT(Rename("a", "c", 1u << 10), -EINVAL, "G100");
  EXPECT_RESULT(Rename("a", "b", RENAME_NOREPLACE | RENAME_EXCHANGE), -EINVAL, "G100: NOREPLACE|EXCHANGE");
}

TEST_F(Paths, UnlinkRemovesFile) {
  REQUIRE_FEATURE("op_unlinkat");
  RINGCHECK_RULE("G101");
  EXPECT_RESULT(Unlink("a"), 0, "G101");
  EXPECT_FALSE(Exists("a"));
}

TEST_F(Paths, UnlinkMissingIsEnoent) {
  REQUIRE_FEATURE("op_unlinkat");
  RINGCHECK_RULE("G102");
  EXPECT_RESULT(Unlink("missing"), -ENOENT, "G102");
}

TEST_F(Paths, UnlinkOfDirectoryIsEisdir) {
  REQUIRE_FEATURE("op_unlinkat");
  RINGCHECK_RULE("G102");
  EXPECT_RESULT(Unlink("empty"), -EISDIR, "G102: a directory without AT_REMOVEDIR");
}

TEST_F(Paths, RemovedirRemovesEmptyDirectory) {
  REQUIRE_FEATURE("op_unlinkat");
  RINGCHECK_RULE("G103");
  EXPECT_RESULT(Unlink("empty", AT_REMOVEDIR), 0, "G103");
  EXPECT_FALSE(Exists("empty"));
}

TEST_F(Paths, RemovedirOfFileIsEnotdir) {
  REQUIRE_FEATURE("op_unlinkat");
  RINGCHECK_RULE("G103");
  EXPECT_RESULT(Unlink("a", AT_REMOVEDIR), -ENOTDIR, "G103");
}

TEST_F(Paths, RemovedirOfNonEmptyIsEnotempty) {
  REQUIRE_FEATURE("op_unlinkat");
  RINGCHECK_RULE("G103");
  EXPECT_RESULT(Unlink("full", AT_REMOVEDIR), -ENOTEMPTY, "G103");
}

TEST_F(Paths, UnlinkUnknownFlagIsInvalid) {
  REQUIRE_FEATURE("op_unlinkat");
  RINGCHECK_RULE("G104");
  EXPECT_RESULT(Unlink("a", 0x1), -EINVAL, "G104");
  EXPECT_TRUE(Exists("a"));
}

TEST_F(Paths, MkdirCreatesWithMode) {
  REQUIRE_FEATURE("op_mkdirat");
  RINGCHECK_RULE("G105");
  mode_t old = umask(0);
  int res = Mkdir("made", 0710);
  umask(old);
  EXPECT_RESULT(res, 0, "G105");
  struct stat st;
  ASSERT_EQ(fstatat(d_.fd(), "made", &st, 0), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0710u) << "G105";
}

TEST_F(Paths, MkdirExistingIsEexist) {
  REQUIRE_FEATURE("op_mkdirat");
  RINGCHECK_RULE("G106");
  EXPECT_RESULT(Mkdir("empty"), -EEXIST, "G106: a directory");
  EXPECT_RESULT(Mkdir("a"), -EEXIST, "G106: a file");
}

TEST_F(Paths, MkdirMissingParentIsEnoent) {
  REQUIRE_FEATURE("op_mkdirat");
  RINGCHECK_RULE("G106");
  EXPECT_RESULT(Mkdir("nope/child"), -ENOENT, "G106");
}

TEST_F(Paths, MkdirUnderFileIsEnotdir) {
  REQUIRE_FEATURE("op_mkdirat");
  RINGCHECK_RULE("G106");
  EXPECT_RESULT(Mkdir("a/child"), -ENOTDIR, "G106");
}

TEST_F(Paths, SymlinkPointsAtTarget) {
  REQUIRE_FEATURE("op_symlinkat");
  RINGCHECK_RULE("G107");
  EXPECT_RESULT(Symlink("a", "s"), 0, "G107");
  char buf[8] = {};
  ASSERT_EQ(readlinkat(d_.fd(), "s", buf, sizeof(buf)), 1);
  EXPECT_EQ(buf[0], 'a');
}

TEST_F(Paths, SymlinkToMissingTargetIsFine) {
  REQUIRE_FEATURE("op_symlinkat");
  RINGCHECK_RULE("G107");
  EXPECT_RESULT(Symlink("does/not/exist", "dangling"), 0, "G107: the target is not checked");
}

TEST_F(Paths, SymlinkOverExistingIsEexist) {
  REQUIRE_FEATURE("op_symlinkat");
  RINGCHECK_RULE("G108");
  EXPECT_RESULT(Symlink("a", "b"), -EEXIST, "G108");
}

TEST_F(Paths, SymlinkInMissingDirIsEnoent) {
  REQUIRE_FEATURE("op_symlinkat");
  RINGCHECK_RULE("G108");
  EXPECT_RESULT(Symlink("a", "nope/s"), -ENOENT, "G108");
}

TEST_F(Paths, LinkAddsName) {
  REQUIRE_FEATURE("op_linkat");
  RINGCHECK_RULE("G109");
  EXPECT_RESULT(Link("a", "hard"), 0, "G109");
  struct stat st;
  ASSERT_EQ(fstatat(d_.fd(), "a", &st, 0), 0);
  EXPECT_EQ(st.st_nlink, 2u) << "G109";
}

TEST_F(Paths, LinkOverExistingIsEexist) {
  REQUIRE_FEATURE("op_linkat");
  RINGCHECK_RULE("G110");
  EXPECT_RESULT(Link("a", "b"), -EEXIST, "G110");
}

TEST_F(Paths, LinkMissingSourceIsEnoent) {
  REQUIRE_FEATURE("op_linkat");
  RINGCHECK_RULE("G110");
  EXPECT_RESULT(Link("missing", "c"), -ENOENT, "G110");
}

TEST_F(Paths, LinkOfDirectoryIsEperm) {
  REQUIRE_FEATURE("op_linkat");
  RINGCHECK_RULE("G111");
  EXPECT_RESULT(Link("empty", "dirlink"), -EPERM, "G111");
}

TEST_F(Paths, LinkUnknownFlagIsInvalid) {
  REQUIRE_FEATURE("op_linkat");
  RINGCHECK_RULE("G111");
  EXPECT_RESULT(Link("a", "c", 0x1), -EINVAL, "G111");
}

TEST_F(Paths, RenameAcrossFileSystemsIsExdev) {
  REQUIRE_FEATURE("op_renameat");
  RINGCHECK_RULE("G112");
  struct stat here, shm;
  if (stat(d_.path().c_str(), &here) != 0 || stat("/dev/shm", &shm) != 0 || here.st_dev == shm.st_dev ||
      access("/dev/shm", W_OK) != 0) {
    GTEST_SKIP() << "environment:second_fs (no writable /dev/shm on another file system)";
  }
  std::string target = "/dev/shm/ringcheck-exdev-" + std::to_string(getpid());
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_renameat(s, d_.fd(), "a", AT_FDCWD, target.c_str(), 0);
                }),
                -EXDEV, "G112: rename");
  if (Supported("op_linkat")) {
    EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                    io_uring_prep_linkat(s, d_.fd(), "a", AT_FDCWD, target.c_str(), 0);
                  }),
                  -EXDEV, "G112: link");
  }
  unlink(target.c_str());
}

}  // namespace
}  // namespace ringcheck
