// READ, WRITE, READV, WRITEV on a regular file across the ring modes
// (io_uring_enter(2) "IORING_OP_READV", "IORING_OP_READ"; kernel io_uring/rw.c
// io_prep_rw, io_read, io_write, io_kiocb_update_pos). Rules G1-G13.
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/files/files_util.h"

namespace ringcheck {
namespace {

class FileRw : public RingTest {
 protected:
  void SetUp() override {
    if (GetParam().flags & IORING_SETUP_SQPOLL) REQUIRE_FEATURE("feat_sqpoll_nonfixed");
    RingTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(dir_.ok());
    file_.reset(open(dir_.Path("data").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    ASSERT_TRUE(file_.valid());
    ASSERT_EQ(pwrite(file_.get(), "0123456789abcdef", 16, 0), 16);
  }
  off_t Pos() { return lseek(file_.get(), 0, SEEK_CUR); }

  TempDir dir_;
  UniqueFd file_;
};

TEST_P(FileRw, ReadAtOffsetLeavesPosition) {
  RINGCHECK_RULE("G1");
  char buf[4] = {};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, file_.get(), buf, 4, 6); }),
                4, "G1");
  EXPECT_EQ(std::string(buf, 4), "6789") << "G1: bytes at offset 6";
  EXPECT_EQ(Pos(), 0) << "G1: an explicit offset leaves the file position alone";
}

TEST_P(FileRw, WriteAtOffsetLeavesPosition) {
  RINGCHECK_RULE("G2");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_write(s, file_.get(), "XY", 2, 3); }),
                2, "G2");
  EXPECT_EQ(ReadAll(file_.get()), "012XY56789abcdef") << "G2";
  EXPECT_EQ(Pos(), 0) << "G2: position unchanged";
}

TEST_P(FileRw, ReadAtMinusOneUsesAndAdvancesPosition) {
  REQUIRE_FEATURE("feat_rw_cur_pos");
  RINGCHECK_RULE("G3");
  ASSERT_EQ(lseek(file_.get(), 10, SEEK_SET), 10);
  char buf[3] = {};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, file_.get(), buf, 3, -1); }),
                3, "G3");
  EXPECT_EQ(std::string(buf, 3), "abc") << "G3";
  EXPECT_EQ(Pos(), 13) << "G3: the position moves by the bytes read";
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, file_.get(), buf, 3, -1); }),
                3, "G3");
  EXPECT_EQ(std::string(buf, 3), "def") << "G3: a second read continues";
}

TEST_P(FileRw, WriteAtMinusOneUsesAndAdvancesPosition) {
  REQUIRE_FEATURE("feat_rw_cur_pos");
  RINGCHECK_RULE("G4");
  ASSERT_EQ(lseek(file_.get(), 14, SEEK_SET), 14);
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_write(s, file_.get(), "WXYZ", 4, -1); }),
                4, "G4");
  EXPECT_EQ(Pos(), 18) << "G4";
  EXPECT_EQ(ReadAll(file_.get()), "0123456789abcdWXYZ") << "G4: the file grew past its end";
}

TEST_P(FileRw, ReadAcrossEofIsShort) {
  RINGCHECK_RULE("G5");
  char buf[16] = {};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, file_.get(), buf, 16, 12); }),
                4, "G5: 4 bytes remain");
  EXPECT_EQ(std::string(buf, 4), "cdef");
}

TEST_P(FileRw, ReadAtEofReturnsZero) {
  RINGCHECK_RULE("G5");
  char buf[8];
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, file_.get(), buf, 8, 16); }),
                0, "G5: at EOF");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, file_.get(), buf, 8, 4096); }),
                0, "G5: past EOF");
}

TEST_P(FileRw, ReadvScattersInOrder) {
  RINGCHECK_RULE("G6");
  char a[3] = {}, b[5] = {};
  iovec iov[2] = {{a, 3}, {b, 5}};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_readv(s, file_.get(), iov, 2, 2); }),
                8, "G6");
  EXPECT_EQ(std::string(a, 3), "234");
  EXPECT_EQ(std::string(b, 5), "56789");
}

TEST_P(FileRw, WritevGathersInOrder) {
  RINGCHECK_RULE("G6");
  char a[] = "AB", b[] = "CDE";
  iovec iov[2] = {{a, 2}, {b, 3}};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_writev(s, file_.get(), iov, 2, 1); }),
                5, "G6");
  EXPECT_EQ(ReadAll(file_.get()), "0ABCDE6789abcdef");
}

