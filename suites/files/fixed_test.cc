// READ_FIXED, WRITE_FIXED, READV_FIXED, WRITEV_FIXED against registered
// buffers (io_uring_prep_read_fixed(3), io_uring_register_buffers(3); kernel
// io_uring/rw.c io_prep_rw_fixed / io_init_rw_fixed, rsrc.c io_import_fixed,
// io_import_reg_vec). Rules G34-G41.
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/uapi.h"
#include "suites/files/files_util.h"

namespace ringcheck {
namespace {

class FixedRw : public RingTest {
 protected:
  void SetUp() override {
    if (GetParam().flags & IORING_SETUP_SQPOLL) REQUIRE_FEATURE("feat_sqpoll_nonfixed");
    RingTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    file_ = ScratchFile(8192);
    ASSERT_TRUE(file_.valid());
    mem_.assign(2 * 4096, 0);
    iovec iov[2] = {{mem_.data(), 4096}, {mem_.data() + 4096, 4096}};
    ASSERT_EQ(io_uring_register_buffers(ring().get(), iov, 2), 0);
  }
  unsigned char* Buf(unsigned i) { return mem_.data() + i * 4096; }
  UniqueFd file_;
  std::vector<unsigned char> mem_;
};

TEST_P(FixedRw, ReadFixedInsideBufferLands) {
  RINGCHECK_RULE("G34");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_read_fixed(s, file_.get(), Buf(1) + 100, 200, 1000, 1);
                }),
                200, "G34: 200 bytes at offset 100 of buffer 1");
  for (size_t i = 0; i < 200; ++i) ASSERT_EQ(Buf(1)[100 + i], PatternByte(1000 + i)) << "G34 byte " << i;
  EXPECT_EQ(Buf(1)[99], 0) << "G34: nothing before the range";
  EXPECT_EQ(Buf(1)[300], 0) << "G34: nothing after the range";
}

TEST_P(FixedRw, WriteFixedWritesFromBuffer) {
  RINGCHECK_RULE("G35");
  memcpy(Buf(0), "fixed!", 6);
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_write_fixed(s, file_.get(), Buf(0), 6, 10, 0);
                }),
                6, "G35");
  char back[6];
  ASSERT_EQ(pread(file_.get(), back, 6, 10), 6);
  EXPECT_EQ(std::string(back, 6), "fixed!");
}

TEST_P(FixedRw, WholeBufferIsInside) {
  RINGCHECK_RULE("G34");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_read_fixed(s, file_.get(), Buf(0), 4096, 0, 0);
                }),
                4096, "G34: the whole buffer, first byte to last");
}

TEST_P(FixedRw, BufIndexOutOfRangeFaults) {
  RINGCHECK_RULE("G36");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_read_fixed(s, file_.get(), Buf(0), 16, 0, 2);
                }),
                -EFAULT, "G36: index 2 of a 2-entry table");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_write_fixed(s, file_.get(), Buf(0), 16, 0, 65535);
                }),
                -EFAULT, "G36: index 65535");
}

TEST_P(FixedRw, RangePastBufferEndFaults) {
  RINGCHECK_RULE("G37");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_read_fixed(s, file_.get(), Buf(0) + 4000, 200, 0, 0);
                }),
                -EFAULT, "G37: 96 bytes beyond buffer 0 (even though buffer 1 follows)");
}

TEST_P(FixedRw, RangeBeforeBufferStartFaults) {
  RINGCHECK_RULE("G37");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_read_fixed(s, file_.get(), Buf(1) - 1, 16, 0, 1);
                }),
                -EFAULT, "G37: one byte before buffer 1");
}

TEST_P(FixedRw, VectoredFixedInsideBuffer) {
  REQUIRE_FEATURE("op_readv_fixed");
  RINGCHECK_RULE("G38");
  iovec iov[2] = {{Buf(0) + 10, 4}, {Buf(0) + 2000, 4}};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  PrepRaw(s, kOpReadvFixed, file_.get(), iov, 2, 64);
                  s->buf_index = 0;
                }),
                8, "G38: READV_FIXED");
  EXPECT_EQ(Buf(0)[10], PatternByte(64));
  EXPECT_EQ(Buf(0)[2003], PatternByte(71));
  memcpy(Buf(1) + 7, "vw", 2);
  iovec wv[1] = {{Buf(1) + 7, 2}};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  PrepRaw(s, kOpWritevFixed, file_.get(), wv, 1, 0);
                  s->buf_index = 1;
                }),
                2, "G38: WRITEV_FIXED");
  char back[2];
  ASSERT_EQ(pread(file_.get(), back, 2, 0), 2);
  EXPECT_EQ(std::string(back, 2), "vw");
}

