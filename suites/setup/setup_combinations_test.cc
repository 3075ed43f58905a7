// io_uring_setup(2) validation of the params struct and of flag
// combinations: rules E1-E12, E21-E27 of spec/setup.md (kernel
// io_uring.c io_uring_setup / io_uring_sanitise_params, sqpoll.c).
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "harness/capabilities.h"
#include "harness/features.h"
#include "harness/fd.h"
#include "harness/matchers.h"
#include "harness/pages.h"
#include "harness/uapi.h"
#include "suites/setup/setup_test_util.h"

namespace ringcheck {
namespace {

TEST(SetupParams, UnreadableParamsAreEfault) {
  RINGCHECK_RULE("E1");
  InaccessiblePage unreadable;
  ASSERT_TRUE(unreadable.ok());
  void* page = unreadable.get();
  EXPECT_RESULT(io_uring_setup(4, static_cast<io_uring_params*>(page)), -EFAULT, "E1");
  // Even with nonsense entries the fault is reported first.
  EXPECT_RESULT(io_uring_setup(0, static_cast<io_uring_params*>(page)), -EFAULT, "E1");
}

TEST(SetupParams, NonZeroReservedWordsAreEinval) {
  RINGCHECK_RULE("E2");
  for (size_t i = 0; i < std::size(io_uring_params{}.resv); ++i) {
    io_uring_params p = Params(0);
    p.resv[i] = 1;
    EXPECT_RESULT(TrySetup(4, p).result, -EINVAL, "E2") << "resv[" << i << "]";
  }
}

// E3 is read, not provoked: changing kernel.io_uring_disabled would disturb
// every other test running on the machine.
TEST(SetupParams, SetupAllowedWhenSysctlSaysSo) {
  RINGCHECK_RULE("E3");
  if (Caps().io_uring_disabled < 0) GTEST_SKIP() << "unsupported:sysctl_io_uring_disabled";
  const int disabled = Caps().io_uring_disabled;
  const int result = SetupWith(0);
  if (disabled == 0 || (disabled == 1 && Caps().cap_sys_admin)) {
    EXPECT_SUCCESS(result, "E3");
  } else {
    EXPECT_RESULT(result, -EPERM, "E3");
  }
}

TEST(SetupFlags, UnknownFlagBitsAreEinval) {
  RINGCHECK_RULE("E4");
  for (unsigned bit = 26; bit < 32; ++bit) {
    EXPECT_RESULT(SetupWith(1U << bit), -EINVAL, "E4") << "flag bit " << bit;
  }
}

TEST(SetupFlags, RegisteredFdOnlyNeedsNoMmap) {
  RINGCHECK_RULE("E5");
  REQUIRE_FEATURE("setup_registered_fd_only");
  EXPECT_RESULT(SetupWith(IORING_SETUP_REGISTERED_FD_ONLY), -EINVAL, "E5");
}

TEST(SetupFlags, SqpollRefusesCoopTaskrun) {
  RINGCHECK_RULE("E6");
  REQUIRE_FEATURE("setup_coop_taskrun");
  EXPECT_RESULT(SetupWith(IORING_SETUP_SQPOLL | IORING_SETUP_COOP_TASKRUN), -EINVAL, "E6");
  EXPECT_RESULT(SetupWith(IORING_SETUP_SQPOLL | IORING_SETUP_COOP_TASKRUN |
                          IORING_SETUP_TASKRUN_FLAG),
                -EINVAL, "E6");
}

TEST(SetupFlags, SqpollRefusesDeferTaskrun) {
  RINGCHECK_RULE("E7");
  REQUIRE_FEATURE("setup_defer_taskrun");
  EXPECT_RESULT(SetupWith(IORING_SETUP_SQPOLL | IORING_SETUP_SINGLE_ISSUER |
                          IORING_SETUP_DEFER_TASKRUN),
                -EINVAL, "E7");
}

TEST(SetupFlags, TaskrunFlagNeedsCoopOrDeferTaskrun) {
  RINGCHECK_RULE("E8");
  REQUIRE_FEATURE("setup_taskrun_flag");
  EXPECT_RESULT(SetupWith(IORING_SETUP_TASKRUN_FLAG), -EINVAL, "E8");
  EXPECT_SUCCESS(SetupWith(IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_COOP_TASKRUN), "E8");
}

TEST(SetupFlags, TaskrunFlagAcceptedWithDeferTaskrun) {
  RINGCHECK_RULE("E8");
  REQUIRE_FEATURE("setup_defer_taskrun");
  EXPECT_SUCCESS(SetupWith(IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_DEFER_TASKRUN |
                           IORING_SETUP_SINGLE_ISSUER),
                 "E8");
}

TEST(SetupFlags, HybridIopollNeedsIopoll) {
  RINGCHECK_RULE("E9");
  REQUIRE_FEATURE("setup_hybrid_iopoll");
  EXPECT_RESULT(SetupWith(IORING_SETUP_HYBRID_IOPOLL), -EINVAL, "E9");
}

TEST(SetupFlags, DeferTaskrunNeedsSingleIssuer) {
  RINGCHECK_RULE("E10");
  REQUIRE_FEATURE("setup_defer_taskrun");
  EXPECT_RESULT(SetupWith(IORING_SETUP_DEFER_TASKRUN), -EINVAL, "E10");
}

TEST(SetupFlags, Cqe32AndCqeMixedExcludeEachOther) {
  RINGCHECK_RULE("E11");
  REQUIRE_FEATURE("setup_cqe_mixed");
  EXPECT_RESULT(SetupWith(IORING_SETUP_CQE32 | IORING_SETUP_CQE_MIXED), -EINVAL, "E11");
}

TEST(SetupFlags, Sqe128AndSqeMixedExcludeEachOther) {
  RINGCHECK_RULE("E12");
  REQUIRE_FEATURE("setup_sqe_mixed");
  EXPECT_RESULT(SetupWith(IORING_SETUP_SQE128 | IORING_SETUP_SQE_MIXED), -EINVAL, "E12");
}

// E21: NO_MMAP memory that is missing or misaligned.
TEST(SetupNoMmap, MissingUserMemoryIsEfault) {
  RINGCHECK_RULE("E21 A12");
  REQUIRE_FEATURE("setup_no_mmap");
  EXPECT_RESULT(TrySetup(4, Params(IORING_SETUP_NO_MMAP), /*provide_memory=*/false).result,
                -EFAULT, "E21");
}

TEST(SetupNoMmap, MisalignedUserMemoryIsEinval) {
  RINGCHECK_RULE("E21 A11");
  REQUIRE_FEATURE("setup_no_mmap");
  constexpr size_t kSize = 1 << 20;
  void* mem = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  io_uring_params p = Params(IORING_SETUP_NO_MMAP);
  p.sq_off.user_addr = reinterpret_cast<uint64_t>(mem) + 64;
  p.cq_off.user_addr = reinterpret_cast<uint64_t>(mem) + kSize / 2 + 64;
  EXPECT_RESULT(TrySetup(4, p, false).result, -EINVAL, "E21");
  munmap(mem, kSize);
}

TEST(SetupNoMmap, UnmappedUserMemoryIsEfault) {
  RINGCHECK_RULE("E21");
  REQUIRE_FEATURE("setup_no_mmap");
  constexpr size_t kSize = 1 << 20;
  void* mem = mmap(nullptr, kSize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  munmap(mem, kSize);  // aligned, but nothing there to pin
  io_uring_params p = Params(IORING_SETUP_NO_MMAP);
  p.sq_off.user_addr = reinterpret_cast<uint64_t>(mem);
  p.cq_off.user_addr = reinterpret_cast<uint64_t>(mem) + kSize / 2;
  EXPECT_RESULT(TrySetup(4, p, false).result, -EFAULT, "E21");
}

TEST(SetupAttachWq, ClosedFdIsEnxio) {
  RINGCHECK_RULE("E22");
  REQUIRE_FEATURE("setup_attach_wq");
  int fd = dup(0);
  ASSERT_GE(fd, 0);
  close(fd);  // a number that is certainly not open now
  io_uring_params p = Params(IORING_SETUP_ATTACH_WQ);
  p.wq_fd = static_cast<uint32_t>(fd);
  EXPECT_RESULT(TrySetup(4, p).result, -ENXIO, "E22");
}

TEST(SetupAttachWq, NonRingFdIsEinval) {
  RINGCHECK_RULE("E22");
  REQUIRE_FEATURE("setup_attach_wq");
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  io_uring_params p = Params(IORING_SETUP_ATTACH_WQ);
  p.wq_fd = static_cast<uint32_t>(a.get());
  EXPECT_RESULT(TrySetup(4, p).result, -EINVAL, "E22");
}

TEST(SetupAttachWq, AnotherRingIsAccepted) {
  RINGCHECK_RULE("E22");
  REQUIRE_FEATURE("setup_attach_wq");
  io_uring_params first = Params(0);
  UniqueFd ring(io_uring_setup(4, &first));
  ASSERT_TRUE(ring.valid());
  io_uring_params p = Params(IORING_SETUP_ATTACH_WQ);
  p.wq_fd = static_cast<uint32_t>(ring.get());
  EXPECT_SUCCESS(TrySetup(4, p).result, "E22");
}

TEST(SetupSqpoll, SqAffWithoutSqpollIsEinval) {
  RINGCHECK_RULE("E23");
  EXPECT_RESULT(SetupWith(IORING_SETUP_SQ_AFF), -EINVAL, "E23");
}

TEST(SetupSqpoll, SqAffOnImpossibleCpuIsEinval) {
  RINGCHECK_RULE("E24");
  REQUIRE_FEATURE("setup_sq_aff");
  io_uring_params p = Params(IORING_SETUP_SQPOLL | IORING_SETUP_SQ_AFF);
  p.sq_thread_cpu = 9999;
  EXPECT_RESULT(TrySetup(4, p).result, -EINVAL, "E24");
}

TEST(SetupSqpoll, SqAffOnAllowedCpuIsAccepted) {
  RINGCHECK_RULE("E24");
  REQUIRE_FEATURE("setup_sq_aff");
  io_uring_params p = Params(IORING_SETUP_SQPOLL | IORING_SETUP_SQ_AFF);
  p.sq_thread_cpu = static_cast<uint32_t>(FirstAllowedCpu());
  EXPECT_SUCCESS(TrySetup(4, p).result, "E24");
}

// E26: REGISTERED_FD_ONLY needs a free slot in the calling task's table of
// 16; in a thread of its own so no other test's slots are involved.
TEST(SetupRegisteredFdOnly, FullSlotTableIsEbusy) {
  RINGCHECK_RULE("E26 B20");
  REQUIRE_FEATURE("setup_registered_fd_only");
  int full_result = 0, slot_result = 0;
  std::thread t([&] {
    io_uring_params base = Params(0);
    UniqueFd ring(io_uring_setup(4, &base));
    if (!ring.valid()) {
      slot_result = -errno;
      return;
    }
    for (int i = 0; i < 16; ++i) {
      io_uring_rsrc_update up{};
      up.offset = -1U;
      up.data = static_cast<uint64_t>(ring.get());
      int r = io_uring_register(ring.get(), IORING_REGISTER_RING_FDS, &up, 1);
      if (r != 1) {
        slot_result = r;
        return;
      }
    }
    // Thread exit releases the slots.
    full_result = SetupWith(IORING_SETUP_REGISTERED_FD_ONLY | IORING_SETUP_NO_MMAP);
  });
  t.join();
  ASSERT_EQ(slot_result, 0) << "could not fill the 16 slots: " << ResultName(slot_result);
  EXPECT_RESULT(full_result, -EBUSY, "E26");
}

TEST(SetupRegisteredFdOnly, ReturnsASlotIndex) {
  RINGCHECK_RULE("E26 B20");
  REQUIRE_FEATURE("setup_registered_fd_only");
  int result = -1;
  std::thread t([&] { result = SetupWith(IORING_SETUP_REGISTERED_FD_ONLY | IORING_SETUP_NO_MMAP); });
  t.join();
  EXPECT_GE(result, 0) << ResultName(result);
  EXPECT_LT(result, 16) << "rule B20: the result is a registered-ring index 0..15";
}

// E27: combinations the kernel must accept once it has each flag.
struct Combination {
  const char* name;
  uint32_t flags;
};

class AcceptedCombination : public ::testing::TestWithParam<Combination> {};

TEST_P(AcceptedCombination, IsAccepted) {
  RINGCHECK_RULE("E27");
  const uint32_t missing = Caps().UnsupportedSetupFlags(GetParam().flags);
  if (missing != 0) GTEST_SKIP() << "unsupported:setup_" << SetupFlagsString(missing);
  EXPECT_SUCCESS(SetupWith(GetParam().flags), "E27") << SetupFlagsString(GetParam().flags);
}

constexpr Combination kAccepted[] = {
    {"defer_single", IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER},
    {"defer_single_coop", IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER |
                              IORING_SETUP_COOP_TASKRUN},
    {"defer_single_coop_taskrun_flag", IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER |
                                           IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG},
    {"defer_single_iopoll",
     IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_IOPOLL},
    {"sqpoll_single", IORING_SETUP_SQPOLL | IORING_SETUP_SINGLE_ISSUER},
    {"hybrid_iopoll", IORING_SETUP_HYBRID_IOPOLL | IORING_SETUP_IOPOLL},
    {"no_sqarray", IORING_SETUP_NO_SQARRAY},
    {"sqe128", IORING_SETUP_SQE128},
    {"cqe32", IORING_SETUP_CQE32},
    {"cqe_mixed", IORING_SETUP_CQE_MIXED},
    {"r_disabled", IORING_SETUP_R_DISABLED},
    {"submit_all", IORING_SETUP_SUBMIT_ALL},
    {"sqe128_cqe32_no_sqarray",
     IORING_SETUP_SQE128 | IORING_SETUP_CQE32 | IORING_SETUP_NO_SQARRAY},
    {"no_mmap_registered_fd_only", IORING_SETUP_NO_MMAP | IORING_SETUP_REGISTERED_FD_ONLY},
};

INSTANTIATE_TEST_SUITE_P(E27, AcceptedCombination, ::testing::ValuesIn(kAccepted),
                         [](const ::testing::TestParamInfo<Combination>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace ringcheck
