// RECV with provided buffers: legacy groups, buffer rings (kernel-mapped,
// incremental), bundles (spec/net.md H46-H54; io_uring_prep_provide_buffers(3),
// io_uring_setup_buf_ring(3), io_uring_prep_recv(3); kernel kbuf.c
// io_provide_buffers, io_remove_buffers, io_buffer_select, io_buffers_select;
// net.c io_recv, io_recv_buf_select).
#include <sys/mman.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "harness/bufring.h"
#include "suites/net/net_util.h"

namespace ringcheck {
namespace net {
namespace {

constexpr uint16_t kGroup = 7;

class BufSelect : public NetFamilyTest {
 protected:
  void SetUp() override {
    NetFamilyTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    MakePairOrSkip(&pair_);
  }
  void TearDown() override {
    legacy_.reset();
    bufs_.reset();
  }
  // Sends `data` from a and waits until b can read all of it.
  void Arrive(const std::string& data) {
    ASSERT_EQ(SendAll(pair_.a.get(), data.data(), data.size()), 0);
    ASSERT_TRUE(WaitForReadable(pair_.b.get(), data.size(), kDeadline));
  }
  void QueueSelectRecv(uint64_t ud, size_t len, uint16_t ioprio = 0) {
    io_uring_sqe* sqe = Sqe(ring(), ud);
    io_uring_prep_recv(sqe, pair_.b.get(), nullptr, len, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kGroup;
    sqe->ioprio |= ioprio;
  }
  void MakeRing(unsigned entries, unsigned flags = 0) {
    int ret = BufRing::Create(ring(), kGroup, entries, flags, &bufs_);
    ASSERT_EQ(ret, 0) << "buffer ring: " << ResultName(ret);
  }
  SocketPair pair_;
  std::unique_ptr<LegacyBuffers> legacy_;
  std::unique_ptr<BufRing> bufs_;
};

// H46 (D.1:F_BUFFER): RECV with a legacy group takes one of its buffers,
// names it in the CQE and holds the data there.
TEST_P(BufSelect, LegacyGroupBufferHoldsData) {
  RINGCHECK_RULE("H46 D.1:F_BUFFER");
  REQUIRE_FEATURE("op_provide_buffers");
  ASSERT_EQ(LegacyBuffers::Provide(ring(), kGroup, 10, 2, 256, &legacy_), 0);
  std::string data = Pattern(100);
  ASSERT_NO_FATAL_FAILURE(Arrive(data));
  QueueSelectRecv(1, 256);
  Cqe c = SubmitOne(ring());
  ASSERT_RESULT(c.res, 100, "H46");
  ASSERT_TRUE(HasFlag(c, IORING_CQE_F_BUFFER)) << Describe(c);
  uint16_t bid = BufferId(c);
  ASSERT_TRUE(bid == 10 || bid == 11) << "H46: bid " << bid << " is not of the group";
  EXPECT_EQ(std::memcmp(legacy_->Data(bid), data.data(), 100), 0) << "H46: data not in buffer";
}

// H47: a RECV that needs a buffer from an empty group is -ENOBUFS (legacy
// group used up, and a registered ring with no buffer in it).
TEST_P(BufSelect, EmptyLegacyGroupIsEnobufs) {
  RINGCHECK_RULE("H47");
  REQUIRE_FEATURE("op_provide_buffers");
  ASSERT_EQ(LegacyBuffers::Provide(ring(), kGroup, 0, 1, 64, &legacy_), 0);
  ASSERT_NO_FATAL_FAILURE(Arrive(Pattern(20)));
  QueueSelectRecv(1, 64);
  ASSERT_SUCCESS(SubmitOne(ring()).res, "H46: the one buffer");
  ASSERT_NO_FATAL_FAILURE(Arrive(Pattern(20)));
  QueueSelectRecv(2, 64);
  Cqe c = SubmitOne(ring());
  EXPECT_RESULT(c.res, -ENOBUFS, "H47: legacy group used up");
}

TEST_P(BufSelect, EmptyBufferRingIsEnobufs) {
  RINGCHECK_RULE("H47");
  REQUIRE_FEATURE("register_pbuf_ring");
  ASSERT_NO_FATAL_FAILURE(MakeRing(4));
  ASSERT_NO_FATAL_FAILURE(Arrive(Pattern(20)));
  QueueSelectRecv(1, 64);
  EXPECT_RESULT(SubmitOne(ring()).res, -ENOBUFS, "H47: ring without buffers");
}

// H48: REMOVE_BUFFERS takes up to `nr` buffers out of a legacy group and
// returns how many it took; a group that never existed is -ENOENT.
TEST_P(BufSelect, RemoveBuffersCountsTaken) {
  RINGCHECK_RULE("H48");
  REQUIRE_FEATURE("op_remove_buffers");
  ASSERT_EQ(LegacyBuffers::Provide(ring(), kGroup, 0, 3, 64, &legacy_), 0);
  io_uring_prep_remove_buffers(Sqe(ring(), 1), 2, kGroup);
  EXPECT_RESULT(SubmitOne(ring()).res, 2, "H48: two of three");
  io_uring_prep_remove_buffers(Sqe(ring(), 2), 5, kGroup);
  EXPECT_RESULT(SubmitOne(ring()).res, 1, "H48: the last one");
  ASSERT_NO_FATAL_FAILURE(Arrive(Pattern(8)));
  QueueSelectRecv(3, 64);
  EXPECT_RESULT(SubmitOne(ring()).res, -ENOBUFS, "H47: nothing left to receive into");
}

TEST_P(BufSelect, RemoveBuffersOfUnknownGroupIsEnoent) {
  RINGCHECK_RULE("H48");
  REQUIRE_FEATURE("op_remove_buffers");
  io_uring_prep_remove_buffers(Sqe(ring(), 1), 1, 0x7ab);
  EXPECT_RESULT(SubmitOne(ring()).res, -ENOENT, "H48");
}

// H49 (D.1:F_BUFFER): RECVs on a buffer ring take the buffers in the order
// they were added, and each CQE names the one it filled.
TEST_P(BufSelect, BufferRingConsumedInOrder) {
  RINGCHECK_RULE("H49 D.1:F_BUFFER");
  REQUIRE_FEATURE("register_pbuf_ring");
  ASSERT_NO_FATAL_FAILURE(MakeRing(4));
  bufs_->Add(5, 128);
  bufs_->Add(2, 128);
  for (uint16_t want : {5, 2}) {
    std::string data = Pattern(40, static_cast<char>('a' + want));
    ASSERT_NO_FATAL_FAILURE(Arrive(data));
    QueueSelectRecv(want, 128);
    Cqe c = SubmitOne(ring());
    ASSERT_RESULT(c.res, 40, "H49");
    ASSERT_TRUE(HasFlag(c, IORING_CQE_F_BUFFER)) << Describe(c);
    EXPECT_EQ(BufferId(c), want) << "H49: buffers are taken in ring order";
    EXPECT_EQ(std::memcmp(bufs_->Data(want), data.data(), 40), 0) << "H49: data not in buffer";
  }
}

// H50: with IOU_PBUF_RING_MMAP the kernel allocates the ring, the
// application maps it at IORING_OFF_PBUF_RING | bgid << IORING_OFF_PBUF_SHIFT
// and fills it like its own.
TEST_P(BufSelect, KernelAllocatedRingWorks) {
  RINGCHECK_RULE("H50");
  REQUIRE_FEATURE("pbuf_ring_mmap");
  io_uring_buf_reg reg = {};
  reg.ring_entries = 4;
  reg.bgid = kGroup;
  reg.flags = IOU_PBUF_RING_MMAP;
  ASSERT_EQ(io_uring_register_buf_ring(ring().get(), &reg, 0), 0) << "H50";
  size_t size = 4 * sizeof(io_uring_buf);
  off_t off = IORING_OFF_PBUF_RING | (static_cast<uint64_t>(kGroup) << IORING_OFF_PBUF_SHIFT);
  void* map = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                   ring().fd(), off);
  ASSERT_NE(map, MAP_FAILED) << "H50: mmap of the buffer ring: " << strerror(errno);
  auto* br = static_cast<io_uring_buf_ring*>(map);
  io_uring_buf_ring_init(br);
  std::vector<unsigned char> mem(128, 0);
  io_uring_buf_ring_add(br, mem.data(), 128, 3, io_uring_buf_ring_mask(4), 0);
  io_uring_buf_ring_advance(br, 1);
  std::string data = Pattern(50);
  ASSERT_NO_FATAL_FAILURE(Arrive(data));
  QueueSelectRecv(1, 128);
  Cqe c = SubmitOne(ring());
  EXPECT_RESULT(c.res, 50, "H50");
  EXPECT_EQ(BufferId(c), 3) << Describe(c);
  EXPECT_EQ(std::memcmp(mem.data(), data.data(), 50), 0) << "H50";
  munmap(map, size);
  io_uring_unregister_buf_ring(ring().get(), kGroup);
}

RINGCHECK_INSTANTIATE_NET_FAMILIES(BufSelect, Family::kTcp4, Family::kUdp4, Family::kUnixStream);

class StreamBufSelect : public BufSelect {};

// H51 (D.1:F_BUF_MORE): an incremental ring (IOU_PBUF_RING_INC) lets
// several RECVs fill one buffer one after the other; each CQE has F_BUF_MORE
// while the buffer has room left, and the next data lands after the last.
TEST_P(StreamBufSelect, IncrementalBufferFillsInPieces) {
  RINGCHECK_RULE("H51 D.1:F_BUF_MORE");
  REQUIRE_FEATURE("pbuf_ring_inc");
  ASSERT_NO_FATAL_FAILURE(MakeRing(4, IOU_PBUF_RING_INC));
  bufs_->Add(1, 64);
  std::string first = Pattern(16, 'a'), second = Pattern(16, 'A');
  ASSERT_NO_FATAL_FAILURE(Arrive(first));
  QueueSelectRecv(1, 0);
  Cqe c1 = SubmitOne(ring());
  ASSERT_RESULT(c1.res, 16, "H51");
  EXPECT_EQ(BufferId(c1), 1);
  EXPECT_TRUE(HasFlag(c1, IORING_CQE_F_BUF_MORE)) << "H51: 48 bytes left " << Describe(c1);
  ASSERT_NO_FATAL_FAILURE(Arrive(second));
  QueueSelectRecv(2, 0);
  Cqe c2 = SubmitOne(ring());
  ASSERT_RESULT(c2.res, 16, "H51");
  EXPECT_EQ(BufferId(c2), 1) << "H51: the same buffer again";
  EXPECT_EQ(std::memcmp(bufs_->Data(1), first.data(), 16), 0) << "H51";
  EXPECT_EQ(std::memcmp(bufs_->Data(1) + 16, second.data(), 16), 0)
      << "H51: the second piece goes after the first";
  std::string rest = Pattern(32, '0');
  ASSERT_NO_FATAL_FAILURE(Arrive(rest));
  QueueSelectRecv(3, 0);
  Cqe c3 = SubmitOne(ring());
  ASSERT_RESULT(c3.res, 32, "H51");
  EXPECT_FALSE(HasFlag(c3, IORING_CQE_F_BUF_MORE)) << "H51: the buffer is full " << Describe(c3);
}

// H52: a bundle RECV (IORING_RECVSEND_BUNDLE) fills several buffers in
// ring order for one CQE: res counts the bytes of all of them, the bid names
// the first, and the data runs on from one buffer into the next. What is
// left is for the next RECV, which starts at the following buffer.
TEST_P(StreamBufSelect, BundleFillsSeveralBuffers) {
  RINGCHECK_RULE("H52");
  REQUIRE_FEATURE("feat_recvsend_bundle");
  REQUIRE_FEATURE("recv_bundle");
  ASSERT_NO_FATAL_FAILURE(MakeRing(8));
  for (uint16_t bid = 0; bid < 8; ++bid) bufs_->Add(bid, 32);
  std::string data = Pattern(100);
  ASSERT_NO_FATAL_FAILURE(Arrive(data));
  std::string joined;
  uint16_t next_bid = 0;
  for (int round = 0; round < 4 && joined.size() < data.size(); ++round) {
    QueueSelectRecv(1 + round, 0, IORING_RECVSEND_BUNDLE);
    Cqe c = SubmitOne(ring());
    ASSERT_GT(c.res, 0) << "H52 " << Describe(c);
    ASSERT_TRUE(HasFlag(c, IORING_CQE_F_BUFFER)) << Describe(c);
    EXPECT_EQ(BufferId(c), next_bid) << "H52: the bundle starts at the next buffer";
    // How much one bundle takes follows what the socket says is queued
    // (msg_inq): AF_UNIX streams that do not report it get one buffer each.
    bool reports_inq = IsTcp(family()) || Supported("unix_so_inq");
    if (round == 0 && reports_inq) {
      EXPECT_GT(c.res, 32) << "H52: the first bundle spans several buffers";
    }
    for (int left = c.res; left > 0; left -= 32) {
      joined.append(reinterpret_cast<char*>(bufs_->Data(next_bid++)), std::min(left, 32));
    }
  }
  EXPECT_EQ(joined, data) << "H52: the buffers hold the data in order";
}

RINGCHECK_INSTANTIATE_NET_FAMILIES(StreamBufSelect, Family::kTcp4, Family::kUnixStream);

}  // namespace
}  // namespace net
}  // namespace ringcheck
