// The smaller register opcodes: PROBE, QUERY, NAPI, CLOCK, SYNC_CANCEL,
// SEND_MSG_RING, RING_FDS, CLONE_BUFFERS, ZCRX_IFQ, and what every opcode
// shares (io_uring_register(2); kernel register.c SYSCALL io_uring_register,
// io_probe, io_register_clock, io_uring_register_blind; query.c io_query;
// napi.c io_register_napi, io_unregister_napi; cancel.c io_sync_cancel;
// msg_ring.c io_uring_sync_msg_ring; zcrx.c io_register_zcrx_ifq).
#include <gtest/gtest.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "harness/configs.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/uapi.h"
#include "suites/register/register_util.h"

namespace ringcheck {
namespace {

class RegisterMisc : public RingTest {};

// J1: an opcode at or past IORING_REGISTER_LAST is -EINVAL.
TEST_P(RegisterMisc, UnknownOpcodeIsInvalid) {
  RINGCHECK_RULE("J1");
  EXPECT_RESULT(RegisterRaw(ring().fd(), 200, nullptr, 0), -EINVAL, "J1: 200");
  EXPECT_RESULT(RegisterRaw(ring().fd(), 0x7fffffff, nullptr, 0), -EINVAL, "J1: 2^31-1");
}

// J2: a closed fd is -EBADF, an fd that is not a ring -EOPNOTSUPP.
TEST_P(RegisterMisc, FdMustBeARing) {
  RINGCHECK_RULE("J2");
  Pipe p;
  EXPECT_RESULT(RegisterRaw(p.read_fd, IORING_REGISTER_PERSONALITY, nullptr, 0), -EOPNOTSUPP,
                "J2: a pipe");
  int closed = dup(p.read_fd);
  close(closed);
  EXPECT_RESULT(RegisterRaw(closed, IORING_REGISTER_PERSONALITY, nullptr, 0), -EBADF,
                "J2: closed");
}

// J78: PROBE validates its buffer: NULL, more than 256 entries, or a
// non-zero buffer is -EINVAL.
TEST_P(RegisterMisc, ProbeValidatesItsBuffer) {
  RINGCHECK_RULE("J78");
  REQUIRE_FEATURE("register_probe");
  std::vector<unsigned char> buf(sizeof(io_uring_probe) + 300 * sizeof(io_uring_probe_op), 0);
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_PROBE, nullptr, 4), -EINVAL, "J78: NULL");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_PROBE, buf.data(), 257), -EINVAL,
                "J78: 257");
  buf[0] = 1;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_PROBE, buf.data(), 4), -EINVAL,
                "J78: not zeroed");
}

// J79: PROBE reports last_op and ops_len = min(nr_args, number of opcodes);
// the first opcode past last_op is refused with -EINVAL, NOP is supported
// and works.
TEST_P(RegisterMisc, ProbeMatchesWhatWorks) {
  RINGCHECK_RULE("J79");
  REQUIRE_FEATURE("register_probe");
  std::vector<unsigned char> buf(sizeof(io_uring_probe) + 256 * sizeof(io_uring_probe_op), 0);
  auto* probe = reinterpret_cast<io_uring_probe*>(buf.data());
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_PROBE, probe, 256), 0, "J79");
  unsigned ops = probe->last_op + 1u;
  EXPECT_EQ(probe->ops_len, ops) << "J79: ops_len";
  EXPECT_TRUE(probe->ops[IORING_OP_NOP].flags & IO_URING_OP_SUPPORTED) << "J79: NOP";
  for (unsigned i = 0; i < probe->ops_len; ++i) EXPECT_EQ(probe->ops[i].op, i) << "J79";
  std::fill(buf.begin(), buf.end(), 0);
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_PROBE, probe, 3), 0, "J79");
  EXPECT_EQ(probe->ops_len, 3u) << "J79: ops_len = nr_args";
  SubmitOne(ring(), [&](io_uring_sqe* sqe) {
    io_uring_prep_nop(sqe);
    sqe->opcode = static_cast<uint8_t>(ops);
  });
  EXPECT_RESULT(ReapOne(ring()).res, -EINVAL, "J79: opcode last_op + 1");
  ASSERT_EQ(SubmitNops(ring(), 1), 1);
  EXPECT_RESULT(ReapOne(ring()).res, 0, "J79: NOP");
}

