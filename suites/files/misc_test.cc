// READ_MULTISHOT, links across short reads, and polled (IOPOLL) O_DIRECT I/O
// (io_uring_prep_read_multishot(3), io_uring_enter(2) "IOSQE_IO_LINK",
// "IOSQE_IO_HARDLINK", io_uring_setup(2) "IORING_SETUP_IOPOLL"; kernel
// io_uring/rw.c io_read_mshot_prep / io_read_mshot / io_rw_init_file,
// io_uring.c io_fail_links). Rules G137-G145, G151.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "harness/bufring.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/files/files_util.h"

namespace ringcheck {
namespace {

class ReadMultishot : public FilesTest {
 protected:
  void SetUp() override {
    REQUIRE_FEATURE("op_read_multishot");
    FilesTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_EQ(BufRing::Create(ring(), 1, 8, 0, &bufs_), 0);
    for (uint16_t bid = 0; bid < 8; ++bid) bufs_->Add(bid, 64);
  }
  void TearDown() override { bufs_.reset(); }
  void Submit(int fd) {
    io_uring_sqe* s = ring().NextSqe();
    io_uring_prep_read_multishot(s, fd, 0, 0, 1);
    s->user_data = 9;
    ASSERT_EQ(ring().Submit(), 1);
  }
  std::unique_ptr<BufRing> bufs_;
};

TEST_F(ReadMultishot, PipePostsOneCqePerWriteWithMore) {
  RINGCHECK_RULE("G137");
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd rd(fds[0]), wr(fds[1]);
  Submit(rd.get());
  for (const char* word : {"one", "three"}) {
    ASSERT_EQ(write(wr.get(), word, strlen(word)), static_cast<ssize_t>(strlen(word)));
    std::vector<Cqe> got = ring().Reap(1);
    ASSERT_EQ(got.size(), 1u) << "G137: a CQE per write";
    EXPECT_RESULT(got[0].res, static_cast<int>(strlen(word)), "G137");
    EXPECT_TRUE(got[0].flags & IORING_CQE_F_MORE) << "G137: F_MORE while the request lives";
    ASSERT_TRUE(got[0].flags & IORING_CQE_F_BUFFER) << "G137: a provided buffer";
    uint16_t bid = static_cast<uint16_t>(got[0].flags >> IORING_CQE_BUFFER_SHIFT);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(bufs_->Data(bid)), strlen(word)), word);
  }
  wr.reset();
  std::vector<Cqe> last = ring().Reap(1);
  ASSERT_EQ(last.size(), 1u) << "G138: EOF ends the request";
  EXPECT_RESULT(last[0].res, 0, "G138");
  EXPECT_FALSE(last[0].flags & IORING_CQE_F_MORE) << "G138: the last CQE has no F_MORE";
}

TEST_F(ReadMultishot, EventfdPostsEachCount) {
  RINGCHECK_RULE("G137");
  UniqueFd efd(eventfd(0, EFD_CLOEXEC));
  ASSERT_TRUE(efd.valid());
  Submit(efd.get());
  for (uint64_t v : {3u, 4u}) {
    ASSERT_EQ(eventfd_write(efd.get(), v), 0);
    std::vector<Cqe> got = ring().Reap(1);
    ASSERT_EQ(got.size(), 1u) << "G137";
    EXPECT_RESULT(got[0].res, 8, "G137");
    EXPECT_TRUE(got[0].flags & IORING_CQE_F_MORE) << "G137";
    uint64_t value = 0;
    memcpy(&value, bufs_->Data(static_cast<uint16_t>(got[0].flags >> IORING_CQE_BUFFER_SHIFT)), 8);
    EXPECT_EQ(value, v) << "G137";
  }
}