TEST_P(FixedRw, VectoredFixedOutsideBufferFaults) {
  REQUIRE_FEATURE("op_readv_fixed");
  RINGCHECK_RULE("G39");
  iovec iov[2] = {{Buf(0), 4}, {Buf(1), 4}};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  PrepRaw(s, kOpReadvFixed, file_.get(), iov, 2, 0);
                  s->buf_index = 0;
                }),
                -EFAULT, "G39: second iovec lies in buffer 1, not 0");
}

INSTANTIATE_TEST_SUITE_P(Rings, FixedRw, ::testing::ValuesIn(RwConfigs()), ConfigParamName);

class FixedBuffers : public FilesTest {};

TEST_F(FixedBuffers, NoTableFaults) {
  RINGCHECK_RULE("G36");
  UniqueFd file = ScratchFile(64);
  ASSERT_TRUE(file.valid());
  char buf[16];
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read_fixed(s, file.get(), buf, 16, 0, 0); }),
                -EFAULT, "G36: no buffers registered");
}

// G40: a request that imported a registered buffer keeps it when the slot is
// replaced while the request waits.
TEST_F(FixedBuffers, UpdateWhileInFlightKeepsOldBuffer) {
  REQUIRE_FEATURE("register_buffers_update");
  RINGCHECK_RULE("G40");
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd rd(fds[0]), wr(fds[1]);
  std::vector<unsigned char> old_buf(4096, 0), new_buf(4096, 0);
  iovec iov = {old_buf.data(), old_buf.size()};
  __u64 tag = 0;
  ASSERT_EQ(io_uring_register_buffers_tags(ring().get(), &iov, &tag, 1), 0);
  io_uring_sqe* s = ring().NextSqe();
  io_uring_prep_read_fixed(s, rd.get(), old_buf.data(), 16, 0, 0);
  s->user_data = 1;
  ASSERT_EQ(ring().Submit(), 1);
  ASSERT_TRUE(ring().Reap(1, std::chrono::milliseconds(50)).empty()) << "the read must wait";
  iovec repl = {new_buf.data(), new_buf.size()};
  ASSERT_EQ(io_uring_register_buffers_update_tag(ring().get(), 0, &repl, &tag, 1), 1);
  ASSERT_EQ(write(wr.get(), "in-flight", 9), 9);
  std::vector<Cqe> got = ring().Reap(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_RESULT(got[0].res, 9, "G40");
  EXPECT_EQ(std::string(reinterpret_cast<char*>(old_buf.data()), 9), "in-flight")
      << "G40: the data lands in the buffer the request imported";
  EXPECT_EQ(new_buf[0], 0) << "G40: not in the replacement";
}

// G41: the same read after the update addresses the new buffer.
TEST_F(FixedBuffers, UpdateRetargetsLaterRequests) {
  REQUIRE_FEATURE("register_buffers_update");
  RINGCHECK_RULE("G41");
  UniqueFd file = ScratchFile(64);
  ASSERT_TRUE(file.valid());
  std::vector<unsigned char> a(64, 0), b(64, 0);
  iovec iov = {a.data(), a.size()};
  __u64 tag = 0;
  ASSERT_EQ(io_uring_register_buffers_tags(ring().get(), &iov, &tag, 1), 0);
  iovec repl = {b.data(), b.size()};
  ASSERT_EQ(io_uring_register_buffers_update_tag(ring().get(), 0, &repl, &tag, 1), 1);
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read_fixed(s, file.get(), a.data(), 8, 0, 0); }),
                -EFAULT, "G41: the old address is no longer inside slot 0");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read_fixed(s, file.get(), b.data(), 8, 0, 0); }),
                8, "G41: the new one is");
  EXPECT_EQ(b[0], PatternByte(0));
}

}  // namespace
}  // namespace ringcheck