// J59: CLOCK accepts CLOCK_MONOTONIC and CLOCK_BOOTTIME only; reserved
// fields and nr_args must be zero.
TEST_P(RegisterMisc, ClockAcceptsMonotonicAndBoottime) {
  RINGCHECK_RULE("J59");
  REQUIRE_FEATURE("register_clock");
  io_uring_clock_register reg = {};
  reg.clockid = CLOCK_MONOTONIC;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_CLOCK, &reg, 0), 0, "J59: MONOTONIC");
  reg.clockid = CLOCK_BOOTTIME;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_CLOCK, &reg, 0), 0, "J59: BOOTTIME");
  reg.clockid = CLOCK_REALTIME;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_CLOCK, &reg, 0), -EINVAL, "J59: REALTIME");
  reg.clockid = CLOCK_TAI;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_CLOCK, &reg, 0), -EINVAL, "J59: TAI");
  reg.clockid = CLOCK_MONOTONIC;
  reg.__resv[1] = 1;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_CLOCK, &reg, 0), -EINVAL, "J59: resv");
  reg.__resv[1] = 0;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_CLOCK, &reg, 1), -EINVAL, "J59: nr 1");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_CLOCK, nullptr, 0), -EINVAL, "J59: NULL");
}

// J60: an ABS_TIMER wait is measured on the registered clock: a BOOTTIME
// deadline 100 ms ahead ends the wait with -ETIME no sooner than that.
TEST_P(RegisterMisc, AbsoluteWaitUsesTheRegisteredClock) {
  RINGCHECK_RULE("J60");
  REQUIRE_FEATURE("register_clock");
  REQUIRE_FEATURE("enter_abs_timer");
  io_uring_clock_register reg = {};
  reg.clockid = CLOCK_BOOTTIME;
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_CLOCK, &reg, 0), 0, "J59");
  int64_t deadline = ClockNs(CLOCK_BOOTTIME) + 100'000'000;
  __kernel_timespec ts = {deadline / 1000000000, deadline % 1000000000};
  io_uring_getevents_arg arg = {};
  arg.ts = reinterpret_cast<uintptr_t>(&ts);
  int64_t t0 = MonotonicNs();
  EXPECT_RESULT(EnterRaw(ring().fd(), 0, 1,
                         IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG | IORING_ENTER_ABS_TIMER,
                         &arg, sizeof(arg)),
                -ETIME, "J60");
  double ms = ElapsedMs(t0);
  EXPECT_GE(ms, 80) << "J60: returned early";
  EXPECT_LT(ms, 3000) << "J60: returned late";
}

// J57: NAPI wants a readable argument with nr_args 1 and zero padding.
TEST_P(RegisterMisc, NapiValidatesItsArgument) {
  RINGCHECK_RULE("J57");
  REQUIRE_FEATURE("register_napi");
  io_uring_napi napi = {};
  napi.busy_poll_to = 10;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_NAPI, nullptr, 1), -EINVAL, "J57: NULL");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_NAPI, &napi, 0), -EINVAL, "J57: nr 0");
  // Byte 12 is reserved in every layout (the u64 resv of 6.9, the u32 resv
  // after op_param since 6.13).
  reinterpret_cast<unsigned char*>(&napi)[12] = 1;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_NAPI, &napi, 1), -EINVAL, "J57: resv");
  reinterpret_cast<unsigned char*>(&napi)[12] = 0;
  napi.pad[2] = 1;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_NAPI, &napi, 1), -EINVAL, "J57: pad");
}