TEST_F(ReadMultishot, RunningOutOfBuffersEndsWithEnobufs) {
  RINGCHECK_RULE("G138");
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd rd(fds[0]), wr(fds[1]);
  Submit(rd.get());
  bool ended = false;
  for (int i = 0; i < 9 && !ended; ++i) {
    ASSERT_EQ(write(wr.get(), "x", 1), 1);
    std::vector<Cqe> got = ring().Reap(1);
    ASSERT_EQ(got.size(), 1u);
    if (!(got[0].flags & IORING_CQE_F_MORE)) {
      EXPECT_RESULT(got[0].res, -ENOBUFS, "G138: the 9th read finds no buffer");
      EXPECT_EQ(i, 8) << "G138: only after all 8 buffers were used";
      ended = true;
    }
  }
  EXPECT_TRUE(ended) << "G138";
}

TEST_F(ReadMultishot, WithoutBufferSelectIsInvalid) {
  RINGCHECK_RULE("G139");
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd rd(fds[0]), wr(fds[1]);
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_read_multishot(s, rd.get(), 0, 0, 1);
                  s->flags &= ~IOSQE_BUFFER_SELECT;
                }),
                -EINVAL, "G139");
}

TEST_F(ReadMultishot, RegularFileIsBadfd) {
  RINGCHECK_RULE("G140");
  UniqueFd file = ScratchFile(64);
  ASSERT_TRUE(file.valid());
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read_multishot(s, file.get(), 0, 0, 1); }),
                -EBADFD, "G140: a file that cannot be polled");
}

class Links : public FilesTest {
 protected:
  void SetUp() override {
    FilesTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    file_ = ScratchFile(10);
    ASSERT_TRUE(file_.valid());
  }
  std::vector<Cqe> ReadThenNop(unsigned len, unsigned link_flag) {
    io_uring_sqe* s = ring().NextSqe();
    io_uring_prep_read(s, file_.get(), buf_, len, 0);
    s->flags |= link_flag;
    s->user_data = 1;
    s = ring().NextSqe();
    io_uring_prep_nop(s);
    s->user_data = 2;
    return SubmitAndReapSorted(ring(), 2);
  }
  UniqueFd file_;
  char buf_[32];
};

TEST_F(Links, ShortReadBreaksLink) {
  RINGCHECK_RULE("G141");
  std::vector<Cqe> got = ReadThenNop(16, IOSQE_IO_LINK);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_RESULT(got[0].res, 10, "G141: the short read itself");
  EXPECT_RESULT(got[1].res, -ECANCELED, "G141: the linked request");
}

TEST_F(Links, FullReadKeepsLink) {
  RINGCHECK_RULE("G141");
  std::vector<Cqe> got = ReadThenNop(10, IOSQE_IO_LINK);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_RESULT(got[0].res, 10, "G141");
  EXPECT_RESULT(got[1].res, 0, "G141: a read of exactly len continues the chain");
}

TEST_F(Links, ShortReadKeepsHardlink) {
  REQUIRE_FEATURE("op_tee");  // IOSQE_IO_HARDLINK came with 5.5; TEE (5.8) proves a kernel past it
  RINGCHECK_RULE("G142");
  std::vector<Cqe> got = ReadThenNop(16, IOSQE_IO_HARDLINK);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_RESULT(got[0].res, 10, "G142");
  EXPECT_RESULT(got[1].res, 0, "G142: IO_HARDLINK ignores the short read");
}

TEST(Iopoll, BufferedReadIsNotSupported) {
  RINGCHECK_RULE("G143");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("iopoll"));
  UniqueFd file = ScratchFile(4096);
  ASSERT_TRUE(file.valid());
  char buf[64];
  EXPECT_RESULT(RunOne(*ring, [&](io_uring_sqe* s) { io_uring_prep_read(s, file.get(), buf, 64, 0); }),
                -EOPNOTSUPP, "G143: no O_DIRECT on an IOPOLL ring");
}

TEST(Iopoll, PipeReadIsNotSupported) {
  RINGCHECK_RULE("G143");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("iopoll"));
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd rd(fds[0]), wr(fds[1]);
  ASSERT_EQ(write(wr.get(), "x", 1), 1);
  char buf[4];
  EXPECT_RESULT(RunOne(*ring, [&](io_uring_sqe* s) { io_uring_prep_read(s, rd.get(), buf, 4, 0); }),
                -EOPNOTSUPP, "G143: a pipe cannot be polled for completion");
}

