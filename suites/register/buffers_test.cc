// IORING_REGISTER_BUFFERS, BUFFERS2, BUFFERS_UPDATE and UNREGISTER_BUFFERS
// (io_uring_register(2), io_uring_register_buffers(3); kernel rsrc.c
// io_sqe_buffers_register, io_buffer_validate, io_sqe_buffer_register,
// io_account_mem, __io_sqe_buffers_update, io_sqe_buffers_unregister).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "harness/child.h"
#include "harness/configs.h"
#include "harness/fd.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/in_child.h"
#include "suites/register/register_util.h"

namespace ringcheck {
namespace {

constexpr size_t kBuf = 4096;

// Writes `len` bytes from fixed buffer `index` (at `addr`) into a pipe and
// returns the CQE result.
int WriteFixedToPipe(Ring& ring, int pipe_w, void* addr, unsigned len, int index) {
  SubmitOne(ring, [&](io_uring_sqe* sqe) {
    io_uring_prep_write_fixed(sqe, pipe_w, addr, len, 0, index);
  });
  return ReapOne(ring).res;
}

class RegisterBuffers : public RingTest {
 protected:
  void SetUp() override {
    RingTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    memory_.assign(4 * kBuf, 0);
    for (size_t i = 0; i < memory_.size(); ++i) memory_[i] = static_cast<unsigned char>(i * 7);
  }
  iovec Iov(size_t slot) { return {memory_.data() + slot * kBuf, kBuf}; }
  std::vector<unsigned char> memory_;
};

// J26: a registered buffer is what WRITE_FIXED reads.
TEST_P(RegisterBuffers, WriteFixedUsesTheRegisteredBuffer) {
  RINGCHECK_RULE("J26");
  iovec iov[2] = {Iov(0), Iov(1)};
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_BUFFERS, iov, 2), 0, "J26");
  Pipe p;
  ASSERT_RESULT(WriteFixedToPipe(ring(), p.write_fd, memory_.data() + kBuf + 10, 16, 1), 16,
                "J26");
  unsigned char got[16];
  ASSERT_EQ(read(p.read_fd, got, 16), 16);
  EXPECT_EQ(0, std::memcmp(got, memory_.data() + kBuf + 10, 16));
}

// J26: an address outside the slot's buffer, or a slot that does not exist,
// is -EFAULT.
TEST_P(RegisterBuffers, AddressOutsideBufferFaults) {
  RINGCHECK_RULE("J26");
  iovec iov[1] = {Iov(0)};
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_BUFFERS, iov, 1), 0, "J26");
  Pipe p;
  EXPECT_RESULT(WriteFixedToPipe(ring(), p.write_fd, memory_.data() + kBuf - 8, 16, 0), -EFAULT,
                "J26: past the end");
  EXPECT_RESULT(WriteFixedToPipe(ring(), p.write_fd, memory_.data(), 16, 1), -EFAULT,
                "J26: slot 1 of 1");
}

// J22: nr_args 0, or more than 16384 buffers, is -EINVAL; a NULL array -EFAULT.
TEST_P(RegisterBuffers, CountIsValidated) {
  RINGCHECK_RULE("J22");
  iovec iov[1] = {Iov(0)};
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_BUFFERS, iov, 0), -EINVAL, "J22: 0");
  std::vector<iovec> many(16385, iovec{nullptr, 0});
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_BUFFERS, many.data(), 16385), -EINVAL,
                "J22: 16385");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_BUFFERS, nullptr, 1), -EFAULT,
                "J22: NULL");
}

// J28: 16384 slots (empty ones, iov_base NULL and iov_len 0) are accepted.
TEST_P(RegisterBuffers, SixteenThousandEmptySlotsAreAccepted) {
  RINGCHECK_RULE("J28 J25");
  std::vector<iovec> many(16384, iovec{nullptr, 0});
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_BUFFERS, many.data(), 16384), 0, "J28");
  Pipe p;
  EXPECT_RESULT(WriteFixedToPipe(ring(), p.write_fd, memory_.data(), 8, 16383), -EFAULT,
                "J25: an empty slot holds no memory");
}

