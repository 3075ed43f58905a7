// IORING_CQE_F_BUFFER (spec D.1), with legacy provided buffers
// (IORING_OP_PROVIDE_BUFFERS, io_uring_prep_provide_buffers(3)) and with
// buffer rings (io_uring_setup_buf_ring(3)): the flag says a provided buffer
// was handed back to the application and the upper 16 bits of cqe->flags
// name it (io_uring_enter(2), IOSQE_BUFFER_SELECT).
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "harness/bufring.h"
#include "harness/features.h"
#include "harness/fd.h"
#include "harness/matchers.h"
#include "harness/net.h"
#include "suites/cqe/cqe_helpers.h"

namespace ringcheck {
namespace {

using cqe::BufferId;
using cqe::Describe;
using cqe::HasFlag;

constexpr uint16_t kGroup = 7;
enum class Kind { kLegacy, kRing };

class BufferSelect : public RingTest {
 protected:
  // Gives `count` buffers of `len` bytes, ids first_bid.., to group kGroup;
  // SKIPs when the kernel lacks the kind of provided buffer asked for.
  void Provide(Kind kind, uint16_t first_bid, unsigned count, size_t len) {
    if (kind == Kind::kLegacy) {
      REQUIRE_FEATURE("op_provide_buffers");
      ASSERT_RESULT(LegacyBuffers::Provide(ring(), kGroup, first_bid, count, len, &legacy_), 0,
                    "io_uring_prep_provide_buffers(3)");
      return;
    }
    REQUIRE_FEATURE("register_pbuf_ring");
    ASSERT_RESULT(BufRing::Create(ring(), kGroup, 8, 0, &bufring_), 0,
                  "io_uring_setup_buf_ring(3)");
    for (unsigned i = 0; i < count; ++i) bufring_->Add(static_cast<uint16_t>(first_bid + i), len);
  }
  unsigned char* Data(uint16_t bid) {
    return legacy_ ? legacy_->Data(bid) : bufring_ ? bufring_->Data(bid) : nullptr;
  }
  void QueueSelectRead(int fd, unsigned len, uint64_t offset, uint64_t user_data) {
    io_uring_sqe* sqe = cqe::QueueSqe(ring(), user_data, IOSQE_BUFFER_SELECT);
    ASSERT_NE(sqe, nullptr);
    io_uring_prep_read(sqe, fd, nullptr, len, offset);
    sqe->flags = IOSQE_BUFFER_SELECT;
    sqe->buf_group = kGroup;
    sqe->user_data = user_data;
  }
  // The length is the buffers' size, not 0: "0 means the whole buffer"
  // arrived only in 5.19, and older kernels read 0 bytes.
  void QueueSelectRecv(int fd, uint64_t user_data, unsigned len = 64) {
    io_uring_sqe* sqe = cqe::QueueSqe(ring(), user_data, IOSQE_BUFFER_SELECT);
    ASSERT_NE(sqe, nullptr);
    io_uring_prep_recv(sqe, fd, nullptr, len, 0);
    sqe->flags = IOSQE_BUFFER_SELECT;
    sqe->buf_group = kGroup;
    sqe->user_data = user_data;
  }
  // Submits what is queued and returns the one CQE it gives.
  Cqe SubmitOne() {
    EXPECT_TRUE(cqe::SubmitExpect(ring(), 1));
    std::vector<Cqe> cqes = ring().Reap(1);
    EXPECT_EQ(cqes.size(), 1u) << "no CQE";
    return cqes.empty() ? Cqe{} : cqes[0];
  }
  // A read from a file after the test: it must get the buffer `bid` again,
  // showing the earlier request left it in the group.
  void ExpectBufferStillProvided(uint16_t bid) {
    UniqueFd file = ScratchFile(64);
    ASSERT_TRUE(file.valid());
    QueueSelectRead(file.get(), 16, 0, 99);
    Cqe c = SubmitOne();
    EXPECT_RESULT(c.res, 16, "D.1:F_BUFFER the buffer was recycled");
    EXPECT_TRUE(HasFlag(c, IORING_CQE_F_BUFFER)) << Describe(c);
    EXPECT_EQ(BufferId(c), bid) << Describe(c);
  }

  // The shared bodies; each TEST below names the kind.
  void ReadReportsChosenBufferId(Kind kind);
  void ReadAtEofSetsBuffer(Kind kind);
  void ReadOfDirectoryFailsWithBufferSet(Kind kind);
  void RecvAtEofLeavesBufferClear(Kind kind);
  void RecvErrorLeavesBufferClear(Kind kind);
  void RecvWithDataSetsBuffer(Kind kind);
  void EmptyGroupFailsWithEnobufs(Kind kind);
  void BufferIdUsesAllSixteenBits(Kind kind);

