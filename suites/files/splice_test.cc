// SPLICE, TEE and PIPE (io_uring_prep_splice(3), io_uring_prep_tee(3),
// splice(2), tee(2), io_uring_prep_pipe(3); kernel io_uring/splice.c
// __io_splice_prep / io_tee_prep / io_splice, fs/splice.c do_splice /
// do_tee, io_uring/openclose.c io_pipe_prep / io_pipe). Rules G123-G136.
#include <fcntl.h>
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

constexpr uint64_t kNoOffset = static_cast<uint64_t>(-1);

class Splice : public FilesTest {
 protected:
  void SetUp() override {
    REQUIRE_FEATURE("op_splice");
    FilesTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    file_ = ScratchFile(256 * 1024);
    ASSERT_TRUE(file_.valid());
    ASSERT_EQ(lseek(file_.get(), 0, SEEK_SET), 0);
    MakePipe(&rd_, &wr_);
  }
  void MakePipe(UniqueFd* r, UniqueFd* w) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    r->reset(fds[0]);
    w->reset(fds[1]);
  }
  int Splice1(int in, uint64_t off_in, int out, uint64_t off_out, unsigned len, unsigned flags = 0) {
    return RunOne(ring(), [&](io_uring_sqe* s) {
      io_uring_prep_splice(s, in, static_cast<int64_t>(off_in), out, static_cast<int64_t>(off_out), len, flags);
    });
  }
  int Tee(int in, int out, unsigned len, unsigned flags = 0) {
    return RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_tee(s, in, out, len, flags); });
  }
  UniqueFd file_, rd_, wr_;
};

TEST_F(Splice, FileToPipeAtOffsetLeavesPosition) {
  RINGCHECK_RULE("G123");
  EXPECT_RESULT(Splice1(file_.get(), 1000, wr_.get(), kNoOffset, 100), 100, "G123");
  unsigned char b[100];
  ASSERT_EQ(read(rd_.get(), b, 100), 100);
  for (size_t i = 0; i < 100; ++i) ASSERT_EQ(b[i], PatternByte(1000 + i)) << "G123 byte " << i;
  EXPECT_EQ(lseek(file_.get(), 0, SEEK_CUR), 0) << "G123: position unchanged";
}

TEST_F(Splice, FileToPipeWithoutOffsetAdvancesPosition) {
  RINGCHECK_RULE("G124");
  ASSERT_EQ(lseek(file_.get(), 50, SEEK_SET), 50);
  EXPECT_RESULT(Splice1(file_.get(), kNoOffset, wr_.get(), kNoOffset, 10), 10, "G124");
  EXPECT_EQ(lseek(file_.get(), 0, SEEK_CUR), 60) << "G124: position advanced";
  unsigned char b;
  ASSERT_EQ(read(rd_.get(), &b, 1), 1);
  EXPECT_EQ(b, PatternByte(50));
}

TEST_F(Splice, PipeToFileAtOffset) {
  RINGCHECK_RULE("G123");
  ASSERT_EQ(write(wr_.get(), "spliced", 7), 7);
  EXPECT_RESULT(Splice1(rd_.get(), kNoOffset, file_.get(), 3, 7), 7, "G123");
  char b[7];
  ASSERT_EQ(pread(file_.get(), b, 7, 3), 7);
  EXPECT_EQ(std::string(b, 7), "spliced");
}

TEST_F(Splice, PipeHoldingLessReturnsWhatIsThere) {
  RINGCHECK_RULE("G125");
  ASSERT_EQ(write(wr_.get(), "five!", 5), 5);
  EXPECT_RESULT(Splice1(rd_.get(), kNoOffset, file_.get(), 0, 4096), 5, "G125");
}

TEST_F(Splice, ZeroLengthIsZero) {
  RINGCHECK_RULE("G125");
  EXPECT_RESULT(Splice1(file_.get(), 0, wr_.get(), kNoOffset, 0), 0, "G125");
}