// J23: a second registration is -EBUSY.
TEST_P(RegisterBuffers, SecondRegistrationIsBusy) {
  RINGCHECK_RULE("J23");
  iovec iov[1] = {Iov(0)};
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_BUFFERS, iov, 1), 0, "J23");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_BUFFERS, iov, 1), -EBUSY, "J23");
}

// J24: a buffer longer than 1 GiB is -EFAULT (refused before any page is
// pinned, so no memory is needed).
TEST_P(RegisterBuffers, LongerThanOneGibFaults) {
  RINGCHECK_RULE("J24");
  iovec iov[1] = {{memory_.data(), (1ul << 30) + 4096}};
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_BUFFERS, iov, 1), -EFAULT, "J24");
}

// J25: NULL base with a length, or a base with length 0, is -EFAULT.
TEST_P(RegisterBuffers, HalfEmptyIovecsFault) {
  RINGCHECK_RULE("J25");
  iovec null_base[1] = {{nullptr, 4096}};
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_BUFFERS, null_base, 1), -EFAULT,
                "J25: NULL base, length 4096");
  iovec zero_len[1] = {{memory_.data(), 0}};
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_BUFFERS, zero_len, 1), -EFAULT,
                "J25: base, length 0");
}

// J27: unregistering without buffers is -ENXIO, arguments are -EINVAL, and
// an unregistered slot is -EFAULT for READ/WRITE_FIXED.
TEST_P(RegisterBuffers, UnregisterWithoutBuffersIsNxio) {
  RINGCHECK_RULE("J27");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_BUFFERS, nullptr, 0), -ENXIO, "J27");
}

TEST_P(RegisterBuffers, UnregisterRemovesTheBuffers) {
  RINGCHECK_RULE("J27");
  iovec iov[1] = {Iov(0)};
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_BUFFERS, iov, 1), 0, "J27");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_BUFFERS, iov, 0), -EINVAL,
                "J27: arg");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_BUFFERS, nullptr, 1), -EINVAL,
                "J27: nr_args");
  ASSERT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_BUFFERS, nullptr, 0), 0, "J27");
  Pipe p;
  EXPECT_RESULT(WriteFixedToPipe(ring(), p.write_fd, memory_.data(), 8, 0), -EFAULT, "J27");
}

// J30: shmem (memfd) memory may be registered.
TEST_P(RegisterBuffers, ShmemMemoryIsAccepted) {
  RINGCHECK_RULE("J30");
  int mfd = static_cast<int>(syscall(SYS_memfd_create, "ringcheck", 0));
  ASSERT_GE(mfd, 0);
  UniqueFd m(mfd);
  ASSERT_EQ(ftruncate(mfd, kBuf), 0);
  void* mem = mmap(nullptr, kBuf, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
  ASSERT_NE(mem, MAP_FAILED);
  std::memset(mem, 'm', kBuf);
  iovec iov[1] = {{mem, kBuf}};
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_BUFFERS, iov, 1), 0, "J30");
  Pipe p;
  EXPECT_RESULT(WriteFixedToPipe(ring(), p.write_fd, mem, 8, 0), 8, "J30");
  RegisterRaw(ring().fd(), IORING_UNREGISTER_BUFFERS, nullptr, 0);
  munmap(mem, kBuf);
}

// J30: a shared mapping of a regular file on a disk filesystem is refused
// (-EOPNOTSUPP where io_uring checks the VMAs; -EFAULT where
// pin_user_pages refuses a long-term writable pin of such a file).
TEST_P(RegisterBuffers, FileBackedMemoryIsRefused) {
  RINGCHECK_RULE("J30");
  UniqueFd f = ScratchFile(kBuf);
  ASSERT_TRUE(f.valid());
  struct statfs fs;
  ASSERT_EQ(fstatfs(f.get(), &fs), 0);
  if (fs.f_type == 0x01021994 /* TMPFS_MAGIC */ || fs.f_type == 0x858458f6 /* RAMFS */)
    GTEST_SKIP() << "environment:disk_filesystem (scratch files live on tmpfs, which is shmem)";
  void* mem = mmap(nullptr, kBuf, PROT_READ | PROT_WRITE, MAP_SHARED, f.get(), 0);
  ASSERT_NE(mem, MAP_FAILED);
  iovec iov[1] = {{mem, kBuf}};
  long ret = RegisterRaw(ring().fd(), IORING_REGISTER_BUFFERS, iov, 1);
  EXPECT_TRUE(ret == -EOPNOTSUPP || ret == -EFAULT)
      << "J30: expected -EOPNOTSUPP or -EFAULT, got " << ResultName(ret);
  if (ret == 0) RegisterRaw(ring().fd(), IORING_UNREGISTER_BUFFERS, nullptr, 0);
  munmap(mem, kBuf);
}