TEST_P(FileRw, VectoredAtMinusOneAdvancesPosition) {
  REQUIRE_FEATURE("feat_rw_cur_pos");
  RINGCHECK_RULE("G7");
  char a[4] = {};
  iovec iov = {a, 4};
  ASSERT_EQ(lseek(file_.get(), 2, SEEK_SET), 2);
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_readv(s, file_.get(), &iov, 1, -1); }),
                4, "G7: readv");
  EXPECT_EQ(std::string(a, 4), "2345");
  EXPECT_EQ(Pos(), 6);
  char w[] = "zz";
  iovec wv = {w, 2};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_writev(s, file_.get(), &wv, 1, -1); }),
                2, "G7: writev");
  EXPECT_EQ(Pos(), 8);
  EXPECT_EQ(ReadAll(file_.get()), "012345zz89abcdef");
}

TEST_P(FileRw, ZeroLengthReadReturnsZero) {
  RINGCHECK_RULE("G8");
  char buf[1];
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, file_.get(), buf, 0, 0); }),
                0, "G8: READ");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_readv(s, file_.get(), nullptr, 0, 0); }),
                0, "G8: READV with no iovecs");
}

TEST_P(FileRw, AppendFileIgnoresOffset) {
  RINGCHECK_RULE("G9");
  UniqueFd app(open(dir_.Path("data").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  ASSERT_TRUE(app.valid());
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_write(s, app.get(), "++", 2, 0); }),
                2, "G9");
  EXPECT_EQ(ReadAll(file_.get()), "0123456789abcdef++") << "G9: written at the end, not at 0";
}

TEST_P(FileRw, RwfAppendAppends) {
  RINGCHECK_RULE("G10");
  char w[] = "!!";
  iovec iov = {w, 2};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_writev2(s, file_.get(), &iov, 1, 0, RWF_APPEND);
                }),
                2, "G10");
  EXPECT_EQ(ReadAll(file_.get()), "0123456789abcdef!!");
}

TEST_P(FileRw, RwfDsyncWriteLands) {
  RINGCHECK_RULE("G11");
  char w[] = "ds";
  iovec iov = {w, 2};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_writev2(s, file_.get(), &iov, 1, 0, RWF_DSYNC);
                }),
                2, "G11");
  EXPECT_EQ(ReadAll(file_.get()).substr(0, 3), "ds2");
}

TEST_P(FileRw, RwfNowaitReadMatchesPreadv2) {
  RINGCHECK_RULE("G12");
  char a[4] = {};
  iovec iov = {a, 4};
  // The file system decides: without FMODE_NOWAIT (tmpfs, for one)
  // preadv2(2) itself refuses RWF_NOWAIT.
  long sys = SysResult(preadv2(file_.get(), &iov, 1, 0, RWF_NOWAIT));
  ASSERT_TRUE(sys == 4 || sys == -EOPNOTSUPP) << "preadv2(RWF_NOWAIT) gave " << ResultName(sys);
  memset(a, 0, sizeof(a));
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_readv2(s, file_.get(), &iov, 1, 0, RWF_NOWAIT);
                }),
                sys, "G12: cached data reads without -EAGAIN; the same answer as preadv2(2)");
  if (sys == 4) EXPECT_EQ(std::string(a, 4), "0123");
}

TEST_P(FileRw, AsyncFlagGivesSameResults) {
  RINGCHECK_RULE("G13");
  char inline_buf[16] = {}, async_buf[16] = {};
  int r1 = RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, file_.get(), inline_buf, 16, 5); });
  int r2 = RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, file_.get(), async_buf, 16, 5); },
                  IOSQE_ASYNC);
  EXPECT_RESULT(r1, 11, "G5");
  EXPECT_RESULT(r2, r1, "G13: IOSQE_ASYNC read");
  EXPECT_EQ(std::string(async_buf, 11), std::string(inline_buf, 11)) << "G13";
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_write(s, file_.get(), "as", 2, 16); },
                       IOSQE_ASYNC),
                2, "G13: IOSQE_ASYNC write");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, -1, async_buf, 4, 0); },
                       IOSQE_ASYNC),
                -EBADF, "G13: and the same error");
  EXPECT_EQ(ReadAll(file_.get()), "0123456789abcdefas");
}

INSTANTIATE_TEST_SUITE_P(Rings, FileRw, ::testing::ValuesIn(RwConfigs()), ConfigParamName);

}  // namespace
}  // namespace ringcheck
