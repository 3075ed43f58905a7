// IORING_REGISTER_FILES, FILES_UPDATE, UNREGISTER_FILES and the limits of
// the fixed-file table (io_uring_register(2); kernel register.c
// __io_uring_register, rsrc.c io_sqe_files_register, __io_sqe_files_update,
// io_sqe_files_unregister). Tags, FILES2 and ALLOC_RANGE: files2_test.cc.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "harness/child.h"
#include "harness/configs.h"
#include "harness/fd.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/in_child.h"
#include "suites/register/register_util.h"

namespace ringcheck {
namespace {

// Reads 8 bytes at offset 0 of fixed file `index`; the CQE result.
int ReadFixed(Ring& ring, int index, unsigned char* out) {
  SubmitOne(ring, [&](io_uring_sqe* sqe) {
    io_uring_prep_read(sqe, index, out, 8, 0);
    sqe->flags |= IOSQE_FIXED_FILE;
    sqe->user_data = 77;
  });
  return ReapOne(ring).res;
}

class RegisterFiles : public RingTest {};

// J10: a registered file is used through its index; the original fd may go.
TEST_P(RegisterFiles, RegisteredFileIsReadThroughItsIndex) {
  RINGCHECK_RULE("J10");
  REQUIRE_FEATURE("register_files");
  UniqueFd file = ScratchFile(64);
  ASSERT_TRUE(file.valid());
  int fds[2] = {-1, file.get()};
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES, fds, 2), 0, "J10");
  file.reset();
  unsigned char buf[8] = {};
  EXPECT_RESULT(ReadFixed(ring(), 1, buf), 8, "J10: read through index 1 after close()");
  EXPECT_EQ(buf[0], PatternByte(0));
  EXPECT_EQ(buf[7], PatternByte(7));
}

// J8: -1 leaves a slot empty; a fixed-file SQE on it fails with -EBADF.
TEST_P(RegisterFiles, SparseSlotIsBadFile) {
  RINGCHECK_RULE("J8");
  int fds[2] = {-1, -1};
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES, fds, 2), 0, "J8");
  unsigned char buf[8];
  EXPECT_RESULT(ReadFixed(ring(), 0, buf), -EBADF, "J8");
}

// J3: nr_args 0 is -EINVAL.
TEST_P(RegisterFiles, ZeroCountIsInvalid) {
  RINGCHECK_RULE("J3");
  int fd = -1;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES, &fd, 0), -EINVAL, "J3");
}

// J4: a NULL array is -EFAULT.
TEST_P(RegisterFiles, NullArrayFaults) {
  RINGCHECK_RULE("J4");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES, nullptr, 1), -EFAULT, "J4");
}

// J5: a second table while one is registered is -EBUSY.
TEST_P(RegisterFiles, SecondTableIsBusy) {
  RINGCHECK_RULE("J5");
  int fds[1] = {-1};
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES, fds, 1), 0, "J5");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES, fds, 1), -EBUSY, "J5");
}

// J9: an fd that is not open is -EBADF, and nothing stays registered.
TEST_P(RegisterFiles, ClosedFdIsBadFile) {
  RINGCHECK_RULE("J9");
  UniqueFd file = ScratchFile(8);
  int closed = dup(file.get());
  close(closed);
  int fds[1] = {closed};
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES, fds, 1), -EBADF, "J9");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_FILES, nullptr, 0), -ENXIO,
                "J9: the failed registration left no table");
}

// J9: an io_uring fd cannot enter a fixed-file table (it could reference
// its own ring): -EBADF.
TEST_P(RegisterFiles, RingFdIsRefused) {
  RINGCHECK_RULE("J9");
  io_uring other;
  ASSERT_EQ(io_uring_queue_init(2, &other, 0), 0);
  int fds[2] = {other.ring_fd, ring().fd()};
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES, fds, 1), -EBADF,
                "J9: another ring's fd");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES, fds + 1, 1), -EBADF,
                "J9: the ring's own fd");
  io_uring_queue_exit(&other);
}

// J11: unregistering without a table is -ENXIO; arguments are -EINVAL;
// after unregistering, fixed-file SQEs fail with -EBADF.
TEST_P(RegisterFiles, UnregisterWithoutTableIsNxio) {
  RINGCHECK_RULE("J11");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_FILES, nullptr, 0), -ENXIO, "J11");
}

TEST_P(RegisterFiles, UnregisterWithArgumentsIsInvalid) {
  RINGCHECK_RULE("J11");
  int fds[1] = {-1};
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES, fds, 1), 0, "J11");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_FILES, fds, 0), -EINVAL, "J11: arg");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_FILES, nullptr, 1), -EINVAL,
                "J11: nr_args");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_FILES, nullptr, 0), 0, "J11");
}

TEST_P(RegisterFiles, UnregisteredIndexIsBadFile) {
  RINGCHECK_RULE("J11");
  UniqueFd file = ScratchFile(64);
  int fds[1] = {file.get()};
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES, fds, 1), 0, "J11");
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_FILES, nullptr, 0), 0, "J11");
  unsigned char buf[8];
  EXPECT_RESULT(ReadFixed(ring(), 0, buf), -EBADF, "J11");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES, fds, 1), 0,
                "J11: a new table may follow");
}

