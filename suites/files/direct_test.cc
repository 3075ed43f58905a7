// Registered files and direct descriptors: IOSQE_FIXED_FILE, the FILES_UPDATE
// opcode, OPENAT into a slot, IORING_FILE_INDEX_ALLOC, CLOSE of a slot and
// FIXED_FD_INSTALL (io_uring_register_files(3), io_uring_prep_openat_direct(3),
// io_uring_prep_close_direct(3), io_uring_prep_files_update(3),
// io_uring_prep_fixed_fd_install(3); kernel io_uring/filetable.c, rsrc.c
// io_files_update, openclose.c, io_uring.c io_file_get_fixed). Rules G42-G55, G146, G147.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/files/files_util.h"

namespace ringcheck {
namespace {

class Direct : public FilesTest {
 protected:
  void SetUp() override {
    FilesTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    file_ = ScratchFile(64);
    ASSERT_TRUE(file_.valid());
    ASSERT_TRUE(dir_.ok());
    ASSERT_TRUE(dir_.WriteFile("f", "direct"));
  }
  // Registers a table of `n` slots, slot i holding fds[i] (-1 = empty).
  void Register(std::vector<int> fds) {
    ASSERT_EQ(io_uring_register_files(ring().get(), fds.data(), fds.size()), 0);
  }
  int FixedRead(unsigned slot, char* buf, unsigned len) {
    return RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_read(s, slot, buf, len, 0); },
                  IOSQE_FIXED_FILE);
  }
  UniqueFd file_;
  TempDir dir_;
  char buf_[16] = {};
};

TEST_F(Direct, FixedFileReadsThroughSlot) {
  RINGCHECK_RULE("G42");
  Register({-1, file_.get()});
  EXPECT_RESULT(FixedRead(1, buf_, 4), 4, "G42");
  EXPECT_EQ(static_cast<unsigned char>(buf_[0]), PatternByte(0));
}

TEST_F(Direct, SparseSlotIsBadf) {
  RINGCHECK_RULE("G43");
  Register({-1, file_.get()});
  EXPECT_RESULT(FixedRead(0, buf_, 4), -EBADF, "G43: empty slot 0");
}

TEST_F(Direct, SlotBeyondTableIsBadf) {
  RINGCHECK_RULE("G43");
  Register({file_.get()});
  EXPECT_RESULT(FixedRead(1, buf_, 4), -EBADF, "G43: slot 1 of a one-slot table");
  EXPECT_RESULT(FixedRead(100000, buf_, 4), -EBADF, "G43: slot 100000");
}

TEST_F(Direct, FixedFileWithoutTableIsBadf) {
  RINGCHECK_RULE("G43");
  EXPECT_RESULT(FixedRead(0, buf_, 4), -EBADF, "G43: no table at all");
}

TEST_F(Direct, SlotUpdatedWhileInUseKeepsFile) {
  RINGCHECK_RULE("G44");
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd rd(fds[0]), wr(fds[1]);
  Register({rd.get()});
  io_uring_sqe* s = ring().NextSqe();
  io_uring_prep_read(s, 0, buf_, 16, 0);
  s->flags |= IOSQE_FIXED_FILE;
  s->user_data = 1;
  ASSERT_EQ(ring().Submit(), 1);
  ASSERT_TRUE(ring().Reap(1, std::chrono::milliseconds(50)).empty()) << "the read must wait";
  int none = -1;
  ASSERT_EQ(io_uring_register_files_update(ring().get(), 0, &none, 1), 1);
  ASSERT_EQ(write(wr.get(), "kept", 4), 4);
  std::vector<Cqe> got = ring().Reap(1);
  ASSERT_EQ(got.size(), 1u) << "G44: the request still holds the pipe";
  EXPECT_RESULT(got[0].res, 4, "G44");
  EXPECT_RESULT(FixedRead(0, buf_, 4), -EBADF, "G44: later requests see the empty slot");
}

TEST_F(Direct, FilesUpdateOpReplacesSlots) {
  RINGCHECK_RULE("G45");
  Register({-1, -1, -1});
  int fds[2] = {file_.get(), file_.get()};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_files_update(s, fds, 2, 1); }), 2,
                "G45: two slots updated");
  EXPECT_RESULT(FixedRead(2, buf_, 4), 4, "G45: slot 2 now holds the file");
  int clear[1] = {-1};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_files_update(s, clear, 1, 2); }), 1,
                "G45: -1 clears");
  EXPECT_RESULT(FixedRead(2, buf_, 4), -EBADF, "G45: slot 2 empty again");
}