  std::unique_ptr<LegacyBuffers> legacy_;
  std::unique_ptr<BufRing> bufring_;
};

#define PROVIDE_OR_RETURN(kind, first, count, len)                  \
  do {                                                              \
    Provide(kind, first, count, len);                               \
    if (IsSkipped() || HasFatalFailure()) return;                   \
  } while (0)

void BufferSelect::ReadReportsChosenBufferId(Kind kind) {
  PROVIDE_OR_RETURN(kind, 40, 4, 64);
  UniqueFd file = ScratchFile(4096);
  ASSERT_TRUE(file.valid());
  QueueSelectRead(file.get(), 64, 128, 1);
  Cqe c = SubmitOne();
  ASSERT_RESULT(c.res, 64, "D.1:F_BUFFER read into a provided buffer");
  ASSERT_TRUE(HasFlag(c, IORING_CQE_F_BUFFER)) << Describe(c);
  const uint16_t bid = BufferId(c);
  ASSERT_TRUE(bid >= 40 && bid < 44) << "buffer id outside the group: " << Describe(c);
  // The id names the buffer that holds the data.
  for (size_t i = 0; i < 64; ++i) {
    ASSERT_EQ(Data(bid)[i], PatternByte(128 + i)) << "byte " << i << " of buffer " << bid;
  }
}

void BufferSelect::ReadAtEofSetsBuffer(Kind kind) {
  PROVIDE_OR_RETURN(kind, 40, 2, 64);
  UniqueFd file = ScratchFile(100);
  ASSERT_TRUE(file.valid());
  QueueSelectRead(file.get(), 64, 100, 1);  // at the end of the file
  Cqe c = SubmitOne();
  EXPECT_RESULT(c.res, 0, "D.1:F_BUFFER read at EOF");
  EXPECT_TRUE(HasFlag(c, IORING_CQE_F_BUFFER)) << "a read at EOF hands the buffer back "
                                               << Describe(c);
  EXPECT_TRUE(BufferId(c) == 40 || BufferId(c) == 41) << Describe(c);
}

void BufferSelect::ReadOfDirectoryFailsWithBufferSet(Kind kind) {
  PROVIDE_OR_RETURN(kind, 40, 2, 64);
  UniqueFd dir(open(ScratchDir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dir.valid()) << "open " << ScratchDir() << ": " << std::strerror(errno);
  QueueSelectRead(dir.get(), 64, 0, 1);
  Cqe c = SubmitOne();
  EXPECT_RESULT(c.res, -EISDIR, "D.1:F_BUFFER read of a directory");
  EXPECT_TRUE(HasFlag(c, IORING_CQE_F_BUFFER))
      << "the buffer was chosen before the read failed, so it is handed back " << Describe(c);
}

void BufferSelect::RecvAtEofLeavesBufferClear(Kind kind) {
  PROVIDE_OR_RETURN(kind, 0xbeef, 1, 64);
  SocketPair pair;
  ASSERT_RESULT(ConnectedPair(Transport::kUnixStream, &pair), 0, "socketpair");
  ASSERT_EQ(shutdown(pair.b.get(), SHUT_WR), 0);
  QueueSelectRecv(pair.a.get(), 1);
  Cqe c = SubmitOne();
  EXPECT_RESULT(c.res, 0, "D.1:F_BUFFER recv at EOF");
  EXPECT_FALSE(HasFlag(c, IORING_CQE_F_BUFFER)) << "recv with res 0 recycles the buffer "
                                                << Describe(c);
  EXPECT_EQ(c.flags >> IORING_CQE_BUFFER_SHIFT, 0u)
      << "bits 16-31 carry a buffer id only with F_BUFFER " << Describe(c);
  ExpectBufferStillProvided(0xbeef);
}

void BufferSelect::RecvErrorLeavesBufferClear(Kind kind) {
  PROVIDE_OR_RETURN(kind, 5, 1, 64);
  UniqueFd unconnected(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(unconnected.valid());
  QueueSelectRecv(unconnected.get(), 1);
  Cqe c = SubmitOne();
  EXPECT_RESULT(c.res, -ENOTCONN, "D.1:F_BUFFER recv on an unconnected socket");
  EXPECT_FALSE(HasFlag(c, IORING_CQE_F_BUFFER)) << "recv with res < 0 recycles the buffer "
                                                << Describe(c);
  ExpectBufferStillProvided(5);
}

void BufferSelect::RecvWithDataSetsBuffer(Kind kind) {
  PROVIDE_OR_RETURN(kind, 3, 1, 64);
  SocketPair pair;
  ASSERT_RESULT(ConnectedPair(Transport::kUnixStream, &pair), 0, "socketpair");
  ASSERT_RESULT(SendAll(pair.b.get(), "ringcheck", 9), 0, "send");
  QueueSelectRecv(pair.a.get(), 1);
  Cqe c = SubmitOne();
  EXPECT_RESULT(c.res, 9, "D.1:F_BUFFER recv of data");
  ASSERT_TRUE(HasFlag(c, IORING_CQE_F_BUFFER)) << Describe(c);
  ASSERT_EQ(BufferId(c), 3) << Describe(c);
  EXPECT_EQ(std::memcmp(Data(3), "ringcheck", 9), 0);
}

void BufferSelect::EmptyGroupFailsWithEnobufs(Kind kind) {
  PROVIDE_OR_RETURN(kind, 11, 1, 64);
  UniqueFd file = ScratchFile(256);
  ASSERT_TRUE(file.valid());
  QueueSelectRead(file.get(), 64, 0, 1);
  Cqe first = SubmitOne();
  ASSERT_RESULT(first.res, 64, "D.1:F_BUFFER the group's only buffer");
  QueueSelectRead(file.get(), 64, 64, 2);
  Cqe c = SubmitOne();
  EXPECT_RESULT(c.res, -ENOBUFS, "D.1:F_BUFFER no buffer left in the group");
  EXPECT_FALSE(HasFlag(c, IORING_CQE_F_BUFFER)) << Describe(c);
  EXPECT_EQ(c.flags >> IORING_CQE_BUFFER_SHIFT, 0u) << Describe(c);
}

void BufferSelect::BufferIdUsesAllSixteenBits(Kind kind) {
  PROVIDE_OR_RETURN(kind, 0xfffe, 1, 32);
  UniqueFd file = ScratchFile(64);
  ASSERT_TRUE(file.valid());
  QueueSelectRead(file.get(), 32, 0, 1);
  Cqe c = SubmitOne();
  ASSERT_RESULT(c.res, 32, "D.1:F_BUFFER");
  ASSERT_TRUE(HasFlag(c, IORING_CQE_F_BUFFER)) << Describe(c);
  EXPECT_EQ(c.flags >> IORING_CQE_BUFFER_SHIFT, 0xfffeu) << Describe(c);
}

#define BOTH_KINDS(name, rule)                                 \
  TEST_P(BufferSelect, Legacy##name) {                         \
    RINGCHECK_RULE(rule);                                      \
    name(Kind::kLegacy);                                       \
  }                                                            \
  TEST_P(BufferSelect, Ring##name) {                           \
    RINGCHECK_RULE(rule);                                      \
    name(Kind::kRing);                                         \
  }

// D.1 F_BUFFER, io_uring_enter(2) IOSQE_BUFFER_SELECT: the id in bits 16-31.
BOTH_KINDS(ReadReportsChosenBufferId, "D.1:F_BUFFER")
// D.1 F_BUFFER: a read that hits EOF (res 0) still hands its buffer back.
BOTH_KINDS(ReadAtEofSetsBuffer, "D.1:F_BUFFER")
// D.1 F_BUFFER: an error after the buffer was chosen hands it back too.
BOTH_KINDS(ReadOfDirectoryFailsWithBufferSet, "D.1:F_BUFFER")
// D.1 F_BUFFER: recv with res 0 recycles the buffer; no flag, no id bits.
BOTH_KINDS(RecvAtEofLeavesBufferClear, "D.1:F_BUFFER")
// D.1 F_BUFFER: recv with res < 0 recycles the buffer; no flag.
BOTH_KINDS(RecvErrorLeavesBufferClear, "D.1:F_BUFFER")
// D.1 F_BUFFER: recv of data names the buffer that holds it.
BOTH_KINDS(RecvWithDataSetsBuffer, "D.1:F_BUFFER")
// D.1 F_BUFFER: no buffer left gives -ENOBUFS and no flag.
BOTH_KINDS(EmptyGroupFailsWithEnobufs, "D.1:F_BUFFER")
// D.1 F_BUFFER: the id is a full u16.
BOTH_KINDS(BufferIdUsesAllSixteenBits, "D.1:F_BUFFER")

// D.1 F_BUFFER, io_uring_enter(2): IOSQE_BUFFER_SELECT on an opcode that
// cannot select a buffer fails the request with -EOPNOTSUPP.
TEST_P(BufferSelect, SelectOnOpcodeWithoutSupportIsEopnotsupp) {
  RINGCHECK_RULE("D.1:F_BUFFER");
  io_uring_sqe* sqe = cqe::QueueSqe(ring(), 1, IOSQE_BUFFER_SELECT);
  ASSERT_NE(sqe, nullptr);
  sqe->buf_group = kGroup;
  Cqe c = SubmitOne();
  EXPECT_RESULT(c.res, -EOPNOTSUPP, "D.1:F_BUFFER NOP cannot select a buffer");
  EXPECT_FALSE(HasFlag(c, IORING_CQE_F_BUFFER)) << Describe(c);
}

// D.1: bits 16-31 are a buffer id only with F_BUFFER; a CQE of a request
// that never selected a buffer has them clear.
TEST_P(BufferSelect, UpperBitsClearWithoutBufferSelect) {
  RINGCHECK_RULE("D.1:F_BUFFER");
  UniqueFd file = ScratchFile(64);
  ASSERT_TRUE(file.valid());
  unsigned char buf[32];
  io_uring_sqe* sqe = cqe::QueueSqe(ring(), 1, 0);
  ASSERT_NE(sqe, nullptr);
  io_uring_prep_read(sqe, file.get(), buf, sizeof buf, 0);
  sqe->user_data = 1;
  Cqe c = SubmitOne();
  EXPECT_RESULT(c.res, 32, "read");
  EXPECT_EQ(c.flags, 0u) << Describe(c);
}

RINGCHECK_INSTANTIATE_FLAG_RINGS(BufferSelect);

}  // namespace
}  // namespace ringcheck
