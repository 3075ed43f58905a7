// IORING_REGISTER_FILES2 and FILES_UPDATE2 (resource tags, sparse tables)
// and IORING_REGISTER_FILE_ALLOC_RANGE (io_uring_register(2),
// io_uring_register_files_tags(3), io_uring_register_file_alloc_range(3);
// kernel rsrc.c io_register_rsrc, io_register_rsrc_update,
// filetable.c io_register_file_alloc_range, io_file_bitmap_get).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <vector>

#include "harness/configs.h"
#include "harness/fd.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/register/register_util.h"

namespace ringcheck {
namespace {

long Files2Raw(int ring_fd, const int* fds, const uint64_t* tags, unsigned nr, unsigned flags = 0) {
  io_uring_rsrc_register rr = {};
  rr.nr = nr;
  rr.flags = flags;
  rr.data = reinterpret_cast<uintptr_t>(fds);
  rr.tags = reinterpret_cast<uintptr_t>(tags);
  return RegisterRaw(ring_fd, IORING_REGISTER_FILES2, &rr, sizeof(rr));
}

long Update2(int ring_fd, unsigned offset, const int* fds, const uint64_t* tags, unsigned nr) {
  io_uring_rsrc_update2 up = {};
  up.offset = offset;
  up.data = reinterpret_cast<uintptr_t>(fds);
  up.tags = reinterpret_cast<uintptr_t>(tags);
  up.nr = nr;
  return RegisterRaw(ring_fd, IORING_REGISTER_FILES_UPDATE2, &up, sizeof(up));
}

class Files2 : public RingTest {
 protected:
  void SetUp() override {
    RingTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    REQUIRE_FEATURE("register_files2");
  }
};

// J15: the argument size must be that of struct io_uring_rsrc_register,
// and nr must not be 0.
TEST_P(Files2, WrongSizeIsInvalid) {
  RINGCHECK_RULE("J15");
  int fds[1] = {-1};
  io_uring_rsrc_register rr = {};
  rr.nr = 1;
  rr.data = reinterpret_cast<uintptr_t>(fds);
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES2, &rr, sizeof(rr) - 8), -EINVAL,
                "J15: size - 8");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES2, &rr, sizeof(rr) + 8), -EINVAL,
                "J15: size + 8");
  rr.nr = 0;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES2, &rr, sizeof(rr)), -EINVAL,
                "J15: nr 0");
}

// J16: a tag on an empty (-1) slot is -EINVAL.
TEST_P(Files2, TagOnEmptySlotIsInvalid) {
  RINGCHECK_RULE("J16");
  REQUIRE_FEATURE("feat_rsrc_tags");
  int fds[1] = {-1};
  uint64_t tags[1] = {5};
  EXPECT_RESULT(Files2Raw(ring().fd(), fds, tags, 1), -EINVAL, "J16");
}

// J120: unregistering posts one CQE per tagged file, user_data = tag,
// res 0; untagged files post nothing.
TEST_P(Files2, UnregisterPostsTagCqes) {
  RINGCHECK_RULE("J120");
  REQUIRE_FEATURE("rsrc_tags_on_unregister");
  UniqueFd a = ScratchFile(8), b = ScratchFile(8);
  int fds[3] = {a.get(), b.get(), -1};
  uint64_t tags[3] = {0x1111, 0, 0};
  ASSERT_RESULT(Files2Raw(ring().fd(), fds, tags, 3), 0, "J17");
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_FILES, nullptr, 0), 0, "J11");
  std::vector<Cqe> got = ring().Reap(1);
  ASSERT_EQ(got.size(), 1u) << "J120: no tag CQE after unregistering";
  EXPECT_EQ(got[0].user_data, 0x1111u);
  EXPECT_RESULT(got[0].res, 0, "J120");
  EXPECT_TRUE(ring().Reap(1, std::chrono::milliseconds(100)).empty())
      << "J120: an untagged file posted a CQE";
}

// J17, J19: replacing a tagged file posts its tag; the new file's tag is set
// by FILES_UPDATE2.
TEST_P(Files2, UpdatePostsTagOfReplacedFile) {
  RINGCHECK_RULE("J17 J19");
  REQUIRE_FEATURE("feat_rsrc_tags");
  UniqueFd a = ScratchFile(8), b = ScratchFile(8);
  int fds[1] = {a.get()};
  uint64_t tags[1] = {0xa};
  ASSERT_RESULT(Files2Raw(ring().fd(), fds, tags, 1), 0, "J17");
  int nfds[1] = {b.get()};
  uint64_t ntags[1] = {0xb};
  EXPECT_RESULT(Update2(ring().fd(), 0, nfds, ntags, 1), 1, "J19");
  Cqe first = ReapOne(ring());
  EXPECT_EQ(first.user_data, 0xau) << "J17: tag of the replaced file";
  int clear[1] = {-1};
  EXPECT_RESULT(Update2(ring().fd(), 0, clear, nullptr, 1), 1, "J19");
  Cqe second = ReapOne(ring());
  EXPECT_EQ(second.user_data, 0xbu) << "J19: tag set by the update";
}

