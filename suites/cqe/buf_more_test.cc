// IORING_CQE_F_BUF_MORE (spec D.1; io_uring_setup_buf_ring(3),
// IOU_PBUF_RING_INC): with an incremental buffer ring a completion may use
// only part of a buffer; F_BUF_MORE then says the same buffer id will be
// used again, from where this completion stopped.
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <string>

#include "harness/bufring.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/net.h"
#include "suites/cqe/cqe_helpers.h"

namespace ringcheck {
namespace {

using cqe::BufferId;
using cqe::Describe;
using cqe::HasFlag;

constexpr uint16_t kGroup = 3;
constexpr uint16_t kBid = 5;

class BufMore : public RingTest {
 protected:
  void SetUpRing() override {
    REQUIRE_FEATURE("register_pbuf_ring");
    ASSERT_RESULT(ConnectedPair(Transport::kUnixStream, &pair_), 0, "socketpair");
  }
  // One buffer of `len` bytes, id kBid, in a ring with or without
  // IOU_PBUF_RING_INC.
  void MakeRing(bool incremental, size_t len) {
    if (incremental) REQUIRE_FEATURE("pbuf_ring_inc");
    ASSERT_RESULT(BufRing::Create(ring(), kGroup, 4, incremental ? IOU_PBUF_RING_INC : 0,
                                  &bufring_),
                  0, "io_uring_setup_buf_ring(3)");
    bufring_->Add(kBid, len);
  }
  // Sends `data`, then receives into the group; returns the CQE.
  Cqe SendThenRecv(const std::string& data) {
    EXPECT_RESULT(SendAll(pair_.b.get(), data.data(), data.size()), 0, "send");
    io_uring_sqe* sqe = cqe::QueueSqe(ring(), 1, IOSQE_BUFFER_SELECT);
    EXPECT_NE(sqe, nullptr);
    if (sqe == nullptr) return Cqe{};
    io_uring_prep_recv(sqe, pair_.a.get(), nullptr, 0, 0);
    sqe->flags = IOSQE_BUFFER_SELECT;
    sqe->buf_group = kGroup;
    sqe->user_data = 1;
    EXPECT_TRUE(cqe::SubmitExpect(ring(), 1));
    std::vector<Cqe> cqes = ring().Reap(1);
    EXPECT_EQ(cqes.size(), 1u) << "no CQE for the recv";
    return cqes.empty() ? Cqe{} : cqes[0];
  }

  SocketPair pair_;
  std::unique_ptr<BufRing> bufring_;
};

#define MAKE_RING_OR_RETURN(incremental, len)          \
  do {                                                 \
    MakeRing(incremental, len);                        \
    if (IsSkipped() || HasFatalFailure()) return;      \
  } while (0)

// D.1 F_BUF_MORE: a partly used buffer of an incremental ring is reported
// with F_BUF_MORE, and the next completion continues in the same buffer.
TEST_P(BufMore, PartialConsumptionSetsBufMore) {
  RINGCHECK_RULE("D.1:F_BUF_MORE");
  MAKE_RING_OR_RETURN(true, 256);
  Cqe first = SendThenRecv(std::string(100, 'a'));
  ASSERT_RESULT(first.res, 100, "D.1:F_BUF_MORE first recv");
  EXPECT_TRUE(HasFlag(first, IORING_CQE_F_BUFFER)) << Describe(first);
  EXPECT_EQ(BufferId(first), kBid) << Describe(first);
  EXPECT_TRUE(HasFlag(first, IORING_CQE_F_BUF_MORE))
      << "156 of 256 bytes are left in the buffer " << Describe(first);

  Cqe second = SendThenRecv(std::string(50, 'b'));
  ASSERT_RESULT(second.res, 50, "D.1:F_BUF_MORE second recv");
  EXPECT_EQ(BufferId(second), kBid) << "the same buffer is used again " << Describe(second);
  EXPECT_TRUE(HasFlag(second, IORING_CQE_F_BUF_MORE)) << Describe(second);
  // The second completion starts where the first stopped.
  const unsigned char* data = bufring_->Data(kBid);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(data), 150),
            std::string(100, 'a') + std::string(50, 'b'));
}

// D.1 F_BUF_MORE: the completion that uses the rest of the buffer does not
// carry the flag; the buffer is then gone from the ring.
TEST_P(BufMore, CompletionThatExhaustsBufferClearsBufMore) {
  RINGCHECK_RULE("D.1:F_BUF_MORE");
  MAKE_RING_OR_RETURN(true, 128);
  Cqe first = SendThenRecv(std::string(100, 'a'));
  ASSERT_RESULT(first.res, 100, "D.1:F_BUF_MORE first recv");
  ASSERT_TRUE(HasFlag(first, IORING_CQE_F_BUF_MORE)) << Describe(first);

  Cqe last = SendThenRecv(std::string(28, 'b'));
  ASSERT_RESULT(last.res, 28, "D.1:F_BUF_MORE recv of the last 28 bytes");
  EXPECT_TRUE(HasFlag(last, IORING_CQE_F_BUFFER)) << Describe(last);
  EXPECT_EQ(BufferId(last), kBid) << Describe(last);
  EXPECT_FALSE(HasFlag(last, IORING_CQE_F_BUF_MORE))
      << "this completion used the buffer up " << Describe(last);

  Cqe none = SendThenRecv("c");
  EXPECT_RESULT(none.res, -ENOBUFS, "D.1:F_BUF_MORE the used-up buffer left the ring");
}

// D.1 F_BUF_MORE: never set for a ring without IOU_PBUF_RING_INC, even
// when the completion used a small part of the buffer.
TEST_P(BufMore, NonIncrementalRingNeverSetsBufMore) {
  RINGCHECK_RULE("D.1:F_BUF_MORE");
  MAKE_RING_OR_RETURN(false, 256);
  Cqe c = SendThenRecv(std::string(10, 'a'));
  ASSERT_RESULT(c.res, 10, "D.1:F_BUF_MORE recv");
  EXPECT_TRUE(HasFlag(c, IORING_CQE_F_BUFFER)) << Describe(c);
  EXPECT_FALSE(HasFlag(c, IORING_CQE_F_BUF_MORE)) << Describe(c);
  // The whole buffer was consumed, whatever the length.
  Cqe none = SendThenRecv("c");
  EXPECT_RESULT(none.res, -ENOBUFS, "D.1:F_BUF_MORE a plain ring consumes whole buffers");
}

RINGCHECK_INSTANTIATE_FLAG_RINGS(BufMore);

}  // namespace
}  // namespace ringcheck
