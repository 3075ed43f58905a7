// IORING_REGISTER_RESIZE_RINGS and IORING_REGISTER_MEM_REGION with
// IORING_ENTER_EXT_ARG_REG (io_uring_register(2), io_uring_resize_rings(3),
// io_uring_register_region(3); kernel register.c io_register_resize_rings,
// io_register_mem_region; memmap.c io_create_region; io_uring.c
// io_get_ext_arg_reg).
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cerrno>
#include <vector>

#include "harness/configs.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/register/register_util.h"

namespace ringcheck {
namespace {

long ResizeRaw(int fd, unsigned sq, unsigned cq, unsigned flags, io_uring_params* out = nullptr) {
  io_uring_params p = {};
  p.sq_entries = sq;
  p.cq_entries = cq;
  p.flags = flags;
  long r = RegisterRaw(fd, IORING_REGISTER_RESIZE_RINGS, &p, 1);
  if (out != nullptr) *out = p;
  return r;
}

class Resize : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_FEATURE("register_resize_rings");
    std::string why;
    if (CreateRingForTest(ConfigNamed("defer_taskrun_single_issuer"), &ring_, &why) != 0)
      GTEST_SKIP() << why;
  }
  std::unique_ptr<Ring> ring_;
};

// J61: only DEFER_TASKRUN rings can be resized: others (SQPOLL included)
// get -EINVAL.
TEST(ResizeRefused, RingsWithoutDeferTaskrunAreInvalid) {
  RINGCHECK_RULE("J61");
  REQUIRE_FEATURE("register_resize_rings");
  for (const char* name : {"default", "sqpoll", "coop_taskrun"}) {
    std::unique_ptr<Ring> ring;
    std::string why;
    if (CreateRingForTest(ConfigNamed(name), &ring, &why) != 0) continue;
    EXPECT_RESULT(ResizeRaw(ring->fd(), 16, 32, IORING_SETUP_CQSIZE), -EINVAL,
                  std::string("J61: ") + name);
  }
}

// J62: nr_args must be 1, flags only CQSIZE and CLAMP.
TEST_F(Resize, ArgumentsAreValidated) {
  RINGCHECK_RULE("J62");
  io_uring_params p = {};
  p.sq_entries = 16;
  EXPECT_RESULT(RegisterRaw(ring_->fd(), IORING_REGISTER_RESIZE_RINGS, &p, 0), -EINVAL, "J62: nr 0");
  EXPECT_RESULT(RegisterRaw(ring_->fd(), IORING_REGISTER_RESIZE_RINGS, nullptr, 1), -EINVAL,
                "J62: NULL");
  EXPECT_RESULT(ResizeRaw(ring_->fd(), 16, 0, IORING_SETUP_SQPOLL), -EINVAL, "J62: SQPOLL flag");
  EXPECT_RESULT(ResizeRaw(ring_->fd(), 16, 0, IORING_SETUP_SQE128), -EINVAL, "J62: SQE128 flag");
}

// J65: sizes follow setup's rules: 0 is -EINVAL, more than the maximum is
// -EINVAL unless CLAMP, which clamps.
TEST_F(Resize, SizesFollowSetupRules) {
  RINGCHECK_RULE("J65");
  EXPECT_RESULT(ResizeRaw(ring_->fd(), 0, 0, 0), -EINVAL, "J65: 0 entries");
  EXPECT_RESULT(ResizeRaw(ring_->fd(), 65536, 0, 0), -EINVAL, "J65: 65536 SQ entries");
  EXPECT_RESULT(ResizeRaw(ring_->fd(), 16, 8, IORING_SETUP_CQSIZE), -EINVAL,
                "J65: CQ smaller than SQ");
}

