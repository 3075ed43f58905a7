// READ/WRITE/READV/WRITEV refusals, one per test (io_uring_enter(2),
// read(2)/readv(2)/pwritev2(2) errors; kernel io_uring/rw.c io_prep_rw,
// io_import_iovec, io_rw_init_file, kiocb_set_rw_flags). Rules G14-G23, G148, G149.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <vector>

#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/files/files_util.h"

namespace ringcheck {
namespace {

class RwErrors : public FilesTest {
 protected:
  void SetUp() override {
    FilesTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(dir_.ok());
    ASSERT_TRUE(dir_.WriteFile("data", "0123456789"));
    rw_.reset(open(dir_.Path("data").c_str(), O_RDWR | O_CLOEXEC));
    ASSERT_TRUE(rw_.valid());
    noaccess_ = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(noaccess_, MAP_FAILED);
  }
  void TearDown() override {
    if (noaccess_ != nullptr && noaccess_ != MAP_FAILED) munmap(noaccess_, 4096);
  }
  TempDir dir_;
  UniqueFd rw_;
  void* noaccess_ = nullptr;
  char buf_[16] = {};
};

TEST_F(RwErrors, ReadFromClosedFdIsBadf) {
  RINGCHECK_RULE("G14");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, -1, buf_, 4, 0); }), -EBADF,
                "G14: fd -1");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, 100000, buf_, 4, 0); }),
                -EBADF, "G14: fd never opened");
}

TEST_F(RwErrors, WritevToClosedFdIsBadf) {
  RINGCHECK_RULE("G14");
  iovec iov = {buf_, 4};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_writev(s, -1, &iov, 1, 0); }),
                -EBADF, "G14");
}

TEST_F(RwErrors, ReadFromWriteOnlyFdIsBadf) {
  RINGCHECK_RULE("G15");
  UniqueFd wo(open(dir_.Path("data").c_str(), O_WRONLY | O_CLOEXEC));
  ASSERT_TRUE(wo.valid());
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, wo.get(), buf_, 4, 0); }),
                -EBADF, "G15");
}

TEST_F(RwErrors, WriteToReadOnlyFdIsBadf) {
  RINGCHECK_RULE("G15");
  UniqueFd ro(open(dir_.Path("data").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(ro.valid());
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_write(s, ro.get(), "x", 1, 0); }),
                -EBADF, "G15");
}

TEST_F(RwErrors, ReadFromDirectoryIsIsdir) {
  RINGCHECK_RULE("G16");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, dir_.fd(), buf_, 4, 0); }),
                -EISDIR, "G16");
}

TEST_F(RwErrors, ReadIntoUnmappedBufferFaults) {
  RINGCHECK_RULE("G17");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, rw_.get(), noaccess_, 4, 0); }),
                -EFAULT, "G17");
}

TEST_F(RwErrors, WriteFromUnmappedBufferFaults) {
  RINGCHECK_RULE("G17");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_write(s, rw_.get(), noaccess_, 4, 0); }),
                -EFAULT, "G17");
  EXPECT_EQ(ReadAll(rw_.get()), "0123456789") << "G17: nothing written";
}

TEST_F(RwErrors, UnreadableIovecArrayFaults) {
  RINGCHECK_RULE("G18");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_readv(s, rw_.get(), static_cast<iovec*>(noaccess_), 1, 0);
                }),
                -EFAULT, "G18");
}

TEST_F(RwErrors, IovecWithUnmappedBaseFaults) {
  RINGCHECK_RULE("G19");
  iovec iov = {noaccess_, 4};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_readv(s, rw_.get(), &iov, 1, 0); }),
                -EFAULT, "G19");
}

TEST_F(RwErrors, MoreThanUioMaxiovIsInvalid) {
  RINGCHECK_RULE("G20");
  std::vector<char> one(1);
  std::vector<iovec> iov(UIO_MAXIOV + 1, iovec{one.data(), 0});
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_readv(s, rw_.get(), iov.data(), UIO_MAXIOV + 1, 0);
                }),
                -EINVAL, "G20: UIO_MAXIOV + 1");
}

TEST_F(RwErrors, ExactlyUioMaxiovIsAccepted) {
  RINGCHECK_RULE("G20");
  std::vector<char> bytes(UIO_MAXIOV);
  std::vector<iovec> iov(UIO_MAXIOV);
  for (size_t i = 0; i < iov.size(); ++i) iov[i] = {&bytes[i], 1};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_readv(s, rw_.get(), iov.data(), UIO_MAXIOV, 0);
                }),
                10, "G20: 1024 one-byte iovecs over a 10-byte file");
  EXPECT_EQ(std::string(bytes.data(), 10), "0123456789");
}

TEST_F(RwErrors, UnknownRwFlagIsNotSupported) {
  RINGCHECK_RULE("G21");
  iovec iov = {buf_, 4};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_readv2(s, rw_.get(), &iov, 1, 0, 1 << 30);
                }),
                -EOPNOTSUPP, "G21: rw_flags bit 30");
}

TEST_F(RwErrors, HipriWithoutIopollIsRefused) {
  RINGCHECK_RULE("G22");
  iovec iov = {buf_, 4};
  int res = RunOne(ring(), [&](io_uring_sqe* s) {
    io_uring_prep_readv2(s, rw_.get(), &iov, 1, 0, RWF_HIPRI);
  });
  // G22: io_rw_init_file refuses IOCB_HIPRI on a ring without IOPOLL.
  EXPECT_RESULT(res, -EINVAL, "G22");
}

TEST_F(RwErrors, NegativeOffsetOtherThanMinusOneIsInvalid) {
  RINGCHECK_RULE("G23");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_read(s, rw_.get(), buf_, 4, static_cast<uint64_t>(-2));
                }),
                -EINVAL, "G23: offset -2");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_write(s, rw_.get(), "x", 1, static_cast<uint64_t>(-4096));
                }),
                -EINVAL, "G23: write at offset -4096");
}

TEST_F(RwErrors, IovecLengthOverflowIsInvalid) {
  RINGCHECK_RULE("G148");
  iovec iov[2] = {{buf_, 4}, {buf_, static_cast<size_t>(-1)}};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_readv(s, rw_.get(), iov, 2, 0); }),
                -EINVAL, "G148: an iovec length above SSIZE_MAX");
}

TEST_F(RwErrors, InvalidIoprioClassIsInvalid) {
  RINGCHECK_RULE("G149");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_read(s, rw_.get(), buf_, 4, 0);
                  s->ioprio = static_cast<uint16_t>(7 << 13);  // IOPRIO_PRIO_VALUE(class 7, 0)
                }),
                -EINVAL, "G149: ioprio class 7");
}

}  // namespace
}  // namespace ringcheck
