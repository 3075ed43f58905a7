// READ/WRITE on files that are not regular: pipes, eventfd, /dev/zero,
// /dev/null (io_uring_enter(2); kernel io_uring/rw.c io_kiocb_update_pos for
// stream files, fs/pipe.c, fs/eventfd.c, drivers/char/mem.c). Rules G24-G33,
// over the ring modes where waiting (poll arming) may differ.
#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/files/files_util.h"

namespace ringcheck {
namespace {

class SpecialFiles : public RingTest {
 protected:
  void SetUp() override {
    if (GetParam().flags & IORING_SETUP_SQPOLL) REQUIRE_FEATURE("feat_sqpoll_nonfixed");
    RingTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    rd_.reset(fds[0]);
    wr_.reset(fds[1]);
  }
  UniqueFd rd_, wr_;
  char buf_[64] = {};
};

TEST_P(SpecialFiles, PipeReadReturnsWhatIsThere) {
  RINGCHECK_RULE("G24");
  ASSERT_EQ(write(wr_.get(), "hello", 5), 5);
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, rd_.get(), buf_, 64, 0); }),
                5, "G24: short read of what the pipe holds");
  EXPECT_EQ(std::string(buf_, 5), "hello");
}

TEST_P(SpecialFiles, PipeAcceptsOffsetZeroAndMinusOne) {
  RINGCHECK_RULE("G25");
  ASSERT_EQ(write(wr_.get(), "abcd", 4), 4);
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, rd_.get(), buf_, 2, 0); }),
                2, "G25: offset 0");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_read(s, rd_.get(), buf_ + 2, 2, static_cast<uint64_t>(-1));
                }),
                2, "G25: offset -1");
  EXPECT_EQ(std::string(buf_, 4), "abcd") << "G25: stream order, offsets ignored";
}

TEST_P(SpecialFiles, PipeReadWaitsForData) {
  RINGCHECK_RULE("G26");
  io_uring_sqe* s = ring().NextSqe();
  io_uring_prep_read(s, rd_.get(), buf_, 64, 0);
  s->user_data = 7;
  ASSERT_EQ(ring().Submit(), 1);
  EXPECT_TRUE(ring().Reap(1, std::chrono::milliseconds(50)).empty())
      << "G26: a read of an empty pipe must wait";
  ASSERT_EQ(write(wr_.get(), "late", 4), 4);
  std::vector<Cqe> got = ring().Reap(1);
  ASSERT_EQ(got.size(), 1u) << "G26: the read completes once data arrives";
  EXPECT_RESULT(got[0].res, 4, "G26");
  EXPECT_EQ(std::string(buf_, 4), "late");
}

TEST_P(SpecialFiles, PipeReadAfterWriterClosedIsZero) {
  RINGCHECK_RULE("G27");
  wr_.reset();
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, rd_.get(), buf_, 64, 0); }),
                0, "G27");
}

TEST_P(SpecialFiles, NowaitReadOfEmptyPipeDoesNotWait) {
  RINGCHECK_RULE("G28");
  iovec iov = {buf_, 8};
  // Pipes carry FMODE_NOWAIT only on newer kernels; before that preadv2(2)
  // itself refuses RWF_NOWAIT on them with -EOPNOTSUPP.
  long sys = SysResult(preadv2(rd_.get(), &iov, 1, -1, RWF_NOWAIT));
  ASSERT_TRUE(sys == -EAGAIN || sys == -EOPNOTSUPP) << "preadv2(RWF_NOWAIT) gave " << ResultName(sys);
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_readv2(s, rd_.get(), &iov, 1, 0, RWF_NOWAIT);
                }),
                sys, "G28: the same answer as preadv2(2), never a wait");
}

TEST_P(SpecialFiles, PipeWriteWithoutReaderIsEpipe) {
  RINGCHECK_RULE("G29");
  struct sigaction ign = {}, old = {};
  ign.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGPIPE, &ign, &old), 0);
  rd_.reset();
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_write(s, wr_.get(), "x", 1, 0); }),
                -EPIPE, "G29");
  sigaction(SIGPIPE, &old, nullptr);
}

TEST_P(SpecialFiles, EventfdReadReturnsCounter) {
  RINGCHECK_RULE("G30");
  UniqueFd efd(eventfd(0, EFD_CLOEXEC));
  ASSERT_TRUE(efd.valid());
  uint64_t add = 5;
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_write(s, efd.get(), &add, 8, 0); }),
                8, "G30: write adds");
  ASSERT_EQ(eventfd_write(efd.get(), 2), 0);
  uint64_t value = 0;
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, efd.get(), &value, 8, 0); }),
                8, "G30: read");
  EXPECT_EQ(value, 7u) << "G30: the counter, reset by the read";
}

TEST_P(SpecialFiles, EventfdShortBufferIsInvalid) {
  RINGCHECK_RULE("G31");
  UniqueFd efd(eventfd(1, EFD_CLOEXEC));
  ASSERT_TRUE(efd.valid());
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, efd.get(), buf_, 4, 0); }),
                -EINVAL, "G31: read of 4 bytes");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_write(s, efd.get(), buf_, 4, 0); }),
                -EINVAL, "G31: write of 4 bytes");
}

TEST_P(SpecialFiles, DevZeroFillsWithZeros) {
  RINGCHECK_RULE("G32");
  UniqueFd zero(open("/dev/zero", O_RDONLY | O_CLOEXEC));
  if (!zero.valid()) GTEST_SKIP() << "environment:/dev/zero (cannot open it here)";
  memset(buf_, 0x5a, sizeof(buf_));
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, zero.get(), buf_, 64, 123); }),
                64, "G32");
  for (char c : buf_) ASSERT_EQ(c, 0) << "G32";
}

TEST_P(SpecialFiles, DevNullSwallowsWritesAndReadsEmpty) {
  RINGCHECK_RULE("G33");
  UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null.valid()) GTEST_SKIP() << "environment:/dev/null (cannot open it here)";
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_write(s, null.get(), buf_, 64, 0); }),
                64, "G33: write");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, null.get(), buf_, 64, 0); }),
                0, "G33: read");
}

INSTANTIATE_TEST_SUITE_P(Rings, SpecialFiles, ::testing::ValuesIn(RwConfigs()), ConfigParamName);

}  // namespace
}  // namespace ringcheck