TEST_F(Direct, FilesUpdateOpWithZeroCountIsInvalid) {
  RINGCHECK_RULE("G46");
  Register({-1});
  int fds[1] = {file_.get()};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_files_update(s, fds, 0, 0); }), -EINVAL,
                "G46");
}

TEST_F(Direct, FilesUpdateOpWithoutTableIsNxio) {
  RINGCHECK_RULE("G47");
  int fds[1] = {file_.get()};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_files_update(s, fds, 1, 0); }), -ENXIO,
                "G47");
}

TEST_F(Direct, FilesUpdateOpAllocWritesSlotsBack) {
  REQUIRE_FEATURE("files_update_alloc");
  RINGCHECK_RULE("G48");
  Register({file_.get(), -1, -1});
  int fds[2] = {file_.get(), file_.get()};
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_files_update(s, fds, 2, IORING_FILE_INDEX_ALLOC);
                }),
                2, "G48");
  EXPECT_TRUE((fds[0] == 1 && fds[1] == 2) || (fds[0] == 2 && fds[1] == 1))
      << "G48: the chosen free slots are written back, got " << fds[0] << "," << fds[1];
  EXPECT_RESULT(FixedRead(static_cast<unsigned>(fds[1]), buf_, 4), 4, "G48");
}

TEST_F(Direct, OpenatIntoSlot) {
  REQUIRE_FEATURE("open_direct");
  RINGCHECK_RULE("G49");
  Register({-1, -1});
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_openat_direct(s, dir_.fd(), "f", O_RDONLY, 0, 1);
                }),
                0, "G49: 0, not an fd");
  EXPECT_RESULT(FixedRead(1, buf_, 6), 6, "G49");
  EXPECT_EQ(std::string(buf_, 6), "direct");
}

TEST_F(Direct, OpenatIntoSlotWithCloexecIsInvalid) {
  REQUIRE_FEATURE("open_direct");
  RINGCHECK_RULE("G50");
  Register({-1});
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_openat_direct(s, dir_.fd(), "f", O_RDONLY | O_CLOEXEC, 0, 0);
                }),
                -EINVAL, "G50");
}

TEST_F(Direct, IndexAllocStaysInAllocRange) {
  REQUIRE_FEATURE("file_index_alloc");
  REQUIRE_FEATURE("register_file_alloc_range");
  RINGCHECK_RULE("G51");
  Register({-1, -1, -1, -1});
  ASSERT_EQ(io_uring_register_file_alloc_range(ring().get(), 2, 2), 0);
  for (int i = 0; i < 2; ++i) {
    int slot = RunOne(ring(), [&](io_uring_sqe* s) {
      io_uring_prep_openat_direct(s, dir_.fd(), "f", O_RDONLY, 0, IORING_FILE_INDEX_ALLOC);
    });
    EXPECT_TRUE(slot == 2 || slot == 3) << "G51: slot " << slot << " outside the range [2, 4)";
  }
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_openat_direct(s, dir_.fd(), "f", O_RDONLY, 0, IORING_FILE_INDEX_ALLOC);
                }),
                -ENFILE, "G51: the range is full although slots 0 and 1 are free");
}

TEST_F(Direct, CloseSlotEmptiesIt) {
  REQUIRE_FEATURE("open_direct");
  RINGCHECK_RULE("G52");
  Register({file_.get()});
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_close_direct(s, 0); }), 0, "G52");
  EXPECT_RESULT(FixedRead(0, buf_, 4), -EBADF, "G52: the slot is empty");
  EXPECT_TRUE(fcntl(file_.get(), F_GETFD) >= 0) << "G52: the process's own fd stays open";
}

TEST_F(Direct, CloseOfEmptySlotIsBadf) {
  REQUIRE_FEATURE("open_direct");
  RINGCHECK_RULE("G52");
  Register({-1, -1});
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_close_direct(s, 1); }), -EBADF, "G52");
}

