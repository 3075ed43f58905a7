// OPENAT, OPENAT2, CLOSE, STATX (io_uring_prep_openat(3), openat2(2),
// io_uring_prep_close(3), io_uring_prep_statx(3); kernel io_uring/openclose.c
// io_openat_prep / io_openat2_prep / io_close_prep / io_close, fs/open.c
// build_open_flags, fs/namei.c, io_uring/statx.c). Rules G75-G95.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/files/files_util.h"

namespace ringcheck {
namespace {

class Open : public FilesTest {
 protected:
  void SetUp() override {
    FilesTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(dir_.ok());
    ASSERT_TRUE(dir_.WriteFile("file", "contents"));
    ASSERT_EQ(mkdirat(dir_.fd(), "sub", 0755), 0);
    ASSERT_EQ(symlinkat("file", dir_.fd(), "link"), 0);
  }
  int Openat(const char* path, int flags, mode_t mode = 0) {
    return RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_openat(s, dir_.fd(), path, flags, mode); });
  }
  int Openat2(int dfd, const char* path, open_how* how, size_t size = sizeof(open_how)) {
    return RunOne(ring(), [&](io_uring_sqe* s) {
      io_uring_prep_openat2(s, dfd, path, how);
      s->len = static_cast<uint32_t>(size);
    });
  }
  int Statx(int dfd, const char* path, int flags, unsigned mask, struct statx* out) {
    return RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_statx(s, dfd, path, flags, mask, out); });
  }
  TempDir dir_;
};

TEST_F(Open, OpenatReturnsWorkingFd) {
  RINGCHECK_RULE("G75");
  int fd = Openat("file", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << "G75: " << ResultName(fd);
  UniqueFd owned(fd);
  char buf[8];
  EXPECT_EQ(read(fd, buf, 8), 8);
  EXPECT_EQ(std::string(buf, 8), "contents") << "G75: relative to the dirfd";
  EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC) << "G75: O_CLOEXEC honoured";
}

TEST_F(Open, OpenatCreateAppliesModeAndUmask) {
  RINGCHECK_RULE("G76");
  mode_t old = umask(022);
  int fd = Openat("new", O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
  umask(old);
  ASSERT_GE(fd, 0) << "G76: " << ResultName(fd);
  UniqueFd owned(fd);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u) << "G76: 0666 minus umask 022";
}

TEST_F(Open, OpenatMissingIsEnoent) {
  RINGCHECK_RULE("G77");
  EXPECT_RESULT(Openat("missing", O_RDONLY), -ENOENT, "G77");
}

TEST_F(Open, OpenatExclusiveExistingIsEexist) {
  RINGCHECK_RULE("G77");
  EXPECT_RESULT(Openat("file", O_CREAT | O_EXCL | O_WRONLY, 0644), -EEXIST, "G77");
}

TEST_F(Open, OpenatDirectoryFlagOnFileIsEnotdir) {
  RINGCHECK_RULE("G77");
  EXPECT_RESULT(Openat("file", O_RDONLY | O_DIRECTORY), -ENOTDIR, "G77");
}

TEST_F(Open, OpenatDirectoryForWritingIsEisdir) {
  RINGCHECK_RULE("G77");
  EXPECT_RESULT(Openat("sub", O_WRONLY), -EISDIR, "G77");
}

TEST_F(Open, OpenatWithFixedFileFlagIsBadf) {
  RINGCHECK_RULE("G78");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_openat(s, dir_.fd(), "file", O_RDONLY, 0); },
                       IOSQE_FIXED_FILE),
                -EBADF, "G78");
}

TEST_F(Open, OpenatWithBufIndexIsInvalid) {
  RINGCHECK_RULE("G78");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_openat(s, dir_.fd(), "file", O_RDONLY, 0);
                  s->buf_index = 1;
                }),
                -EINVAL, "G78");
}

TEST_F(Open, Openat2Opens) {
  RINGCHECK_RULE("G79");
  open_how how = {};
  how.flags = O_RDONLY | O_CLOEXEC;
  int fd = Openat2(dir_.fd(), "file", &how);
  ASSERT_GE(fd, 0) << "G79: " << ResultName(fd);
  close(fd);
}

TEST_F(Open, Openat2SizeBelowVer0IsInvalid) {
  RINGCHECK_RULE("G80");
  open_how how = {};
  EXPECT_RESULT(Openat2(dir_.fd(), "file", &how, 23), -EINVAL, "G80: 23 bytes");
  EXPECT_RESULT(Openat2(dir_.fd(), "file", &how, 0), -EINVAL, "G80: 0 bytes");
}

