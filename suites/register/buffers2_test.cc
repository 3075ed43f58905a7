// IORING_REGISTER_BUFFERS2 and BUFFERS_UPDATE: tags and sparse tables
// (io_uring_register(2), io_uring_register_buffers_tags(3),
// io_uring_register_buffers_update_tag(3); kernel rsrc.c io_register_rsrc,
// io_register_rsrc_update, __io_sqe_buffers_update).
#include <gtest/gtest.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "harness/configs.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/register/register_util.h"

namespace ringcheck {
namespace {

long Buffers2Raw(int ring_fd, const iovec* iov, const uint64_t* tags, unsigned nr,
              unsigned flags = 0) {
  io_uring_rsrc_register rr = {};
  rr.nr = nr;
  rr.flags = flags;
  rr.data = reinterpret_cast<uintptr_t>(iov);
  rr.tags = reinterpret_cast<uintptr_t>(tags);
  return RegisterRaw(ring_fd, IORING_REGISTER_BUFFERS2, &rr, sizeof(rr));
}

long BuffersUpdate(int ring_fd, unsigned offset, const iovec* iov, const uint64_t* tags,
                   unsigned nr) {
  io_uring_rsrc_update2 up = {};
  up.offset = offset;
  up.data = reinterpret_cast<uintptr_t>(iov);
  up.tags = reinterpret_cast<uintptr_t>(tags);
  up.nr = nr;
  return RegisterRaw(ring_fd, IORING_REGISTER_BUFFERS_UPDATE, &up, sizeof(up));
}

class Buffers2 : public RingTest {
 protected:
  void SetUp() override {
    RingTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    REQUIRE_FEATURE("register_buffers2");
    a_.assign(4096, 'a');
    b_.assign(4096, 'b');
  }
  // What WRITE_FIXED from slot `index` at `addr` writes (first byte), or the
  // -errno of its CQE.
  int FirstByteOfSlot(void* addr, int index) {
    Pipe p;
    SubmitOne(ring(), [&](io_uring_sqe* sqe) {
      io_uring_prep_write_fixed(sqe, p.write_fd, addr, 1, 0, index);
      sqe->user_data = 5;
    });
    Cqe c = ReapOne(ring());
    if (c.res != 1) return c.res;
    unsigned char byte = 0;
    if (read(p.read_fd, &byte, 1) != 1) return -1000;
    return byte;
  }
  std::vector<unsigned char> a_, b_;
};

// J31: the argument is sizeof(struct io_uring_rsrc_register), nr not 0.
TEST_P(Buffers2, WrongSizeIsInvalid) {
  RINGCHECK_RULE("J31");
  iovec iov[1] = {{a_.data(), a_.size()}};
  io_uring_rsrc_register rr = {};
  rr.nr = 1;
  rr.data = reinterpret_cast<uintptr_t>(iov);
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_BUFFERS2, &rr, sizeof(rr) - 8), -EINVAL,
                "J31");
  rr.nr = 0;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_BUFFERS2, &rr, sizeof(rr)), -EINVAL,
                "J31: nr 0");
}

// J31, J120: tagged buffers post their tag when unregistered.
TEST_P(Buffers2, UnregisterPostsTags) {
  RINGCHECK_RULE("J31 J120");
  REQUIRE_FEATURE("rsrc_tags_on_unregister");
  iovec iov[2] = {{a_.data(), a_.size()}, {b_.data(), b_.size()}};
  uint64_t tags[2] = {0x21, 0x22};
  ASSERT_RESULT(Buffers2Raw(ring().fd(), iov, tags, 2), 0, "J31");
  EXPECT_EQ(FirstByteOfSlot(b_.data(), 1), 'b') << "J31: slot 1 is buffer b";
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_BUFFERS, nullptr, 0), 0, "J27");
  std::vector<Cqe> got = ring().Reap(2);
  ASSERT_EQ(got.size(), 2u) << "J120: tag CQEs";
  uint64_t sum = got[0].user_data + got[1].user_data;
  EXPECT_EQ(sum, 0x21u + 0x22u) << "J120: both tags";
  EXPECT_RESULT(got[0].res, 0, "J120");
}