TEST_F(Direct, CloseWithFdAndSlotIsInvalid) {
  REQUIRE_FEATURE("open_direct");
  RINGCHECK_RULE("G53");
  Register({file_.get()});
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_close_direct(s, 0);
                  s->fd = file_.get();
                }),
                -EINVAL, "G53");
}

TEST_F(Direct, FixedFdInstallIsCloexecByDefault) {
  REQUIRE_FEATURE("op_fixed_fd_install");
  RINGCHECK_RULE("G54");
  Register({file_.get()});
  int fd = RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_fixed_fd_install(s, 0, 0); });
  ASSERT_GE(fd, 0) << "G54: " << ResultName(fd);
  UniqueFd owned(fd);
  EXPECT_NE(fd, file_.get());
  EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC) << "G54: O_CLOEXEC by default";
  EXPECT_EQ(pread(fd, buf_, 4, 0), 4) << "G54: the same file";
  EXPECT_EQ(static_cast<unsigned char>(buf_[0]), PatternByte(0));
}

TEST_F(Direct, FixedFdInstallNoCloexec) {
  REQUIRE_FEATURE("op_fixed_fd_install");
  RINGCHECK_RULE("G54");
  Register({file_.get()});
  int fd = RunOne(ring(), [&](io_uring_sqe* s) {
    io_uring_prep_fixed_fd_install(s, 0, IORING_FIXED_FD_NO_CLOEXEC);
  });
  ASSERT_GE(fd, 0) << "G54: " << ResultName(fd);
  UniqueFd owned(fd);
  EXPECT_FALSE(fcntl(fd, F_GETFD) & FD_CLOEXEC) << "G54: IORING_FIXED_FD_NO_CLOEXEC";
}

TEST_F(Direct, FixedFdInstallNeedsFixedFileFlag) {
  REQUIRE_FEATURE("op_fixed_fd_install");
  RINGCHECK_RULE("G55");
  Register({file_.get()});
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_fixed_fd_install(s, 0, 0);
                  s->flags &= ~IOSQE_FIXED_FILE;
                }),
                -EBADF, "G55: without IOSQE_FIXED_FILE");
}

TEST_F(Direct, FixedFdInstallUnknownFlagIsInvalid) {
  REQUIRE_FEATURE("op_fixed_fd_install");
  RINGCHECK_RULE("G55");
  Register({file_.get()});
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_fixed_fd_install(s, 0, 1u << 5); }),
                -EINVAL, "G55: install_fd_flags bit 5");
}

TEST_F(Direct, FixedFdInstallOfEmptySlotIsBadf) {
  REQUIRE_FEATURE("op_fixed_fd_install");
  RINGCHECK_RULE("G55");
  Register({-1});
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_fixed_fd_install(s, 0, 0); }), -EBADF,
                "G55: empty slot");
}

TEST_F(Direct, CloseSlotBeyondTableIsInvalid) {
  REQUIRE_FEATURE("open_direct");
  RINGCHECK_RULE("G146");
  Register({file_.get()});
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_close_direct(s, 5); }), -EINVAL,
                "G146: slot 5 of a one-slot table");
}

TEST_F(Direct, CloseSlotWithoutTableIsNxio) {
  REQUIRE_FEATURE("open_direct");
  RINGCHECK_RULE("G146");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) { io_uring_prep_close_direct(s, 0); }), -ENXIO,
                "G146: no file table");
}

TEST_F(Direct, OpenatIntoSlotBeyondTableIsInvalid) {
  REQUIRE_FEATURE("open_direct");
  RINGCHECK_RULE("G147");
  Register({-1});
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_openat_direct(s, dir_.fd(), "f", O_RDONLY, 0, 3);
                }),
                -EINVAL, "G147: slot 3 of a one-slot table");
}

TEST_F(Direct, OpenatIntoSlotWithoutTableIsNxio) {
  REQUIRE_FEATURE("open_direct");
  RINGCHECK_RULE("G147");
  EXPECT_RESULT(RunOne(ring(), [&](io_uring_sqe* s) {
                  io_uring_prep_openat_direct(s, dir_.fd(), "f", O_RDONLY, 0, 0);
                }),
                -ENXIO, "G147: no file table");
}

}  // namespace
}  // namespace ringcheck