// J58: NAPI hands back the settings it replaces; UNREGISTER_NAPI hands
// back the current ones and clears them.
TEST_P(RegisterMisc, NapiReportsSettingsBack) {
  RINGCHECK_RULE("J58");
  REQUIRE_FEATURE("register_napi");
  io_uring_napi first = {};
  first.busy_poll_to = 50;
  first.prefer_busy_poll = 1;
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_NAPI, &first, 1), 0, "J58");
  EXPECT_EQ(first.busy_poll_to, 0u) << "J58: nothing was set before";
  io_uring_napi second = {};
  second.busy_poll_to = 70;
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_NAPI, &second, 1), 0, "J58");
  EXPECT_EQ(second.busy_poll_to, 50u) << "J58: the replaced timeout";
  EXPECT_EQ(second.prefer_busy_poll, 1u) << "J58: the replaced prefer_busy_poll";
  io_uring_napi current = {};
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_NAPI, &current, 1), 0, "J58");
  EXPECT_EQ(current.busy_poll_to, 70u) << "J58: the current timeout";
  io_uring_napi after = {};
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_NAPI, &after, 1), 0, "J58");
  EXPECT_EQ(after.busy_poll_to, 0u) << "J58: cleared";
}

INSTANTIATE_TEST_SUITE_P(Rings, RegisterMisc,
                         ::testing::Values(ConfigNamed("default"), ConfigNamed("sqpoll"),
                                           ConfigNamed("defer_taskrun_single_issuer")),
                         ConfigParamName);

// The first 40 bytes of struct io_uring_query_opcode (uapi io_uring/query.h).
struct QueryOpcodes {
  uint32_t nr_request_opcodes;
  uint32_t nr_register_opcodes;
  uint64_t feature_flags;
  uint64_t ring_setup_flags;
  uint64_t enter_flags;
  uint64_t sqe_flags;
};
struct QueryHdr {
  uint64_t next_entry;
  uint64_t query_data;
  uint32_t query_op;
  uint32_t size;
  int32_t result;
  uint32_t resv[3];
};

// J76: QUERY needs no ring (fd -1): opcode counts agree with PROBE, the
// feature bits with io_uring_setup's.
TEST(RegisterQuery, OpcodesAgreeWithProbeAndSetup) {
  RINGCHECK_RULE("J76");
  REQUIRE_FEATURE("register_query");
  io_uring_params params = {};
  io_uring ring;
  ASSERT_EQ(io_uring_queue_init_params(2, &ring, &params), 0);
  io_uring_probe* probe = io_uring_get_probe_ring(&ring);
  ASSERT_NE(probe, nullptr);
  QueryOpcodes data = {};
  QueryHdr hdr = {};
  hdr.query_data = reinterpret_cast<uintptr_t>(&data);
  hdr.query_op = 0;  // IO_URING_QUERY_OPCODES
  hdr.size = sizeof(data);
  EXPECT_RESULT(RegisterRaw(-1, kRegisterQuery, &hdr, 0), 0, "J76");
  EXPECT_RESULT(hdr.result, 0, "J76: entry result");
  EXPECT_EQ(hdr.size, sizeof(data)) << "J76: size written";
  EXPECT_EQ(data.nr_request_opcodes, probe->last_op + 1u) << "J76";
  EXPECT_GT(data.nr_register_opcodes, kRegisterQuery) << "J76";
  EXPECT_EQ(data.feature_flags & params.features, params.features) << "J76: feature bits";
  EXPECT_TRUE(data.enter_flags & IORING_ENTER_GETEVENTS) << "J76";
  EXPECT_TRUE(data.sqe_flags & IOSQE_FIXED_FILE) << "J76";
  io_uring_free_probe(probe);
  io_uring_queue_exit(&ring);
}