TEST_F(Open, Openat2LargerStructWithZeroTailIsAccepted) {
  RINGCHECK_RULE("G81");
  std::vector<unsigned char> big(64, 0);
  open_how how = {};
  how.flags = O_RDONLY | O_CLOEXEC;
  memcpy(big.data(), &how, sizeof(how));
  int fd = Openat2(dir_.fd(), "file", reinterpret_cast<open_how*>(big.data()), big.size());
  EXPECT_GE(fd, 0) << "G81: " << ResultName(fd);
  if (fd >= 0) close(fd);
}

TEST_F(Open, Openat2LargerStructWithNonZeroTailIsE2big) {
  RINGCHECK_RULE("G81");
  std::vector<unsigned char> big(64, 0);
  big[40] = 1;
  EXPECT_RESULT(Openat2(dir_.fd(), "file", reinterpret_cast<open_how*>(big.data()), big.size()), -E2BIG,
                "G81");
}

TEST_F(Open, Openat2UnknownResolveIsInvalid) {
  RINGCHECK_RULE("G82");
  open_how how = {};
  how.resolve = 1ull << 40;
  EXPECT_RESULT(Openat2(dir_.fd(), "file", &how), -EINVAL, "G82");
}

TEST_F(Open, Openat2ModeWithoutCreateIsInvalid) {
  RINGCHECK_RULE("G82");
  open_how how = {};
  how.flags = O_RDONLY;
  how.mode = 0644;
  EXPECT_RESULT(Openat2(dir_.fd(), "file", &how), -EINVAL, "G82");
}

TEST_F(Open, Openat2UnknownFlagIsInvalid) {
  RINGCHECK_RULE("G82");
  open_how how = {};
  how.flags = 1ull << 40;
  EXPECT_RESULT(Openat2(dir_.fd(), "file", &how), -EINVAL, "G82");
}

TEST_F(Open, ResolveBeneathRefusesDotDot) {
  RINGCHECK_RULE("G83");
  UniqueFd sub(openat(dir_.fd(), "sub", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(sub.valid());
  open_how how = {};
  how.flags = O_RDONLY;
  how.resolve = RESOLVE_BENEATH;
  EXPECT_RESULT(Openat2(sub.get(), "../file", &how), -EXDEV, "G83: ..");
  EXPECT_RESULT(Openat2(sub.get(), "/etc/passwd", &how), -EXDEV, "G83: absolute");
}

TEST_F(Open, ResolveNoSymlinksRefusesLink) {
  RINGCHECK_RULE("G84");
  open_how how = {};
  how.flags = O_RDONLY;
  how.resolve = RESOLVE_NO_SYMLINKS;
  EXPECT_RESULT(Openat2(dir_.fd(), "link", &how), -ELOOP, "G84");
  how.resolve = 0;
  int fd = Openat2(dir_.fd(), "link", &how);
  EXPECT_GE(fd, 0) << "G84: the same open without the flag works";
  if (fd >= 0) close(fd);
}

TEST_F(Open, ResolveInRootTreatsDirfdAsRoot) {
  RINGCHECK_RULE("G85");
  UniqueFd sub(openat(dir_.fd(), "sub", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(sub.valid());
  ASSERT_EQ(symlinkat("/inner", sub.get(), "abs"), 0);
  ASSERT_EQ(mkdirat(sub.get(), "inner", 0755), 0);
  open_how how = {};
  how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT;
  int fd = Openat2(sub.get(), "/../abs", &how);
  ASSERT_GE(fd, 0) << "G85: " << ResultName(fd);
  UniqueFd owned(fd);
  struct stat a, b;
  ASSERT_EQ(fstat(fd, &a), 0);
  ASSERT_EQ(fstatat(sub.get(), "inner", &b, 0), 0);
  EXPECT_EQ(a.st_ino, b.st_ino) << "G85: '/', '..' and the absolute link stay inside the dirfd";
}

TEST_F(Open, ResolveNoXdevRefusesMountCrossing) {
  RINGCHECK_RULE("G86");
  struct stat root, proc;
  if (stat("/", &root) != 0 || stat("/proc", &proc) != 0 || root.st_dev == proc.st_dev) {
    GTEST_SKIP() << "environment:mount (/proc is not a separate mount here)";
  }
  UniqueFd rootfd(open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(rootfd.valid());
  open_how how = {};
  how.flags = O_RDONLY | O_DIRECTORY;
  how.resolve = RESOLVE_NO_XDEV;
  EXPECT_RESULT(Openat2(rootfd.get(), "proc", &how), -EXDEV, "G86");
}

TEST_F(Open, CloseClosesFd) {
  RINGCHECK_RULE("G87");
  int fd = open(dir_.Path("file").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_close(s, fd); }), 0, "G87");
  EXPECT_EQ(fcntl(fd, F_GETFD), -1) << "G87: the fd is gone";
}

TEST_F(Open, CloseOfClosedFdIsBadf) {
  RINGCHECK_RULE("G88");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_close(s, 100000); }), -EBADF, "G88");
}