// J63: a resize keeps the CQEs not yet reaped, reports the new sizes, and
// the ring works at the new size.
TEST_F(Resize, PendingCompletionsSurvive) {
  RINGCHECK_RULE("J63");
  ASSERT_EQ(SubmitNops(*ring_, 4, 100), 4);
  io_uring_params p = {};
  p.sq_entries = 32;
  p.cq_entries = 128;
  p.flags = IORING_SETUP_CQSIZE;
  ASSERT_RESULT(io_uring_resize_rings(ring_->get(), &p), 0, "J63");
  EXPECT_EQ(p.sq_entries, 32u) << "J63";
  EXPECT_EQ(p.cq_entries, 128u) << "J63";
  EXPECT_EQ(*ring_->get()->sq.kring_entries, 32u) << "J63: the SQ ring says so";
  EXPECT_EQ(*ring_->get()->cq.kring_entries, 128u) << "J63: the CQ ring says so";
  std::vector<Cqe> got = ring_->Reap(4);
  ASSERT_EQ(got.size(), 4u) << "J63: pending CQEs lost";
  for (unsigned i = 0; i < 4; ++i) EXPECT_EQ(got[i].user_data, 100u + i) << "J63";
  ASSERT_EQ(SubmitNops(*ring_, 32, 200), 32) << "J63: 32 SQEs at once";
  EXPECT_EQ(ring_->Reap(32).size(), 32u) << "J63";
}

// J63: the ring can shrink too.
TEST_F(Resize, RingShrinks) {
  RINGCHECK_RULE("J63");
  io_uring_params p = {};
  p.sq_entries = 2;
  p.cq_entries = 4;
  p.flags = IORING_SETUP_CQSIZE;
  ASSERT_RESULT(io_uring_resize_rings(ring_->get(), &p), 0, "J63");
  EXPECT_EQ(*ring_->get()->cq.kring_entries, 4u) << "J63";
  ASSERT_EQ(SubmitNops(*ring_, 2, 1), 2);
  EXPECT_EQ(ring_->Reap(2).size(), 2u) << "J63";
}

// J64: a CQ too small for the CQEs waiting in it is -EOVERFLOW, and the
// ring stays as it was.
TEST_F(Resize, TooSmallForPendingIsOverflow) {
  RINGCHECK_RULE("J64");
  ASSERT_EQ(SubmitNops(*ring_, 8, 1), 8);
  unsigned before = *ring_->get()->cq.kring_entries;
  EXPECT_RESULT(ResizeRaw(ring_->fd(), 2, 4, IORING_SETUP_CQSIZE), -EOVERFLOW, "J64");
  EXPECT_EQ(*ring_->get()->cq.kring_entries, before) << "J64: ring changed";
  EXPECT_EQ(ring_->Reap(8).size(), 8u) << "J64: CQEs lost";
}

class MemRegion : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_FEATURE("register_mem_region");
    RingConfig config = ConfigNamed("r_disabled");
    ASSERT_EQ(Ring::Create(config, &ring_, /*keep_disabled=*/true), 0);
    mem_ = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem_, MAP_FAILED);
    desc_.user_addr = reinterpret_cast<uintptr_t>(mem_);
    desc_.size = 4096;
    desc_.flags = IORING_MEM_REGION_TYPE_USER;
    reg_.region_uptr = reinterpret_cast<uintptr_t>(&desc_);
    reg_.flags = IORING_MEM_REGION_REG_WAIT_ARG;
  }
  void TearDown() override {
    ring_.reset();
    if (mem_ != nullptr && mem_ != MAP_FAILED) munmap(mem_, 4096);
  }
  long Register() { return RegisterRaw(ring_->fd(), IORING_REGISTER_MEM_REGION, &reg_, 1); }
  long Enable() { return RegisterRaw(ring_->fd(), IORING_REGISTER_ENABLE_RINGS, nullptr, 0); }
  io_uring_reg_wait* Slot(unsigned i) { return static_cast<io_uring_reg_wait*>(mem_) + i; }
  long WaitReg(size_t offset, size_t argsz = sizeof(io_uring_reg_wait)) {
    // EXT_ARG_REG qualifies EXT_ARG: without EXT_ARG the argument would be
    // read as a signal mask.
    return EnterRaw(ring_->fd(), 0, 1,
                    IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG | IORING_ENTER_EXT_ARG_REG,
                    reinterpret_cast<void*>(offset), argsz);
  }
  std::unique_ptr<Ring> ring_;
  void* mem_ = nullptr;
  io_uring_region_desc desc_ = {};
  io_uring_mem_region_reg reg_ = {};
};