INSTANTIATE_TEST_SUITE_P(Rings, RegisterBuffers,
                         ::testing::Values(ConfigNamed("default"), ConfigNamed("sqpoll"),
                                           ConfigNamed("defer_taskrun_single_issuer")),
                         ConfigParamName);

// J24: exactly 1 GiB is accepted (the pages are pinned, so this needs the
// memory).
TEST(RegisterBuffersSize, OneGibIsAccepted) {
  RINGCHECK_RULE("J24");
  if (MemAvailableBytes() < (3ull << 30))
    GTEST_SKIP() << "environment:memory (pinning 1 GiB needs 3 GiB available)";
  io_uring ring;
  ASSERT_EQ(io_uring_queue_init(2, &ring, 0), 0);
  size_t len = 1ul << 30;
  void* mem = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  iovec iov[1] = {{mem, len}};
  EXPECT_RESULT(RegisterRaw(ring.ring_fd, IORING_REGISTER_BUFFERS, iov, 1), 0, "J24");
  io_uring_queue_exit(&ring);
  munmap(mem, len);
}

// J29: an unprivileged user's pinned buffer pages count against its
// RLIMIT_MEMLOCK: over the limit is -ENOMEM, under it works.
TEST(RegisterBuffersMemlock, UnprivilegedUserIsLimitedByMemlock) {
  RINGCHECK_RULE("J29");
  ChildRun run = InChild([](ChildChannel& child) {
    rlimit lim = {64 * 1024, 64 * 1024};
    ASSERT_EQ(setrlimit(RLIMIT_MEMLOCK, &lim), 0) << "setrlimit(RLIMIT_MEMLOCK)";
    if (BecomeUser() != 0) return child.Skip("privilege:setuid (cannot become uid 65534)");
    io_uring ring;
    if (io_uring_queue_init(2, &ring, 0) != 0) {
      return child.Skip("environment:io_uring_disabled (uid 65534 gets no ring)");
    }
    size_t big = 1 << 20;
    void* mem = mmap(nullptr, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    std::memset(mem, 1, big);
    iovec over[1] = {{mem, big}};
    child.Put(0, RegisterRaw(ring.ring_fd, IORING_REGISTER_BUFFERS, over, 1));
    iovec under[1] = {{mem, 16 * 1024}};
    child.Put(1, RegisterRaw(ring.ring_fd, IORING_REGISTER_BUFFERS, under, 1));
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), -ENOMEM, "J29: 1 MiB over a 64 KiB RLIMIT_MEMLOCK");
  EXPECT_RESULT(run.Value(1), 0, "J29: 16 KiB under it");
}

// J29: with CAP_IPC_LOCK (root) the limit does not apply.
TEST(RegisterBuffersMemlock, CapIpcLockIgnoresMemlock) {
  RINGCHECK_RULE("J29");
  ChildRun run = InChild([](ChildChannel& child) {
    rlimit lim = {64 * 1024, 64 * 1024};
    ASSERT_EQ(setrlimit(RLIMIT_MEMLOCK, &lim), 0) << "setrlimit(RLIMIT_MEMLOCK)";
    io_uring ring;
    ASSERT_EQ(io_uring_queue_init(2, &ring, 0), 0);
    size_t big = 1 << 20;
    void* mem = mmap(nullptr, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    iovec over[1] = {{mem, big}};
    child.Put(0, RegisterRaw(ring.ring_fd, IORING_REGISTER_BUFFERS, over, 1));
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), 0, "J29: 1 MiB over a 64 KiB limit, with CAP_IPC_LOCK");
}

}  // namespace
}  // namespace ringcheck
