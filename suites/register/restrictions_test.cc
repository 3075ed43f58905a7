// IORING_REGISTER_RESTRICTIONS and ENABLE_RINGS on rings created with
// IORING_SETUP_R_DISABLED (io_uring_register(2), io_uring_register_restrictions(3),
// io_uring_enable_rings(3); kernel register.c io_register_restrictions,
// io_parse_restrictions, io_register_enable_rings, __io_uring_register;
// io_uring.c io_check_restriction, io_uring_enter).
#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

#include "harness/configs.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/register/register_util.h"

namespace ringcheck {
namespace {

io_uring_restriction Res(uint16_t type, uint8_t value) {
  io_uring_restriction r = {};
  r.opcode = type;
  r.sqe_op = value;  // one byte union: register_op, sqe_op or sqe_flags
  return r;
}

class Restrictions : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_FEATURE("register_restrictions");
    REQUIRE_FEATURE("setup_r_disabled");
    ASSERT_EQ(Ring::Create(ConfigNamed("r_disabled"), &ring_, /*keep_disabled=*/true), 0);
  }
  long Restrict(const std::vector<io_uring_restriction>& r) {
    return RegisterRaw(ring_->fd(), IORING_REGISTER_RESTRICTIONS, r.data(),
                       static_cast<unsigned>(r.size()));
  }
  long Enable() { return RegisterRaw(ring_->fd(), IORING_REGISTER_ENABLE_RINGS, nullptr, 0); }
  int NopResult(uint8_t flags) {
    SubmitOne(*ring_, [&](io_uring_sqe* sqe) {
      io_uring_prep_nop(sqe);
      sqe->flags = flags;
      sqe->user_data = 8;
    });
    return ReapOne(*ring_).res;
  }
  std::unique_ptr<Ring> ring_;
};

// J43: restrictions on a ring that is already enabled are -EBADFD.
TEST_F(Restrictions, EnabledRingIsBadfd) {
  RINGCHECK_RULE("J43");
  ASSERT_RESULT(Enable(), 0, "J51");
  EXPECT_RESULT(Restrict({Res(IORING_RESTRICTION_SQE_OP, IORING_OP_NOP)}), -EBADFD, "J43");
}

// J44: only one registration of restrictions: the second is -EBUSY.
TEST_F(Restrictions, SecondRegistrationIsBusy) {
  RINGCHECK_RULE("J44");
  ASSERT_RESULT(Restrict({Res(IORING_RESTRICTION_SQE_OP, IORING_OP_NOP)}), 0, "J44");
  EXPECT_RESULT(Restrict({Res(IORING_RESTRICTION_SQE_OP, IORING_OP_NOP)}), -EBUSY, "J44");
}

// J45: an unknown restriction type, or an opcode the kernel does not know,
// is -EINVAL and registers nothing (a valid set may follow).
TEST_F(Restrictions, InvalidEntriesAreRefused) {
  RINGCHECK_RULE("J45");
  EXPECT_RESULT(Restrict({Res(IORING_RESTRICTION_LAST, 0)}), -EINVAL, "J45: unknown type");
  EXPECT_RESULT(Restrict({Res(IORING_RESTRICTION_REGISTER_OP, 250)}), -EINVAL,
                "J45: register op 250");
  EXPECT_RESULT(Restrict({Res(IORING_RESTRICTION_SQE_OP, 250)}), -EINVAL, "J45: sqe op 250");
  EXPECT_RESULT(RegisterRaw(ring_->fd(), IORING_REGISTER_RESTRICTIONS, nullptr, 1), -EINVAL,
                "J45: NULL");
  EXPECT_RESULT(Restrict({Res(IORING_RESTRICTION_SQE_OP, IORING_OP_NOP)}), 0,
                "J45: nothing was registered by the failures");
}

// J46: an SQE opcode not allowed fails with -EACCES; an allowed one runs.
TEST_F(Restrictions, SqeOpOutsideTheSetIsEacces) {
  RINGCHECK_RULE("J46");
  ASSERT_RESULT(Restrict({Res(IORING_RESTRICTION_SQE_OP, IORING_OP_NOP)}), 0, "J46");
  ASSERT_RESULT(Enable(), 0, "J51");
  EXPECT_RESULT(NopResult(0), 0, "J46: NOP allowed");
  Pipe p;
  char buf[4];
  SubmitOne(*ring_, [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, p.read_fd, buf, 4, 0); });
  EXPECT_RESULT(ReapOne(*ring_).res, -EACCES, "J46: READ not allowed");
}

// J47: a register opcode not allowed is -EACCES once the ring is enabled.
TEST_F(Restrictions, RegisterOpOutsideTheSetIsEacces) {
  RINGCHECK_RULE("J47 J50");
  ASSERT_RESULT(Restrict({Res(IORING_RESTRICTION_REGISTER_OP, IORING_REGISTER_PERSONALITY)}), 0,
                "J47");
  std::vector<unsigned char> probe(sizeof(io_uring_probe) + 4 * sizeof(io_uring_probe_op), 0);
  EXPECT_RESULT(RegisterRaw(ring_->fd(), IORING_REGISTER_PROBE, probe.data(), 4), 0,
                "J50: not yet restricted before ENABLE_RINGS");
  ASSERT_RESULT(Enable(), 0, "J51");
  std::fill(probe.begin(), probe.end(), 0);
  EXPECT_RESULT(RegisterRaw(ring_->fd(), IORING_REGISTER_PROBE, probe.data(), 4), -EACCES, "J47");
  EXPECT_SUCCESS(RegisterRaw(ring_->fd(), IORING_REGISTER_PERSONALITY, nullptr, 0),
                 "J47: PERSONALITY allowed");
}

