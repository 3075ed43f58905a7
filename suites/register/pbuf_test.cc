// IORING_REGISTER_PBUF_RING, UNREGISTER_PBUF_RING and PBUF_STATUS
// (io_uring_register(2), io_uring_register_buf_ring(3),
// io_uring_buf_ring_head(3); kernel kbuf.c io_register_pbuf_ring,
// io_unregister_pbuf_ring, io_register_pbuf_status, io_kbuf_inc_commit).
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "harness/bufring.h"
#include "harness/configs.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/register/register_util.h"

namespace ringcheck {
namespace {

class PbufRing : public RingTest {
 protected:
  void SetUp() override {
    RingTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    REQUIRE_FEATURE("register_pbuf_ring");
    mem_ = mmap(nullptr, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem_, MAP_FAILED);
  }
  void TearDown() override {
    ring_.reset();
    if (mem_ != nullptr && mem_ != MAP_FAILED) munmap(mem_, 65536);
  }
  long Reg(unsigned entries, uint16_t bgid, uint16_t flags = 0, void* addr = nullptr,
           unsigned nr = 1) {
    io_uring_buf_reg reg = {};
    reg.ring_addr = reinterpret_cast<uintptr_t>(addr != nullptr ? addr : mem_);
    reg.ring_entries = entries;
    reg.bgid = bgid;
    reg.flags = flags;
    return RegisterRaw(ring().fd(), IORING_REGISTER_PBUF_RING, &reg, nr);
  }
  long Unreg(uint16_t bgid) {
    io_uring_buf_reg reg = {};
    reg.bgid = bgid;
    return RegisterRaw(ring().fd(), IORING_UNREGISTER_PBUF_RING, &reg, 1);
  }
  // A READ of `len` bytes from a pipe holding `data`, selecting from `bgid`.
  Cqe SelectRead(uint16_t bgid, const char* data, unsigned len) {
    Pipe p;
    if (data != nullptr && write(p.write_fd, data, std::strlen(data)) < 0) return Cqe{};
    SubmitOne(ring(), [&](io_uring_sqe* sqe) {
      io_uring_prep_read(sqe, p.read_fd, nullptr, len, 0);
      sqe->flags |= IOSQE_BUFFER_SELECT;
      sqe->buf_group = bgid;
      sqe->user_data = 0xb0;
    });
    return ReapOne(ring());
  }
  void* mem_ = nullptr;
};

// J70: sizes and fields are validated.
TEST_P(PbufRing, RegistrationIsValidated) {
  RINGCHECK_RULE("J70");
  EXPECT_RESULT(Reg(6, 1), -EINVAL, "J70: 6 entries, not a power of two");
  EXPECT_RESULT(Reg(0, 1), -EINVAL, "J70: 0 entries");
  EXPECT_RESULT(Reg(65536, 1), -EINVAL, "J70: 65536 entries");
  EXPECT_RESULT(Reg(8, 1, 0, static_cast<char*>(mem_) + 64), -EINVAL, "J70: address not page aligned");
  EXPECT_RESULT(Reg(8, 1, 0x80), -EINVAL, "J70: unknown flag");
  EXPECT_RESULT(Reg(8, 1, 0, nullptr, 2), -EINVAL, "J70: nr_args 2");
  io_uring_buf_reg reg = {};
  reg.ring_addr = reinterpret_cast<uintptr_t>(mem_);
  reg.ring_entries = 8;
  reg.resv[2] = 1;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_PBUF_RING, &reg, 1), -EINVAL, "J70: resv");
  EXPECT_RESULT(Reg(8, 1), 0, "J70: a valid ring");
}

// J71: a group id already in use is -EEXIST.
TEST_P(PbufRing, GroupInUseIsExist) {
  RINGCHECK_RULE("J71");
  ASSERT_RESULT(Reg(8, 4), 0, "J71");
  void* other = static_cast<char*>(mem_) + 32768;
  EXPECT_RESULT(Reg(8, 4, 0, other), -EEXIST, "J71");
  EXPECT_RESULT(Reg(8, 5, 0, other), 0, "J71: another group id");
}

// J72: buffers added to the ring are selected by READ with BUFFER_SELECT.
TEST_P(PbufRing, ReadsSelectRingBuffers) {
  RINGCHECK_RULE("J72");
  std::unique_ptr<BufRing> br;
  ASSERT_EQ(BufRing::Create(ring(), 7, 8, 0, &br), 0);
  br->Add(3, 64);
  Cqe c = SelectRead(7, "hello", 5);
  ASSERT_RESULT(c.res, 5, "J72");
  ASSERT_TRUE(c.flags & IORING_CQE_F_BUFFER) << "J72";
  EXPECT_EQ(c.flags >> IORING_CQE_BUFFER_SHIFT, 3u) << "J72: bid";
  EXPECT_EQ(0, std::memcmp(br->Data(3), "hello", 5)) << "J72";
  EXPECT_RESULT(SelectRead(7, "x", 1).res, -ENOBUFS, "J72: ring empty");
}