TEST_F(Open, CloseOfRingFdIsBadf) {
  RINGCHECK_RULE("G88");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_close(s, ring().fd()); }), -EBADF,
                "G88: an io_uring fd cannot be closed by its own ring");
}

TEST_F(Open, CloseWithStrayFieldIsInvalid) {
  RINGCHECK_RULE("G89");
  int fd = open(dir_.Path("file").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  UniqueFd owned(fd);
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_close(s, fd);
                  s->off = 1;
                }),
                -EINVAL, "G89: sqe->off");
  EXPECT_GE(fcntl(fd, F_GETFD), 0) << "G89: still open";
}

TEST_F(Open, StatxReportsCurrentSize) {
  RINGCHECK_RULE("G90");
  struct statx stx = {};
  EXPECT_RESULT(Statx(dir_.fd(), "file", 0, STATX_SIZE | STATX_MODE, &stx), 0, "G90");
  EXPECT_TRUE(stx.stx_mask & STATX_SIZE);
  EXPECT_EQ(stx.stx_size, 8u);
  EXPECT_TRUE(S_ISREG(stx.stx_mode));
  ASSERT_TRUE(dir_.WriteFile("file", "longer contents"));
  EXPECT_RESULT(Statx(dir_.fd(), "file", 0, STATX_SIZE, &stx), 0, "G90");
  EXPECT_EQ(stx.stx_size, 15u) << "G90: not a stale size";
}

TEST_F(Open, StatxEmptyPathStatsDirfd) {
  RINGCHECK_RULE("G91");
  UniqueFd fd(openat(dir_.fd(), "file", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  struct statx stx = {};
  EXPECT_RESULT(Statx(fd.get(), "", AT_EMPTY_PATH, STATX_SIZE, &stx), 0, "G91");
  EXPECT_EQ(stx.stx_size, 8u);
}

TEST_F(Open, StatxNoFollowStatsTheLink) {
  RINGCHECK_RULE("G91");
  struct statx stx = {};
  EXPECT_RESULT(Statx(dir_.fd(), "link", AT_SYMLINK_NOFOLLOW, STATX_MODE, &stx), 0, "G91");
  EXPECT_TRUE(S_ISLNK(stx.stx_mode)) << "G91: AT_SYMLINK_NOFOLLOW";
  EXPECT_RESULT(Statx(dir_.fd(), "link", 0, STATX_MODE, &stx), 0, "G91");
  EXPECT_TRUE(S_ISREG(stx.stx_mode)) << "G91: followed by default";
}

TEST_F(Open, StatxMissingIsEnoent) {
  RINGCHECK_RULE("G92");
  struct statx stx;
  EXPECT_RESULT(Statx(dir_.fd(), "missing", 0, STATX_BASIC_STATS, &stx), -ENOENT, "G92");
}

TEST_F(Open, StatxUnknownFlagIsInvalid) {
  RINGCHECK_RULE("G93");
  struct statx stx;
  EXPECT_RESULT(Statx(dir_.fd(), "file", 0x40000000, STATX_BASIC_STATS, &stx), -EINVAL, "G93: flag bit 30");
  EXPECT_RESULT(Statx(dir_.fd(), "file", AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &stx),
                -EINVAL, "G93: FORCE_SYNC with DONT_SYNC");
}

TEST_F(Open, StatxReservedMaskIsInvalid) {
  RINGCHECK_RULE("G94");
  struct statx stx;
  EXPECT_RESULT(Statx(dir_.fd(), "file", 0, STATX__RESERVED, &stx), -EINVAL, "G94");
}

TEST_F(Open, StatxUnwritableBufferFaults) {
  RINGCHECK_RULE("G95");
  EXPECT_RESULT(Statx(dir_.fd(), "file", 0, STATX_BASIC_STATS, reinterpret_cast<struct statx*>(8)), -EFAULT,
                "G95");
}

TEST_F(Open, StatxWithFixedFileFlagIsBadf) {
  RINGCHECK_RULE("G95");
  struct statx stx;
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_statx(s, dir_.fd(), "file", 0, STATX_SIZE, &stx);
                }, IOSQE_FIXED_FILE),
                -EBADF, "G95");
}

}  // namespace
}  // namespace ringcheck