// J77: QUERY refuses nr_args; an unknown query fails in its header only.
TEST(RegisterQuery, ErrorsAreReportedPerEntry) {
  RINGCHECK_RULE("J77");
  REQUIRE_FEATURE("register_query");
  QueryOpcodes data = {};
  QueryHdr hdr = {};
  hdr.query_data = reinterpret_cast<uintptr_t>(&data);
  hdr.size = sizeof(data);
  EXPECT_RESULT(RegisterRaw(-1, kRegisterQuery, &hdr, 1), -EINVAL, "J77: nr_args 1");
  hdr.query_op = 1000;
  EXPECT_RESULT(RegisterRaw(-1, kRegisterQuery, &hdr, 0), 0, "J77: the call succeeds");
  EXPECT_RESULT(hdr.result, -EOPNOTSUPP, "J77: unknown query op");
  QueryHdr zero = {};
  zero.query_data = reinterpret_cast<uintptr_t>(&data);
  EXPECT_RESULT(RegisterRaw(-1, kRegisterQuery, &zero, 0), 0, "J77");
  EXPECT_RESULT(zero.result, -EINVAL, "J77: size 0");
}

// J80: SYNC_CANCEL cancels a pending request synchronously.
TEST(RegisterSyncCancel, CancelsAPendingRead) {
  RINGCHECK_RULE("J80");
  REQUIRE_FEATURE("register_sync_cancel");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  Pipe p;
  char buf[4];
  SubmitOne(*ring, [&](io_uring_sqe* sqe) {
    io_uring_prep_read(sqe, p.read_fd, buf, 4, 0);
    sqe->user_data = 0x5c;
  });
  io_uring_sync_cancel_reg reg = {};
  reg.addr = 0x5c;
  reg.fd = -1;
  reg.timeout = {-1, -1};
  EXPECT_RESULT(RegisterRaw(ring->fd(), IORING_REGISTER_SYNC_CANCEL, &reg, 0), -EINVAL, "J80: nr 0");
  reg.pad[0] = 1;
  EXPECT_RESULT(RegisterRaw(ring->fd(), IORING_REGISTER_SYNC_CANCEL, &reg, 1), -EINVAL, "J80: pad");
  reg.pad[0] = 0;
  EXPECT_RESULT(RegisterRaw(ring->fd(), IORING_REGISTER_SYNC_CANCEL, &reg, 1), 0, "J80");
  Cqe c = ReapOne(*ring);
  EXPECT_EQ(c.user_data, 0x5cu);
  EXPECT_RESULT(c.res, -ECANCELED, "J80");
  EXPECT_RESULT(RegisterRaw(ring->fd(), IORING_REGISTER_SYNC_CANCEL, &reg, 1), -ENOENT,
                "J80: nothing left");
}

// J81: SEND_MSG_RING (fd -1) posts a CQE to the target ring without a
// source ring; SQE flags or another opcode are -EINVAL.
TEST(RegisterSendMsgRing, PostsToTheTargetRing) {
  RINGCHECK_RULE("J81");
  REQUIRE_FEATURE("register_send_msg_ring");
  CREATE_RING_OR_SKIP(target, ConfigNamed("default"));
  io_uring_sqe sqe = {};
  io_uring_prep_msg_ring(&sqe, target->fd(), 0x77, 0x1234, 0);
  EXPECT_RESULT(RegisterRaw(-1, kRegisterSendMsgRing, &sqe, 0), -EINVAL, "J81: nr 0");
  sqe.flags = IOSQE_ASYNC;
  EXPECT_RESULT(RegisterRaw(-1, kRegisterSendMsgRing, &sqe, 1), -EINVAL, "J81: flags");
  sqe.flags = 0;
  sqe.opcode = IORING_OP_NOP;
  EXPECT_RESULT(RegisterRaw(-1, kRegisterSendMsgRing, &sqe, 1), -EINVAL, "J81: NOP");
  sqe.opcode = IORING_OP_MSG_RING;
  EXPECT_RESULT(RegisterRaw(-1, kRegisterSendMsgRing, &sqe, 1), 0, "J81");
  Cqe c = ReapOne(*target);
  EXPECT_EQ(c.user_data, 0x1234u) << "J81";
  EXPECT_RESULT(c.res, 0x77, "J81");
}