TEST_F(Splice, ByteAccountingEndToEnd) {
  RINGCHECK_RULE("G126");
  TempDir dir;
  UniqueFd out(open(dir.Path("copy").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_TRUE(out.valid());
  const unsigned kTotal = 256 * 1024, kChunk = 16 * 1024;
  uint64_t moved_in = 0, moved_out = 0;
  for (uint64_t off = 0; off < kTotal; off += kChunk) {
    int in = Splice1(file_.get(), off, wr_.get(), kNoOffset, kChunk);
    ASSERT_GT(in, 0) << "G126: " << ResultName(in);
    moved_in += static_cast<unsigned>(in);
    uint64_t left = static_cast<unsigned>(in);
    while (left > 0) {
      int o = Splice1(rd_.get(), kNoOffset, out.get(), moved_out, static_cast<unsigned>(left));
      ASSERT_GT(o, 0) << "G126: " << ResultName(o);
      left -= static_cast<unsigned>(o);
      moved_out += static_cast<unsigned>(o);
    }
    if (static_cast<unsigned>(in) != kChunk) off -= kChunk - static_cast<unsigned>(in);
  }
  EXPECT_EQ(moved_in, kTotal) << "G126";
  EXPECT_EQ(moved_out, kTotal) << "G126";
  EXPECT_TRUE(ReadAll(out.get()) == ReadAll(file_.get())) << "G126: the copy is byte for byte the source";
}

TEST_F(Splice, OffsetOnPipeSideIsEspipe) {
  RINGCHECK_RULE("G127");
  ASSERT_EQ(write(wr_.get(), "x", 1), 1);
  EXPECT_RESULT(Splice1(rd_.get(), 0, file_.get(), 0, 1), -ESPIPE, "G127: off_in on the pipe");
  EXPECT_RESULT(Splice1(file_.get(), 0, wr_.get(), 0, 1), -ESPIPE, "G127: off_out on the pipe");
}

TEST_F(Splice, NoPipeIsInvalid) {
  RINGCHECK_RULE("G128");
  UniqueFd other = ScratchFile(16);
  ASSERT_TRUE(other.valid());
  EXPECT_RESULT(Splice1(file_.get(), 0, other.get(), 0, 8), -EINVAL, "G128: file to file");
}

TEST_F(Splice, UnknownFlagIsInvalid) {
  RINGCHECK_RULE("G129");
  EXPECT_RESULT(Splice1(file_.get(), 0, wr_.get(), kNoOffset, 8, 1u << 20), -EINVAL, "G129");
}

TEST_F(Splice, WriteOnlyInputIsBadf) {
  RINGCHECK_RULE("G129");
  EXPECT_RESULT(Splice1(wr_.get(), kNoOffset, file_.get(), 0, 8), -EBADF, "G129: fd_in is the write end");
}

TEST_F(Splice, FixedInputSlot) {
  RINGCHECK_RULE("G130");
  int fds[2] = {-1, file_.get()};
  ASSERT_EQ(io_uring_register_files(ring().get(), fds, 2), 0);
  EXPECT_RESULT(Splice1(1, 0, wr_.get(), kNoOffset, 16, SPLICE_F_FD_IN_FIXED), 16,
                "G130: fd_in is slot 1");
  EXPECT_RESULT(Splice1(0, 0, wr_.get(), kNoOffset, 16, SPLICE_F_FD_IN_FIXED), -EBADF,
                "G130: slot 0 is empty");
}

TEST_F(Splice, TeeDuplicates) {
  REQUIRE_FEATURE("op_tee");
  RINGCHECK_RULE("G131");
  UniqueFd r2, w2;
  MakePipe(&r2, &w2);
  ASSERT_EQ(write(wr_.get(), "teedata", 7), 7);
  EXPECT_RESULT(Tee(rd_.get(), w2.get(), 100), 7, "G131");
  char a[16], b[16];
  EXPECT_EQ(read(rd_.get(), a, 16), 7) << "G131: the source keeps its data";
  EXPECT_EQ(read(r2.get(), b, 16), 7) << "G131: the target has a copy";
  EXPECT_EQ(std::string(a, 7), std::string(b, 7));
}

TEST_F(Splice, TeeWithFileIsInvalid) {
  REQUIRE_FEATURE("op_tee");
  RINGCHECK_RULE("G132");
  EXPECT_RESULT(Tee(file_.get(), wr_.get(), 8), -EINVAL, "G132");
}

TEST_F(Splice, TeeToSamePipeIsInvalid) {
  REQUIRE_FEATURE("op_tee");
  RINGCHECK_RULE("G132");
  ASSERT_EQ(write(wr_.get(), "x", 1), 1);
  EXPECT_RESULT(Tee(rd_.get(), wr_.get(), 8), -EINVAL, "G132");
}

TEST_F(Splice, TeeWithOffsetIsInvalid) {
  REQUIRE_FEATURE("op_tee");
  RINGCHECK_RULE("G133");
  UniqueFd r2, w2;
  MakePipe(&r2, &w2);
  ASSERT_EQ(write(wr_.get(), "x", 1), 1);
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_tee(s, rd_.get(), w2.get(), 8, 0);
                  s->off = 1;
                }),
                -EINVAL, "G133");
}