// J19: FILES_UPDATE2 wants sizeof(struct io_uring_rsrc_update2) and zero
// reserved fields.
TEST_P(Files2, Update2ValidatesItsArgument) {
  RINGCHECK_RULE("J19");
  int fds[2] = {-1, -1};
  ASSERT_RESULT(Files2Raw(ring().fd(), fds, nullptr, 2), 0, "J19");
  io_uring_rsrc_update2 up = {};
  up.data = reinterpret_cast<uintptr_t>(fds);
  up.nr = 1;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES_UPDATE2, &up, sizeof(up) - 4),
                -EINVAL, "J19: size");
  up.resv = 1;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES_UPDATE2, &up, sizeof(up)),
                -EINVAL, "J19: resv");
  up.resv = 0;
  up.resv2 = 1;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES_UPDATE2, &up, sizeof(up)),
                -EINVAL, "J19: resv2");
  up.resv2 = 0;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILES_UPDATE2, &up, sizeof(up)), 1,
                "J19: the same update, valid");
}

// J18: IORING_RSRC_REGISTER_SPARSE makes nr empty slots without an array;
// an array together with SPARSE is -EINVAL.
TEST_P(Files2, SparseTableHasEmptySlots) {
  RINGCHECK_RULE("J18");
  REQUIRE_FEATURE("rsrc_register_sparse");
  ASSERT_RESULT(Files2Raw(ring().fd(), nullptr, nullptr, 64, IORING_RSRC_REGISTER_SPARSE), 0, "J18");
  UniqueFd f = ScratchFile(8);
  int nfds[1] = {f.get()};
  EXPECT_RESULT(Update2(ring().fd(), 63, nfds, nullptr, 1), 1, "J18: slot 63 exists");
  EXPECT_RESULT(Update2(ring().fd(), 64, nfds, nullptr, 1), -EINVAL, "J18: slot 64 does not");
}

TEST_P(Files2, SparseWithArrayIsInvalid) {
  RINGCHECK_RULE("J18");
  REQUIRE_FEATURE("rsrc_register_sparse");
  int fds[1] = {-1};
  EXPECT_RESULT(Files2Raw(ring().fd(), fds, nullptr, 1, IORING_RSRC_REGISTER_SPARSE), -EINVAL, "J18");
}

// J20: FILE_ALLOC_RANGE validation.
TEST_P(Files2, AllocRangeWithoutTableIsInvalid) {
  RINGCHECK_RULE("J20");
  REQUIRE_FEATURE("register_file_alloc_range");
  io_uring_file_index_range range = {0, 1, 0};
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILE_ALLOC_RANGE, &range, 0), -EINVAL,
                "J20: a range beyond a table of 0 slots");
}

TEST_P(Files2, AllocRangeValidatesItsArgument) {
  RINGCHECK_RULE("J20");
  REQUIRE_FEATURE("register_file_alloc_range");
  int fds[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
  ASSERT_RESULT(Files2Raw(ring().fd(), fds, nullptr, 8), 0, "J20");
  io_uring_file_index_range range = {4, 5, 0};
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILE_ALLOC_RANGE, &range, 0), -EINVAL,
                "J20: 4 + 5 > 8 slots");
  range = {0xffffffffu, 2, 0};
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILE_ALLOC_RANGE, &range, 0),
                -EOVERFLOW, "J20: off + len overflows");
  range = {0, 8, 1};
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILE_ALLOC_RANGE, &range, 0), -EINVAL,
                "J20: resv");
  range = {0, 8, 0};
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILE_ALLOC_RANGE, &range, 1), -EINVAL,
                "J20: nr_args 1");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILE_ALLOC_RANGE, nullptr, 0), -EINVAL,
                "J20: arg NULL");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILE_ALLOC_RANGE, &range, 0), 0,
                "J20: the whole table");
}

// J21: OPENAT with IORING_FILE_INDEX_ALLOC takes slots inside the range
// only, and -ENFILE when the range is full.
TEST_P(Files2, AllocationsStayInsideTheRange) {
  RINGCHECK_RULE("J21");
  REQUIRE_FEATURE("register_file_alloc_range");
  REQUIRE_FEATURE("op_openat");
  int fds[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
  ASSERT_RESULT(Files2Raw(ring().fd(), fds, nullptr, 8), 0, "J21");
  io_uring_file_index_range range = {3, 2, 0};
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_FILE_ALLOC_RANGE, &range, 0), 0, "J21");
  std::set<int> slots;
  for (int i = 0; i < 3; ++i) {
    SubmitOne(ring(), [](io_uring_sqe* sqe) {
      io_uring_prep_openat_direct(sqe, AT_FDCWD, "/dev/null", O_RDONLY, 0,
                                  IORING_FILE_INDEX_ALLOC);
    });
    Cqe c = ReapOne(ring());
    if (i < 2) {
      EXPECT_TRUE(c.res == 3 || c.res == 4) << "J21: allocated slot " << c.res;
      slots.insert(c.res);
    } else {
      EXPECT_RESULT(c.res, -ENFILE, "J21: the range is full");
    }
  }
  EXPECT_EQ(slots.size(), 2u) << "J21: two distinct slots";
}

INSTANTIATE_TEST_SUITE_P(Rings, Files2,
                         ::testing::Values(ConfigNamed("default"), ConfigNamed("sqpoll"),
                                           ConfigNamed("defer_taskrun_single_issuer")),
                         ConfigParamName);

}  // namespace
}  // namespace ringcheck