// J82: RING_FDS registers the ring fd for the calling task; the index then
// works in place of the fd (details: spec/ringfd.md, rules B).
TEST(RegisterRingFds, IndexWorksInPlaceOfTheFd) {
  RINGCHECK_RULE("J82");
  REQUIRE_FEATURE("register_ring_fds");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  io_uring_rsrc_update up = {};
  up.offset = -1U;
  up.data = static_cast<uint64_t>(ring->fd());
  ASSERT_RESULT(RegisterRaw(ring->fd(), IORING_REGISTER_RING_FDS, &up, 1), 1, "J82");
  ASSERT_EQ(SubmitNops(*ring, 1), 1);
  EXPECT_RESULT(EnterRaw(static_cast<int>(up.offset), 0, 1,
                         IORING_ENTER_GETEVENTS | IORING_ENTER_REGISTERED_RING, nullptr, 0),
                0, "J82");
  EXPECT_EQ(ring->Drain().size(), 1u);
  up.data = 0;  // unregistering names the index only
  EXPECT_RESULT(RegisterRaw(ring->fd(), IORING_UNREGISTER_RING_FDS, &up, 1), 1, "J82");
}

// J83: CLONE_BUFFERS copies a buffer table (details: spec/clone.md, rules C).
TEST(RegisterCloneBuffers, CopiesTheTable) {
  RINGCHECK_RULE("J83");
  REQUIRE_FEATURE("register_clone_buffers");
  CREATE_RING_OR_SKIP(src, ConfigNamed("default"));
  CREATE_RING_OR_SKIP(dst, ConfigNamed("default"));
  std::vector<unsigned char> mem(4096, 'c');
  iovec iov[1] = {{mem.data(), mem.size()}};
  ASSERT_RESULT(RegisterRaw(src->fd(), IORING_REGISTER_BUFFERS, iov, 1), 0, "J83");
  struct io_uring_clone_buffers arg = {};
  arg.src_fd = static_cast<uint32_t>(src->fd());
  EXPECT_RESULT(RegisterRaw(dst->fd(), IORING_REGISTER_CLONE_BUFFERS, &arg, 1), 0, "J83");
  Pipe p;
  SubmitOne(*dst, [&](io_uring_sqe* sqe) {
    io_uring_prep_write_fixed(sqe, p.write_fd, mem.data(), 4, 0, 0);
  });
  EXPECT_RESULT(ReapOne(*dst).res, 4, "J83: the clone is usable");
}

// J84: ZCRX_IFQ is refused on a ring without DEFER_TASKRUN and big CQEs
// (-EINVAL), or without CAP_NET_ADMIN (-EPERM), before any device is looked
// at; nr_args other than 1 is -EINVAL.
TEST(RegisterZcrx, ArgumentsAreValidatedBeforeTheDevice) {
  RINGCHECK_RULE("J84");
  REQUIRE_FEATURE("register_zcrx_ifq");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  unsigned char reg[96] = {};
  EXPECT_RESULT(RegisterRaw(ring->fd(), kRegisterZcrxIfq, reg, 0), -EINVAL, "J84: nr 0");
  EXPECT_RESULT(RegisterRaw(ring->fd(), kRegisterZcrxIfq, nullptr, 1), -EINVAL, "J84: NULL");
  long r = RegisterRaw(ring->fd(), kRegisterZcrxIfq, reg, 1);
  EXPECT_TRUE(r == -EINVAL || r == -EPERM)
      << "J84: a plain ring, expected -EINVAL (or -EPERM), got " << ResultName(r);
}

}  // namespace
}  // namespace ringcheck
