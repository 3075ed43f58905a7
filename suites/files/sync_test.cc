// FSYNC, SYNC_FILE_RANGE, FALLOCATE, FADVISE, MADVISE, FTRUNCATE
// (io_uring_prep_fsync(3) ... io_uring_prep_ftruncate(3); kernel
// io_uring/sync.c, advise.c, truncate.c and the VFS calls behind them:
// vfs_fsync_range, sync_file_range, vfs_fallocate, vfs_fadvise, do_madvise,
// do_ftruncate). Rules G56-G74. The scratch directory is on the file system
// the test runs on (ext4 under Bazel here, tmpfs in the guests); every rule
// used here holds on both.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/files/files_util.h"

#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 0x02
#endif

namespace ringcheck {
namespace {

class Sync : public FilesTest {
 protected:
  void SetUp() override {
    FilesTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    file_ = ScratchFile(8192);
    ASSERT_TRUE(file_.valid());
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    prd_.reset(fds[0]);
    pwr_.reset(fds[1]);
  }
  off_t Size() {
    struct stat st;
    return fstat(file_.get(), &st) == 0 ? st.st_size : -1;
  }
  int Fallocate(int fd, int mode, uint64_t off, uint64_t len) {
    return RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_fallocate(s, fd, mode, off, len); });
  }
  UniqueFd file_, prd_, pwr_;
};

TEST_F(Sync, FsyncSucceeds) {
  RINGCHECK_RULE("G56");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_fsync(s, file_.get(), 0); }), 0, "G56");
}

TEST_F(Sync, FdatasyncSucceeds) {
  RINGCHECK_RULE("G56");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_fsync(s, file_.get(), IORING_FSYNC_DATASYNC);
                }),
                0, "G56: IORING_FSYNC_DATASYNC");
}

TEST_F(Sync, FsyncUnknownFlagIsInvalid) {
  RINGCHECK_RULE("G57");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_fsync(s, file_.get(), 1u << 4); }),
                -EINVAL, "G57");
}

TEST_F(Sync, FsyncBadFdIsBadf) {
  RINGCHECK_RULE("G58");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_fsync(s, -1, 0); }), -EBADF, "G58");
}

TEST_F(Sync, SyncFileRangeSucceeds) {
  RINGCHECK_RULE("G59");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_sync_file_range(s, file_.get(), 4096, 0,
                                                SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                                                    SYNC_FILE_RANGE_WAIT_AFTER);
                }),
                0, "G59");
}

TEST_F(Sync, SyncFileRangeUnknownFlagIsInvalid) {
  RINGCHECK_RULE("G60");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_sync_file_range(s, file_.get(), 4096, 0, 1u << 3);
                }),
                -EINVAL, "G60");
}

TEST_F(Sync, SyncFileRangeNegativeOffsetIsInvalid) {
  RINGCHECK_RULE("G60");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_sync_file_range(s, file_.get(), 4096, static_cast<uint64_t>(-4096),
                                                SYNC_FILE_RANGE_WRITE);
                }),
                -EINVAL, "G60");
}

TEST_F(Sync, SyncFileRangeOnPipeIsEspipe) {
  RINGCHECK_RULE("G61");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_sync_file_range(s, pwr_.get(), 4096, 0, SYNC_FILE_RANGE_WRITE);
                }),
                -ESPIPE, "G61");
}

TEST_F(Sync, FallocateGrowsFile) {
  RINGCHECK_RULE("G62");
  EXPECT_RESULT(Fallocate(file_.get(), 0, 8192, 8192), 0, "G62");
  EXPECT_EQ(Size(), 16384) << "G62: mode 0 moves the size";
  char z[4] = {1, 1, 1, 1};
  ASSERT_EQ(pread(file_.get(), z, 4, 12000), 4);
  EXPECT_EQ(memcmp(z, "\0\0\0\0", 4), 0) << "G62: the new range reads as zeros";
}

TEST_F(Sync, FallocateKeepSizeKeepsSize) {
  RINGCHECK_RULE("G62");
  EXPECT_RESULT(Fallocate(file_.get(), FALLOC_FL_KEEP_SIZE, 8192, 8192), 0, "G62");
  EXPECT_EQ(Size(), 8192) << "G62: FALLOC_FL_KEEP_SIZE";
}

TEST_F(Sync, FallocatePunchHoleZeroes) {
  RINGCHECK_RULE("G63");
  int res = Fallocate(file_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096);
  if (res == -EOPNOTSUPP) GTEST_SKIP() << "environment:punch_hole (the scratch file system has no hole punching)";
  EXPECT_RESULT(res, 0, "G63");
  EXPECT_EQ(Size(), 8192) << "G63";
  unsigned char b[2];
  ASSERT_EQ(pread(file_.get(), b, 2, 4095), 2);
  EXPECT_EQ(b[0], 0) << "G63: inside the hole";
  EXPECT_EQ(b[1], PatternByte(4096)) << "G63: after it";
}

TEST_F(Sync, FallocatePunchHoleNeedsKeepSize) {
  RINGCHECK_RULE("G64");
  EXPECT_RESULT(Fallocate(file_.get(), FALLOC_FL_PUNCH_HOLE, 0, 4096), -EOPNOTSUPP, "G64");
}

