// IOSQE_ASYNC gives the same results as inline issue for the file and path
// opcodes (io_uring_enter(2) "IOSQE_ASYNC"; kernel io_uring.c
// io_queue_sqe_fallback / io_wq_submit_work). Rule G150: each case runs once
// inline and once forced to io-wq, expecting the same result.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/files/files_util.h"

namespace ringcheck {
namespace {

class AsyncSame : public FilesTest, public ::testing::WithParamInterface<unsigned> {
 protected:
  void SetUp() override {
    FilesTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(d_.ok());
    ASSERT_TRUE(d_.WriteFile("f", "0123456789"));
    ASSERT_EQ(mkdirat(d_.fd(), "dir", 0755), 0);
    file_.reset(openat(d_.fd(), "f", O_RDWR | O_CLOEXEC));
    ASSERT_TRUE(file_.valid());
  }
  int Run(const std::function<void(io_uring_sqe*)>& prep) { return RunOne(ring(), prep, GetParam()); }
  TempDir d_;
  UniqueFd file_;
};

TEST_P(AsyncSame, OpenatMissing) {
  RINGCHECK_RULE("G150 G77");
  EXPECT_RESULT(Run([&](io_uring_sqe* s) { io_uring_prep_openat(s, d_.fd(), "none", O_RDONLY, 0); }), -ENOENT,
                "G150");
}

TEST_P(AsyncSame, OpenatAndCloseRoundTrip) {
  RINGCHECK_RULE("G150 G75 G87");
  int fd = Run([&](io_uring_sqe* s) { io_uring_prep_openat(s, d_.fd(), "f", O_RDONLY | O_CLOEXEC, 0); });
  ASSERT_GE(fd, 0) << "G150: " << ResultName(fd);
  EXPECT_RESULT(Run([&](io_uring_sqe* s) { io_uring_prep_close(s, fd); }), 0, "G150");
}

TEST_P(AsyncSame, StatxSize) {
  RINGCHECK_RULE("G150 G90");
  struct statx stx = {};
  EXPECT_RESULT(Run([&](io_uring_sqe* s) { io_uring_prep_statx(s, d_.fd(), "f", 0, STATX_SIZE, &stx); }), 0,
                "G150");
  EXPECT_EQ(stx.stx_size, 10u);
}

TEST_P(AsyncSame, Fsync) {
  RINGCHECK_RULE("G150 G56");
  EXPECT_RESULT(Run([&](io_uring_sqe* s) { io_uring_prep_fsync(s, file_.get(), IORING_FSYNC_DATASYNC); }), 0,
                "G150");
}

TEST_P(AsyncSame, FallocateZeroLength) {
  RINGCHECK_RULE("G150 G65");
  EXPECT_RESULT(Run([&](io_uring_sqe* s) { io_uring_prep_fallocate(s, file_.get(), 0, 0, 0); }), -EINVAL,
                "G150");
}

TEST_P(AsyncSame, WritevReadv) {
  RINGCHECK_RULE("G150 G6");
  char w[] = "AB";
  iovec wv = {w, 2};
  EXPECT_RESULT(Run([&](io_uring_sqe* s) { io_uring_prep_writev(s, file_.get(), &wv, 1, 8); }), 2, "G150");
  char r[4] = {};
  iovec rv = {r, 4};
  EXPECT_RESULT(Run([&](io_uring_sqe* s) { io_uring_prep_readv(s, file_.get(), &rv, 1, 7); }), 3, "G150");
  EXPECT_EQ(std::string(r, 3), "7AB");
}

TEST_P(AsyncSame, UnlinkDirectoryIsEisdir) {
  REQUIRE_FEATURE("op_unlinkat");
  RINGCHECK_RULE("G150 G102");
  EXPECT_RESULT(Run([&](io_uring_sqe* s) { io_uring_prep_unlinkat(s, d_.fd(), "dir", 0); }), -EISDIR, "G150");
}

TEST_P(AsyncSame, MkdirExisting) {
  REQUIRE_FEATURE("op_mkdirat");
  RINGCHECK_RULE("G150 G106");
  EXPECT_RESULT(Run([&](io_uring_sqe* s) { io_uring_prep_mkdirat(s, d_.fd(), "dir", 0755); }), -EEXIST, "G150");
}

TEST_P(AsyncSame, RenameMissing) {
  REQUIRE_FEATURE("op_renameat");
  RINGCHECK_RULE("G150 G97");
  EXPECT_RESULT(Run([&](io_uring_sqe* s) { io_uring_prep_renameat(s, d_.fd(), "none", d_.fd(), "x", 0); }),
                -ENOENT, "G150");
}

TEST_P(AsyncSame, SpliceFileToPipe) {
  REQUIRE_FEATURE("op_splice");
  RINGCHECK_RULE("G150 G123");
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd rd(fds[0]), wr(fds[1]);
  EXPECT_RESULT(Run([&](io_uring_sqe* s) { io_uring_prep_splice(s, file_.get(), 2, wr.get(), -1, 5, 0); }), 5,
                "G150");
  char b[5];
  ASSERT_EQ(read(rd.get(), b, 5), 5);
  EXPECT_EQ(std::string(b, 5), "23456");
}

TEST_P(AsyncSame, FtruncateReadOnly) {
  REQUIRE_FEATURE("op_ftruncate");
  RINGCHECK_RULE("G150 G73");
  UniqueFd ro(openat(d_.fd(), "f", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(ro.valid());
  EXPECT_RESULT(Run([&](io_uring_sqe* s) { io_uring_prep_ftruncate(s, ro.get(), 0); }), -EINVAL, "G150");
}

TEST_P(AsyncSame, FadviseOnPipe) {
  RINGCHECK_RULE("G150 G68");
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd rd(fds[0]), wr(fds[1]);
  EXPECT_RESULT(Run([&](io_uring_sqe* s) { io_uring_prep_fadvise(s, rd.get(), 0, 0, POSIX_FADV_NORMAL); }),
                -ESPIPE, "G150");
}

INSTANTIATE_TEST_SUITE_P(Issue, AsyncSame, ::testing::Values(0u, static_cast<unsigned>(IOSQE_ASYNC)),
                         [](const ::testing::TestParamInfo<unsigned>& info) {
                           return std::string(info.param ? "async" : "inline");
                         });

}  // namespace
}  // namespace ringcheck