TEST(Iopoll, NonPolledOpcodesAreInvalid) {
  RINGCHECK_RULE("G151");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("iopoll"));
  UniqueFd file = ScratchFile(64);
  ASSERT_TRUE(file.valid());
  EXPECT_RESULT(RunOne(*ring, [&](io_uring_sqe* s) { io_uring_prep_fsync(s, file.get(), 0); }), -EINVAL,
                "G151: FSYNC");
  struct statx stx;
  EXPECT_RESULT(RunOne(*ring, [&](io_uring_sqe* s) { io_uring_prep_statx(s, AT_FDCWD, "/", 0, STATX_SIZE, &stx); }),
                -EINVAL, "G151: STATX");
  EXPECT_RESULT(RunOne(*ring, [&](io_uring_sqe* s) { io_uring_prep_openat(s, AT_FDCWD, "/", O_RDONLY, 0); }),
                -EINVAL, "G151: OPENAT");
}

// Aligned memory for O_DIRECT.
struct Aligned {
  explicit Aligned(size_t n) {
    if (posix_memalign(&p, 4096, n) != 0) p = nullptr;
    else memset(p, 0, n);
  }
  ~Aligned() { free(p); }
  void* p = nullptr;
};

class PolledBlock : public ::testing::TestWithParam<RingConfig> {};

TEST_P(PolledBlock, DirectReadWriteOnPolledDevice) {
  RINGCHECK_RULE("G144");
  CREATE_RING_OR_SKIP(ring, GetParam());
  UniqueFd dev(open("/dev/nullb0", O_RDWR | O_DIRECT | O_CLOEXEC));
  if (!dev.valid()) {
    GTEST_SKIP() << "environment:nullb0 (no null_blk device with poll queues; the guests load one)";
  }
  Aligned buf(4096);
  ASSERT_NE(buf.p, nullptr);
  EXPECT_RESULT(RunOne(*ring, [&](io_uring_sqe* s) { io_uring_prep_read(s, dev.get(), buf.p, 4096, 0); }),
                4096, "G144: O_DIRECT read, completed by polling");
  EXPECT_RESULT(RunOne(*ring, [&](io_uring_sqe* s) { io_uring_prep_write(s, dev.get(), buf.p, 4096, 8192); }),
                4096, "G144: O_DIRECT write");
  iovec iov = {buf.p, 4096};
  EXPECT_RESULT(RunOne(*ring, [&](io_uring_sqe* s) { io_uring_prep_readv(s, dev.get(), &iov, 1, 4096); }),
                4096, "G144: READV");
}

INSTANTIATE_TEST_SUITE_P(Rings, PolledBlock,
                         ::testing::Values(ConfigNamed("default"), ConfigNamed("iopoll"),
                                           ConfigNamed("hybrid_iopoll")),
                         ConfigParamName);

TEST(DirectIo, AlignedDirectReadOfFile) {
  RINGCHECK_RULE("G145");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string data(8192, 'd');
  ASSERT_TRUE(dir.WriteFile("f", data));
  UniqueFd fd(open(dir.Path("f").c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC));
  if (!fd.valid() && errno == EINVAL) {
    GTEST_SKIP() << "environment:o_direct (the scratch file system refuses O_DIRECT)";
  }
  ASSERT_TRUE(fd.valid());
  Aligned buf(4096);
  ASSERT_NE(buf.p, nullptr);
  EXPECT_RESULT(RunOne(*ring, [&](io_uring_sqe* s) { io_uring_prep_read(s, fd.get(), buf.p, 4096, 4096); }),
                4096, "G145");
  EXPECT_EQ(static_cast<char*>(buf.p)[0], 'd');
}

}  // namespace
}  // namespace ringcheck