TEST_F(Sync, FallocateZeroLengthIsInvalid) {
  RINGCHECK_RULE("G65");
  EXPECT_RESULT(Fallocate(file_.get(), 0, 0, 0), -EINVAL, "G65");
}

TEST_F(Sync, FallocateReadOnlyFdIsBadf) {
  RINGCHECK_RULE("G66");
  TempDir dir;
  ASSERT_TRUE(dir.WriteFile("ro", "x"));
  UniqueFd ro(open(dir.Path("ro").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(ro.valid());
  EXPECT_RESULT(Fallocate(ro.get(), 0, 0, 4096), -EBADF, "G66");
}

TEST_F(Sync, FallocateOnPipeIsEspipe) {
  RINGCHECK_RULE("G66");
  EXPECT_RESULT(Fallocate(pwr_.get(), 0, 0, 4096), -ESPIPE, "G66");
}

TEST_F(Sync, FadviseSucceeds) {
  RINGCHECK_RULE("G67");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_fadvise(s, file_.get(), 0, 4096, POSIX_FADV_WILLNEED);
                }),
                0, "G67: WILLNEED");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_fadvise(s, file_.get(), 0, 0, POSIX_FADV_DONTNEED);
                }),
                0, "G67: DONTNEED");
  unsigned char b;
  ASSERT_EQ(pread(file_.get(), &b, 1, 100), 1);
  EXPECT_EQ(b, PatternByte(100)) << "G67: advice never changes the data";
}

TEST_F(Sync, FadviseUnknownAdviceIsInvalid) {
  RINGCHECK_RULE("G68");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_fadvise(s, file_.get(), 0, 4096, 99); }),
                -EINVAL, "G68");
}

TEST_F(Sync, FadviseOnPipeIsEspipe) {
  RINGCHECK_RULE("G68");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_fadvise(s, prd_.get(), 0, 4096, POSIX_FADV_NORMAL);
                }),
                -ESPIPE, "G68");
}

TEST_F(Sync, MadviseDontneedZeroesAnonymousMemory) {
  RINGCHECK_RULE("G69");
  void* p = mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  memset(p, 0x77, 8192);
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_madvise(s, p, 4096, MADV_DONTNEED); }), 0,
                "G69");
  EXPECT_EQ(static_cast<unsigned char*>(p)[0], 0) << "G69: the advised page is dropped";
  EXPECT_EQ(static_cast<unsigned char*>(p)[4096], 0x77) << "G69: the next page is not";
  munmap(p, 8192);
}

TEST_F(Sync, MadviseUnknownAdviceIsInvalid) {
  RINGCHECK_RULE("G70");
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_madvise(s, p, 4096, 999); }), -EINVAL,
                "G70");
  munmap(p, 4096);
}

TEST_F(Sync, MadviseUnalignedAddressIsInvalid) {
  RINGCHECK_RULE("G70");
  void* p = mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_madvise(s, static_cast<char*>(p) + 1, 4096, MADV_NORMAL);
                }),
                -EINVAL, "G70");
  munmap(p, 8192);
}

TEST_F(Sync, FtruncateShrinksAndGrows) {
  REQUIRE_FEATURE("op_ftruncate");
  RINGCHECK_RULE("G71");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_ftruncate(s, file_.get(), 100); }), 0,
                "G71: shrink");
  EXPECT_EQ(Size(), 100);
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_ftruncate(s, file_.get(), 5000); }), 0,
                "G71: grow");
  EXPECT_EQ(Size(), 5000);
  unsigned char b[2];
  ASSERT_EQ(pread(file_.get(), b, 2, 99), 2);
  EXPECT_EQ(b[0], PatternByte(99));
  EXPECT_EQ(b[1], 0) << "G71: the regrown part reads as zeros";
}

TEST_F(Sync, FtruncateNegativeLengthIsInvalid) {
  REQUIRE_FEATURE("op_ftruncate");
  RINGCHECK_RULE("G72");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_ftruncate(s, file_.get(), static_cast<loff_t>(-1));
                }),
                -EINVAL, "G72");
}

TEST_F(Sync, FtruncateReadOnlyFdIsInvalid) {
  REQUIRE_FEATURE("op_ftruncate");
  RINGCHECK_RULE("G73");
  TempDir dir;
  ASSERT_TRUE(dir.WriteFile("ro", "xyz"));
  UniqueFd ro(open(dir.Path("ro").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(ro.valid());
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_ftruncate(s, ro.get(), 0); }), -EINVAL,
                "G73: not open for writing");
}

TEST_F(Sync, FtruncatePipeIsInvalid) {
  REQUIRE_FEATURE("op_ftruncate");
  RINGCHECK_RULE("G73");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_ftruncate(s, pwr_.get(), 0); }), -EINVAL,
                "G73: not a regular file");
}

TEST_F(Sync, FtruncateStrayFieldIsInvalid) {
  REQUIRE_FEATURE("op_ftruncate");
  RINGCHECK_RULE("G74");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_ftruncate(s, file_.get(), 0);
                  s->len = 1;
                }),
                -EINVAL, "G74: sqe->len set");
  EXPECT_EQ(Size(), 8192) << "G74: nothing truncated";
}

}  // namespace
}  // namespace ringcheck