// J66: nr_args 1, zero reserved fields, known flags; one region per ring.
TEST_F(MemRegion, ArgumentsAreValidated) {
  RINGCHECK_RULE("J66");
  EXPECT_RESULT(RegisterRaw(ring_->fd(), IORING_REGISTER_MEM_REGION, &reg_, 0), -EINVAL, "J66: nr 0");
  reg_.__resv[0] = 1;
  EXPECT_RESULT(Register(), -EINVAL, "J66: resv");
  reg_.__resv[0] = 0;
  reg_.flags = 2;
  EXPECT_RESULT(Register(), -EINVAL, "J66: unknown flag");
  reg_.flags = IORING_MEM_REGION_REG_WAIT_ARG;
  EXPECT_RESULT(Register(), 0, "J66");
  EXPECT_RESULT(Register(), -EBUSY, "J66: second region");
}

// J67: a wait-argument region needs a ring still disabled.
TEST_F(MemRegion, WaitRegionOnEnabledRingIsInvalid) {
  RINGCHECK_RULE("J67");
  ASSERT_RESULT(Enable(), 0, "J51");
  EXPECT_RESULT(Register(), -EINVAL, "J67");
}

// J68: EXT_ARG_REG reads the wait argument at an offset in the region: its
// timeout ends the wait with -ETIME.
TEST_F(MemRegion, RegisteredTimeoutEndsTheWait) {
  RINGCHECK_RULE("J68");
  ASSERT_RESULT(Register(), 0, "J66");
  ASSERT_RESULT(Enable(), 0, "J51");
  Slot(1)->ts.tv_sec = 0;
  Slot(1)->ts.tv_nsec = 100'000'000;
  Slot(1)->flags = IORING_REG_WAIT_TS;
  int64_t t0 = MonotonicNs();
  EXPECT_RESULT(WaitReg(sizeof(io_uring_reg_wait)), -ETIME, "J68");
  double ms = ElapsedMs(t0);
  EXPECT_GE(ms, 80) << "J68: returned early";
  EXPECT_LT(ms, 3000) << "J68: returned late";
}

// J68: a completion ends the wait before the timeout.
TEST_F(MemRegion, CompletionEndsTheWait) {
  RINGCHECK_RULE("J68");
  ASSERT_RESULT(Register(), 0, "J66");
  ASSERT_RESULT(Enable(), 0, "J51");
  Slot(0)->ts.tv_sec = 10;
  Slot(0)->flags = IORING_REG_WAIT_TS;
  ASSERT_EQ(SubmitNops(*ring_, 1), 1);
  EXPECT_RESULT(WaitReg(0), 0, "J68");
  EXPECT_EQ(ring_->Drain().size(), 1u);
}

// J69: an offset past the region, a wrong argsz, or no region at all.
TEST_F(MemRegion, BadOffsetsAreRefused) {
  RINGCHECK_RULE("J69");
  ASSERT_RESULT(Enable(), 0, "J51");
  EXPECT_RESULT(WaitReg(0), -EFAULT, "J69: no region registered");
  ring_.reset();
  ASSERT_EQ(Ring::Create(ConfigNamed("r_disabled"), &ring_, true), 0);
  ASSERT_RESULT(Register(), 0, "J66");
  ASSERT_RESULT(Enable(), 0, "J51");
  EXPECT_RESULT(WaitReg(4096), -EFAULT, "J69: past the end");
  EXPECT_RESULT(WaitReg(4096 - sizeof(io_uring_reg_wait) / 2), -EFAULT, "J69: straddles the end");
  EXPECT_RESULT(WaitReg(4), -EFAULT, "J69: not aligned to a long");
  EXPECT_RESULT(WaitReg(0, sizeof(io_uring_reg_wait) + 8), -EINVAL, "J69: argsz");
}

}  // namespace
}  // namespace ringcheck