// J12: FILES_UPDATE installs files, returns how many slots it changed,
// skips IORING_REGISTER_FILES_SKIP and clears with -1.
TEST_P(RegisterFiles, UpdateInstallsSkipsAndClears) {
  RINGCHECK_RULE("J12");
  REQUIRE_FEATURE("register_files_update");
  UniqueFd file = ScratchFile(64);
  int fds[3] = {-1, -1, -1};
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES, fds, 3), 0, "J12");
  int update[2] = {file.get(), file.get()};
  io_uring_files_update up = {};
  up.offset = 1;
  up.fds = reinterpret_cast<uintptr_t>(update);
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES_UPDATE, &up, 2), 2, "J12");
  unsigned char buf[8];
  EXPECT_RESULT(ReadFixed(ring(), 2, buf), 8, "J12: slot 2 installed");
  int skip_clear[2] = {IORING_REGISTER_FILES_SKIP, -1};
  up.fds = reinterpret_cast<uintptr_t>(skip_clear);
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES_UPDATE, &up, 2), 2, "J12");
  EXPECT_RESULT(ReadFixed(ring(), 1, buf), 8, "J12: SKIP kept slot 1");
  EXPECT_RESULT(ReadFixed(ring(), 2, buf), -EBADF, "J12: -1 cleared slot 2");
}

// J13: FILES_UPDATE refusals.
TEST_P(RegisterFiles, UpdateWithoutTableIsNxio) {
  RINGCHECK_RULE("J13");
  REQUIRE_FEATURE("register_files_update");
  int update[1] = {-1};
  io_uring_files_update up = {};
  up.fds = reinterpret_cast<uintptr_t>(update);
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES_UPDATE, &up, 1), -ENXIO, "J13");
}

TEST_P(RegisterFiles, UpdateBeyondTableIsInvalid) {
  RINGCHECK_RULE("J13");
  REQUIRE_FEATURE("register_files_update");
  int fds[2] = {-1, -1};
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES, fds, 2), 0, "J13");
  io_uring_files_update up = {};
  up.offset = 1;
  up.fds = reinterpret_cast<uintptr_t>(fds);
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES_UPDATE, &up, 2), -EINVAL,
                "J13: offset 1 + 2 > 2 slots");
  up.offset = 0;
  up.resv = 1;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES_UPDATE, &up, 1), -EINVAL,
                "J13: resv");
  up.resv = 0;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES_UPDATE, &up, 0), -EINVAL,
                "J13: nr_args 0");
}

// J14: an io_uring fd cannot be installed by an update either.
TEST_P(RegisterFiles, UpdateWithRingFdIsRefused) {
  RINGCHECK_RULE("J14");
  REQUIRE_FEATURE("register_files_update");
  int fds[1] = {-1};
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES, fds, 1), 0, "J14");
  int update[1] = {ring().fd()};
  io_uring_files_update up = {};
  up.fds = reinterpret_cast<uintptr_t>(update);
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES_UPDATE, &up, 1), -EBADF, "J14");
}

INSTANTIATE_TEST_SUITE_P(Rings, RegisterFiles,
                         ::testing::Values(ConfigNamed("default"), ConfigNamed("sqpoll"),
                                           ConfigNamed("defer_taskrun_single_issuer")),
                         ConfigParamName);

// J6: a table larger than RLIMIT_NOFILE is -EMFILE (checked in a child that
// lowers its own limit).
TEST(RegisterFilesLimits, MoreThanNofileLimitIsMfile) {
  RINGCHECK_RULE("J6");
  ChildRun run = InChild([](ChildChannel& child) {
    rlimit lim = {16, 16};
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0) << "setrlimit(RLIMIT_NOFILE)";
    io_uring ring;
    ASSERT_EQ(io_uring_queue_init(2, &ring, 0), 0);
    std::vector<int> fds(17, -1);
    child.Put(0, RegisterRaw(ring.ring_fd, IORING_REGISTER_FILES, fds.data(), 17));
    child.Put(1, RegisterRaw(ring.ring_fd, IORING_REGISTER_FILES, fds.data(), 16));
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), -EMFILE, "J6: 17 slots over an RLIMIT_NOFILE of 16");
  EXPECT_RESULT(run.Value(1), 0, "J6: 16 slots");
}

// J7: more than IORING_MAX_FIXED_FILES (1 << 20) slots is -EMFILE whatever
// RLIMIT_NOFILE says.
TEST(RegisterFilesLimits, MoreThanKernelMaximumIsMfile) {
  RINGCHECK_RULE("J7");
  ChildRun run = InChild([](ChildChannel& child) {
    // As high as fs.nr_open allows (1 << 20 by default).
    rlimit lim = {(1u << 20) + 8, (1u << 20) + 8};
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
      lim = {1u << 20, 1u << 20};
      if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
        return child.Skip("privilege:rlimit_nofile (cannot raise RLIMIT_NOFILE to 2^20)");
      }
    }
    io_uring ring;
    ASSERT_EQ(io_uring_queue_init(2, &ring, 0), 0);
    std::vector<int> fds((1u << 20) + 1, -1);
    child.Put(0, RegisterRaw(ring.ring_fd, IORING_REGISTER_FILES, fds.data(), (1u << 20) + 1));
  }, std::chrono::seconds(30));
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), -EMFILE, "J7");
}

}  // namespace
}  // namespace ringcheck