// J48: SQE flags outside allowed|required are -EACCES.
TEST_F(Restrictions, FlagsOutsideAllowedAreEacces) {
  RINGCHECK_RULE("J48");
  ASSERT_RESULT(Restrict({Res(IORING_RESTRICTION_SQE_OP, IORING_OP_NOP),
                          Res(IORING_RESTRICTION_SQE_FLAGS_ALLOWED, IOSQE_IO_DRAIN)}),
                0, "J48");
  ASSERT_RESULT(Enable(), 0, "J51");
  EXPECT_RESULT(NopResult(0), 0, "J48: no flags");
  EXPECT_RESULT(NopResult(IOSQE_IO_DRAIN), 0, "J48: an allowed flag");
  EXPECT_RESULT(NopResult(IOSQE_ASYNC), -EACCES, "J48: ASYNC not allowed");
}

// J49: an SQE without every required flag is -EACCES.
TEST_F(Restrictions, MissingRequiredFlagIsEacces) {
  RINGCHECK_RULE("J49");
  ASSERT_RESULT(Restrict({Res(IORING_RESTRICTION_SQE_OP, IORING_OP_NOP),
                          Res(IORING_RESTRICTION_SQE_FLAGS_REQUIRED, IOSQE_ASYNC)}),
                0, "J49");
  ASSERT_RESULT(Enable(), 0, "J51");
  EXPECT_RESULT(NopResult(0), -EACCES, "J49: ASYNC missing");
  EXPECT_RESULT(NopResult(IOSQE_ASYNC), 0, "J49: ASYNC given");
}

// J51: ENABLE_RINGS takes no argument, works once, and a disabled ring
// refuses submissions with -EBADFD.
TEST_F(Restrictions, DisabledRingRefusesSubmission) {
  RINGCHECK_RULE("J51");
  io_uring_sqe* sqe = io_uring_get_sqe(ring_->get());
  io_uring_prep_nop(sqe);
  EXPECT_RESULT(io_uring_submit(ring_->get()), -EBADFD, "J51: submit while disabled");
}

TEST_F(Restrictions, EnableRingsValidatesAndRunsOnce) {
  RINGCHECK_RULE("J51");
  int dummy = 0;
  EXPECT_RESULT(RegisterRaw(ring_->fd(), IORING_REGISTER_ENABLE_RINGS, &dummy, 0), -EINVAL,
                "J51: arg");
  EXPECT_RESULT(RegisterRaw(ring_->fd(), IORING_REGISTER_ENABLE_RINGS, nullptr, 1), -EINVAL,
                "J51: nr_args");
  EXPECT_RESULT(Enable(), 0, "J51");
  EXPECT_RESULT(Enable(), -EBADFD, "J51: already enabled");
  EXPECT_RESULT(NopResult(0), 0, "J51: enabled ring works");
}

// J52: an SQPOLL ring created disabled consumes the SQEs queued before
// ENABLE_RINGS once enabled, without an SQ_WAKEUP.
TEST(RestrictionsSqpoll, EnablingWakesTheSqThread) {
  RINGCHECK_RULE("J52");
  REQUIRE_FEATURE("register_enable_rings");
  RingConfig config = ConfigNamed("sqpoll");
  config.flags |= IORING_SETUP_R_DISABLED;
  config.name = "sqpoll_r_disabled";
  std::unique_ptr<Ring> ring;
  int ret = Ring::Create(config, &ring, /*keep_disabled=*/true);
  if (ret != 0) GTEST_SKIP() << UnsupportedReason(config);
  io_uring* r = ring->get();
  io_uring_sqe* sqe = io_uring_get_sqe(r);
  io_uring_prep_nop(sqe);
  sqe->user_data = 52;
  // Publish the tail without any io_uring_enter call.
  __atomic_store_n(r->sq.ktail, r->sq.sqe_tail, __ATOMIC_RELEASE);
  ASSERT_RESULT(RegisterRaw(ring->fd(), IORING_REGISTER_ENABLE_RINGS, nullptr, 0), 0, "J52");
  int64_t deadline = MonotonicNs() + 5'000'000'000;
  while (io_uring_cq_ready(r) == 0 && MonotonicNs() < deadline) sched_yield();
  ASSERT_EQ(io_uring_cq_ready(r), 1u) << "J52: the SQ thread did not pick the NOP up";
  io_uring_cqe* cqe = nullptr;
  ASSERT_EQ(io_uring_peek_cqe(r, &cqe), 0);
  EXPECT_EQ(cqe->user_data, 52u);
  io_uring_cqe_seen(r, cqe);
  r->sq.sqe_head = r->sq.sqe_tail;
}

}  // namespace
}  // namespace ringcheck