// J72: with IOU_PBUF_RING_MMAP the kernel allocates the ring and the
// application maps it at IORING_OFF_PBUF_RING | bgid << IORING_OFF_PBUF_SHIFT.
TEST_P(PbufRing, KernelAllocatedRingIsMapped) {
  RINGCHECK_RULE("J72");
  REQUIRE_FEATURE("pbuf_ring_mmap");
  io_uring_buf_reg reg = {};
  reg.ring_entries = 8;
  reg.bgid = 9;
  reg.flags = IOU_PBUF_RING_MMAP;
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_PBUF_RING, &reg, 1), 0, "J72");
  size_t size = 8 * sizeof(io_uring_buf);
  off_t off = static_cast<off_t>(IORING_OFF_PBUF_RING | (uint64_t{9} << IORING_OFF_PBUF_SHIFT));
  void* map = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring().fd(), off);
  ASSERT_NE(map, MAP_FAILED) << "J72: " << std::strerror(errno);
  auto* br = static_cast<io_uring_buf_ring*>(map);
  io_uring_buf_ring_init(br);
  char* buf = static_cast<char*>(mem_);
  io_uring_buf_ring_add(br, buf, 64, 2, io_uring_buf_ring_mask(8), 0);
  io_uring_buf_ring_advance(br, 1);
  Cqe c = SelectRead(9, "mapped", 6);
  EXPECT_RESULT(c.res, 6, "J72");
  EXPECT_EQ(0, std::memcmp(buf, "mapped", 6)) << "J72";
  munmap(map, size);
}

// J73: unregistering an unknown group is -ENOENT; after unregistering,
// selection from the group is -ENOBUFS.
TEST_P(PbufRing, UnregisterRemovesTheGroup) {
  RINGCHECK_RULE("J73");
  // Group 100: ids below 64 once lived in a fixed array where a group
  // unregistered before answered -EINVAL (6.1).
  EXPECT_RESULT(Unreg(100), -ENOENT, "J73: unknown group");
  ASSERT_RESULT(Reg(8, 100), 0, "J70");
  EXPECT_RESULT(Unreg(100), 0, "J73");
  EXPECT_RESULT(SelectRead(100, "x", 1).res, -ENOBUFS, "J73: the group is gone");
  EXPECT_RESULT(Unreg(100), -ENOENT, "J73: twice");
}

// J74: an incremental ring (IOU_PBUF_RING_INC) consumes a buffer in parts:
// a short read keeps the buffer (CQE F_BUF_MORE), the next read continues
// where the last one stopped.
TEST_P(PbufRing, IncrementalRingConsumesInParts) {
  RINGCHECK_RULE("J74");
  REQUIRE_FEATURE("pbuf_ring_inc");
  std::unique_ptr<BufRing> br;
  ASSERT_EQ(BufRing::Create(ring(), 12, 8, IOU_PBUF_RING_INC, &br), 0);
  br->Add(1, 64);
  Cqe first = SelectRead(12, "abcd", 4);
  ASSERT_RESULT(first.res, 4, "J74");
  EXPECT_TRUE(first.flags & IORING_CQE_F_BUF_MORE) << "J74: buffer 1 not kept";
  Cqe second = SelectRead(12, "efgh", 4);
  ASSERT_RESULT(second.res, 4, "J74");
  EXPECT_EQ(second.flags >> IORING_CQE_BUFFER_SHIFT, 1u) << "J74: same buffer";
  EXPECT_EQ(0, std::memcmp(br->Data(1), "abcdefgh", 8)) << "J74: appended";
}

// J75: PBUF_STATUS reports the kernel's head of a ring: how many buffers it
// consumed.
TEST_P(PbufRing, StatusReportsTheHead) {
  RINGCHECK_RULE("J75");
  REQUIRE_FEATURE("register_pbuf_status");
  std::unique_ptr<BufRing> br;
  ASSERT_EQ(BufRing::Create(ring(), 13, 8, 0, &br), 0);
  for (uint16_t bid = 0; bid < 4; ++bid) br->Add(bid, 16);
  io_uring_buf_status st = {};
  st.buf_group = 13;
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_PBUF_STATUS, &st, 1), 0, "J75");
  EXPECT_EQ(st.head, 0u) << "J75: nothing consumed";
  ASSERT_EQ(SelectRead(13, "a", 1).res, 1);
  ASSERT_EQ(SelectRead(13, "b", 1).res, 1);
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_PBUF_STATUS, &st, 1), 0, "J75");
  EXPECT_EQ(st.head, 2u) << "J75: two consumed";
}

TEST_P(PbufRing, StatusIsValidated) {
  RINGCHECK_RULE("J75");
  REQUIRE_FEATURE("register_pbuf_status");
  io_uring_buf_status st = {};
  st.buf_group = 14;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_PBUF_STATUS, &st, 1), -ENOENT,
                "J75: unknown group");
  ASSERT_RESULT(Reg(8, 14), 0, "J70");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_PBUF_STATUS, &st, 0), -EINVAL,
                "J75: nr_args 0");
  st.resv[3] = 1;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_PBUF_STATUS, &st, 1), -EINVAL,
                "J75: resv");
}

INSTANTIATE_TEST_SUITE_P(Rings, PbufRing,
                         ::testing::Values(ConfigNamed("default"), ConfigNamed("sqpoll"),
                                           ConfigNamed("defer_taskrun_single_issuer")),
                         ConfigParamName);

}  // namespace
}  // namespace ringcheck
