// Zero-copy receive: IORING_REGISTER_ZCRX_IFQ argument checks, which every
// kernel can show, and RECV_ZC without an interface queue (spec/net.md
// H93-H97; kernel register.c __io_uring_register, zcrx.c
// io_register_zcrx_ifq, net.c io_recvzc_prep). Receiving for real needs a
// NIC with header split and flow steering (UNCOVERED.md).
#include <net/if.h>
#include <sys/socket.h>

#include "suites/net/net_util.h"
#include "suites/net/zcrx.h"

namespace ringcheck {
namespace net {
namespace {

int RegisterIfq(Ring& ring, void* arg, unsigned nr) {
  return io_uring_register(ring.fd(), kRegisterZcrxIfq, arg, nr);
}

RingConfig ZcrxRing() {
  RingConfig c = ConfigNamed("defer_taskrun_single_issuer");
  c.name = "defer_taskrun_cqe32";
  c.flags |= IORING_SETUP_CQE32;
  return c;
}

// H93: a NULL argument or nr_args other than 1 is -EINVAL, on every kernel
// (one without the opcode refuses it with -EINVAL too).
TEST(Zcrx, NullArgOrWrongCountIsEinval) {
  RINGCHECK_RULE("H93");
  RINGCHECK_FEATURE("zcrx_ifq");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  ZcrxIfqReg reg = {};
  EXPECT_RESULT(RegisterIfq(*ring, nullptr, 1), -EINVAL, "H93: NULL");
  EXPECT_RESULT(RegisterIfq(*ring, &reg, 0), -EINVAL, "H93: nr_args 0");
  EXPECT_RESULT(RegisterIfq(*ring, &reg, 2), -EINVAL, "H93: nr_args 2");
}

// H94: the ring must have DEFER_TASKRUN and 32-byte CQEs; otherwise -EINVAL
// before the argument is read.
TEST(Zcrx, RingWithoutDeferTaskrunIsEinval) {
  RINGCHECK_RULE("H94");
  REQUIRE_FEATURE("zcrx_ifq");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("cqe32"));
  ZcrxIfqReg reg = {};
  EXPECT_RESULT(RegisterIfq(*ring, &reg, 1), -EINVAL, "H94: no DEFER_TASKRUN");
}

TEST(Zcrx, RingWithSmallCqesIsEinval) {
  RINGCHECK_RULE("H94");
  REQUIRE_FEATURE("zcrx_ifq");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("defer_taskrun_single_issuer"));
  ZcrxIfqReg reg = {};
  EXPECT_RESULT(RegisterIfq(*ring, &reg, 1), -EINVAL, "H94: 16-byte CQEs");
}

class ZcrxArgs : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_FEATURE("zcrx_ifq");
    CREATE_RING_OR_SKIP(ring, ZcrxRing());
    ring_ = std::move(ring);
    reg_.if_idx = if_nametoindex("lo");
    reg_.rq_entries = 64;
    reg_.region_ptr = reinterpret_cast<uintptr_t>(&region_);
    area_.addr = reinterpret_cast<uintptr_t>(area_mem_);
    area_.len = sizeof area_mem_;
    reg_.area_ptr = reinterpret_cast<uintptr_t>(&area_);
  }
  int Register() { return RegisterIfq(*ring_, &reg_, 1); }
  std::unique_ptr<Ring> ring_;
  ZcrxIfqReg reg_ = {};
  RegionDesc region_ = {};
  ZcrxAreaReg area_ = {};
  alignas(4096) static char area_mem_[64 * 1024];
};
alignas(4096) char ZcrxArgs::area_mem_[64 * 1024];

// H95: reserved fields must be zero, rq_entries must be non-zero, if_rxq
// must not be -1 and flags must be known: -EINVAL.
TEST_F(ZcrxArgs, ReservedFieldIsEinval) {
  RINGCHECK_RULE("H95");
  reg_.resv[1] = 1;
  EXPECT_RESULT(Register(), -EINVAL, "H95: __resv");
}

TEST_F(ZcrxArgs, ZeroRqEntriesIsEinval) {
  RINGCHECK_RULE("H95");
  reg_.rq_entries = 0;
  EXPECT_RESULT(Register(), -EINVAL, "H95: rq_entries 0");
}

TEST_F(ZcrxArgs, AnyRxqIsEinval) {
  RINGCHECK_RULE("H95");
  reg_.if_rxq = ~0U;
  EXPECT_RESULT(Register(), -EINVAL, "H95: if_rxq -1");
}

TEST_F(ZcrxArgs, UnreadableRegionIsEfault) {
  RINGCHECK_RULE("H95");
  reg_.region_ptr = 8;
  EXPECT_RESULT(Register(), -EFAULT, "H95: region descriptor unreadable");
}

// H96: loopback has no queue the kernel can hand to io_uring (no header
// split, no queue management ops), so registering it fails; nothing is
// left registered.
TEST_F(ZcrxArgs, LoopbackCannotBeRegistered) {
  RINGCHECK_RULE("H96");
  ASSERT_NE(reg_.if_idx, 0u) << "no lo interface";
  EXPECT_SOME_ERROR(Register(), "H96");
}

// H97: RECV_ZC names an interface queue registered on the ring; with none
// it is -EINVAL.
TEST(Zcrx, RecvZcWithoutIfqIsEinval) {
  RINGCHECK_RULE("H97");
  REQUIRE_FEATURE("op_recv_zc");
  CREATE_RING_OR_SKIP(ring, ZcrxRing());
  SocketPair pair;
  ASSERT_EQ(MakePair(Family::kTcp4, &pair), 0);
  io_uring_sqe* sqe = Sqe(*ring, 1);
  io_uring_prep_rw(kOpRecvZc, sqe, pair.b.get(), nullptr, 0, 0);
  sqe->user_data = 1;
  EXPECT_RESULT(SubmitOne(*ring).res, -EINVAL, "H97");
}

}  // namespace
}  // namespace net
}  // namespace ringcheck