class PipeOp : public FilesTest {
 protected:
  void SetUp() override {
    REQUIRE_FEATURE("op_pipe");
    FilesTest::SetUp();
  }
  int Pipe(int* fds, unsigned flags, uint32_t file_index = 0) {
    return RunOne(ring(), [&](io_uring_sqe* s) {
      PrepRaw(s, kOpPipe, 0, fds, 0, 0);
      s->rw_flags = static_cast<__kernel_rwf_t>(flags);
      s->file_index = file_index;
    });
  }
};

TEST_F(PipeOp, ReturnsConnectedFds) {
  RINGCHECK_RULE("G134");
  int fds[2] = {-1, -1};
  EXPECT_RESULT(Pipe(fds, 0), 0, "G134");
  UniqueFd r(fds[0]), w(fds[1]);
  ASSERT_TRUE(r.valid() && w.valid());
  EXPECT_EQ(write(w.get(), "pp", 2), 2);
  char b[2];
  EXPECT_EQ(read(r.get(), b, 2), 2) << "G134: fds[0] reads what fds[1] writes";
  EXPECT_FALSE(fcntl(r.get(), F_GETFD) & FD_CLOEXEC) << "G134: no O_CLOEXEC unless asked";
}

TEST_F(PipeOp, FlagsApply) {
  RINGCHECK_RULE("G135");
  int fds[2] = {-1, -1};
  EXPECT_RESULT(Pipe(fds, O_CLOEXEC | O_NONBLOCK), 0, "G135");
  UniqueFd r(fds[0]), w(fds[1]);
  EXPECT_TRUE(fcntl(r.get(), F_GETFD) & FD_CLOEXEC) << "G135";
  EXPECT_TRUE(fcntl(w.get(), F_GETFL) & O_NONBLOCK) << "G135";
  char b;
  EXPECT_EQ(read(r.get(), &b, 1), -1) << "G135: a non-blocking empty pipe";
}

TEST_F(PipeOp, UnknownFlagIsInvalid) {
  RINGCHECK_RULE("G135");
  int fds[2] = {-1, -1};
  EXPECT_RESULT(Pipe(fds, O_TRUNC), -EINVAL, "G135: O_TRUNC");
}

TEST_F(PipeOp, DirectPipeFillsSlots) {
  RINGCHECK_RULE("G136");
  int empty[4] = {-1, -1, -1, -1};
  ASSERT_EQ(io_uring_register_files(ring().get(), empty, 4), 0);
  int fds[2] = {-1, -1};
  EXPECT_RESULT(Pipe(fds, 0, IORING_FILE_INDEX_ALLOC), 0, "G136");
  ASSERT_TRUE(fds[0] >= 0 && fds[0] < 4 && fds[1] >= 0 && fds[1] < 4 && fds[0] != fds[1])
      << "G136: two slots, got " << fds[0] << "," << fds[1];
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_write(s, fds[1], "dp", 2, 0); },
                       IOSQE_FIXED_FILE),
                2, "G136: write through the slot of fds[1]");
  char b[2] = {};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, fds[0], b, 2, 0); }, IOSQE_FIXED_FILE),
                2, "G136: read through the slot of fds[0]");
  EXPECT_EQ(std::string(b, 2), "dp");
}

}  // namespace
}  // namespace ringcheck