// J31: a tag on an empty slot is -EINVAL.
TEST_P(Buffers2, TagOnEmptySlotIsInvalid) {
  RINGCHECK_RULE("J31");
  REQUIRE_FEATURE("feat_rsrc_tags");
  iovec iov[1] = {{nullptr, 0}};
  uint64_t tags[1] = {9};
  EXPECT_RESULT(Buffers2Raw(ring().fd(), iov, tags, 1), -EINVAL, "J31");
}

// J31: IORING_RSRC_REGISTER_SPARSE gives empty slots without an array.
TEST_P(Buffers2, SparseTableHasEmptySlots) {
  RINGCHECK_RULE("J31");
  REQUIRE_FEATURE("rsrc_register_sparse");
  ASSERT_RESULT(Buffers2Raw(ring().fd(), nullptr, nullptr, 8, IORING_RSRC_REGISTER_SPARSE), 0,
                "J31");
  EXPECT_RESULT(FirstByteOfSlot(a_.data(), 3), -EFAULT, "J31: slot 3 is empty");
  iovec iov[1] = {{a_.data(), a_.size()}};
  EXPECT_RESULT(BuffersUpdate(ring().fd(), 3, iov, nullptr, 1), 1, "J32");
  EXPECT_EQ(FirstByteOfSlot(a_.data(), 3), 'a') << "J32: slot 3 filled";
}

// J32: BUFFERS_UPDATE replaces a slot and posts the old buffer's tag.
TEST_P(Buffers2, UpdateReplacesAndPostsOldTag) {
  RINGCHECK_RULE("J32");
  REQUIRE_FEATURE("feat_rsrc_tags");
  iovec iov[1] = {{a_.data(), a_.size()}};
  uint64_t tags[1] = {0x31};
  ASSERT_RESULT(Buffers2Raw(ring().fd(), iov, tags, 1), 0, "J32");
  iovec niov[1] = {{b_.data(), b_.size()}};
  uint64_t ntags[1] = {0x32};
  EXPECT_RESULT(BuffersUpdate(ring().fd(), 0, niov, ntags, 1), 1, "J32");
  Cqe c = ReapOne(ring());
  EXPECT_EQ(c.user_data, 0x31u) << "J32: the replaced buffer's tag";
  EXPECT_EQ(FirstByteOfSlot(b_.data(), 0), 'b') << "J32: slot 0 is now b";
  EXPECT_RESULT(FirstByteOfSlot(a_.data(), 0), -EFAULT, "J32: a is no longer registered");
}

// J33: emptying a tagged slot with an update posts the tag.
TEST_P(Buffers2, EmptyingASlotPostsItsTag) {
  RINGCHECK_RULE("J33");
  REQUIRE_FEATURE("feat_rsrc_tags");
  iovec iov[1] = {{a_.data(), a_.size()}};
  uint64_t tags[1] = {0x33};
  ASSERT_RESULT(Buffers2Raw(ring().fd(), iov, tags, 1), 0, "J31");
  iovec empty[1] = {{nullptr, 0}};
  EXPECT_RESULT(BuffersUpdate(ring().fd(), 0, empty, nullptr, 1), 1, "J32");
  Cqe c = ReapOne(ring());
  EXPECT_EQ(c.user_data, 0x33u) << "J33";
  EXPECT_RESULT(c.res, 0, "J33");
}

// J32: BUFFERS_UPDATE without buffers is -ENXIO, beyond the table -EINVAL.
TEST_P(Buffers2, UpdateRefusals) {
  RINGCHECK_RULE("J32");
  iovec iov[1] = {{a_.data(), a_.size()}};
  EXPECT_RESULT(BuffersUpdate(ring().fd(), 0, iov, nullptr, 1), -ENXIO, "J32: no table");
  ASSERT_RESULT(Buffers2Raw(ring().fd(), iov, nullptr, 1), 0, "J32");
  EXPECT_RESULT(BuffersUpdate(ring().fd(), 1, iov, nullptr, 1), -EINVAL, "J32: slot 1 of 1");
  io_uring_rsrc_update2 up = {};
  up.data = reinterpret_cast<uintptr_t>(iov);
  up.nr = 1;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_BUFFERS_UPDATE, &up, sizeof(up) + 8),
                -EINVAL, "J32: size");
}

INSTANTIATE_TEST_SUITE_P(Rings, Buffers2,
                         ::testing::Values(ConfigNamed("default"), ConfigNamed("sqpoll"),
                                           ConfigNamed("defer_taskrun_single_issuer")),
                         ConfigParamName);

}  // namespace
}  // namespace ringcheck
