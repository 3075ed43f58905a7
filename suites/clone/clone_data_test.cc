// Data through cloned buffers (io_uring_clone_buffers(3): the destination
// gets the same mappings; kernel rsrc.c io_clone_buffers shares the
// refcounted io_mapped_ubuf): what one ring writes through a cloned buffer
// the other reads back, and the clone outlives the source's registration and
// the source ring itself (C25) without being charged twice.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "harness/in_child.h"
#include "harness/matchers.h"
#include "suites/clone/clone_util.h"

namespace ringcheck {
namespace {

class CloneBuffersData : public CloneFixture {
 protected:
  void FillBuffer(unsigned buf, unsigned char seed) {
    for (size_t i = 0; i < src_bufs_.size(); ++i) {
      src_bufs_.at(buf)[i] = static_cast<char>(seed + i * 7);
    }
  }
  bool BufferHolds(unsigned buf, unsigned char seed) {
    for (size_t i = 0; i < src_bufs_.size(); ++i) {
      if (src_bufs_.at(buf)[i] != static_cast<char>(seed + i * 7)) return false;
    }
    return true;
  }
};

// C22: WRITE_FIXED through the clone writes the shared memory; READ_FIXED
// through the source (and a plain pread) read the same bytes back.
TEST_F(CloneBuffersData, WriteThroughCloneReadsBackThroughSource) {
  RINGCHECK_RULE("C22");
  ASSERT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd())), 0, "C22");
  const size_t n = src_bufs_.size();
  FillBuffer(2, 0x5a);
  ASSERT_RESULT(WriteFixed(*dst_, file_.get(), src_bufs_.at(2), n, 2, 8192), static_cast<long>(n),
                "C22: WRITE_FIXED through the clone");
  std::vector<char> plain(n);
  ASSERT_EQ(pread(file_.get(), plain.data(), n, 8192), static_cast<ssize_t>(n));
  EXPECT_EQ(std::memcmp(plain.data(), src_bufs_.at(2), n), 0)
      << "rule C22: the file got the buffer";
  std::memset(src_bufs_.at(2), 0, n);
  ASSERT_RESULT(ReadFixed(*src_, file_.get(), src_bufs_.at(2), n, 2, 8192), static_cast<long>(n),
                "C22: READ_FIXED through the source");
  EXPECT_TRUE(BufferHolds(2, 0x5a)) << "rule C22: the source read back what the clone wrote";
}

// C25: the clone keeps working after the source unregisters its buffers.
TEST_F(CloneBuffersData, CloneWorksAfterSourceUnregisters) {
  RINGCHECK_RULE("C25");
  ASSERT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd())), 0, "C25");
  ASSERT_EQ(io_uring_unregister_buffers(src_->get()), 0);
  EXPECT_TRUE(SlotIsEmpty(*src_, 0, {&src_bufs_}, file_.get())) << "the source has no buffers now";
  for (unsigned i = 0; i < src_bufs_.count(); ++i) {
    EXPECT_TRUE(SlotMapsBuffer(*dst_, i, src_bufs_, i, file_.get())) << "rule C25, slot " << i;
  }
  FillBuffer(1, 0x33);
  EXPECT_RESULT(WriteFixed(*dst_, file_.get(), src_bufs_.at(1), src_bufs_.size(), 1, 4096),
                static_cast<long>(src_bufs_.size()), "C25: WRITE_FIXED");
}

// C25: ... and after the source ring is gone altogether.
TEST_F(CloneBuffersData, CloneWorksAfterSourceRingIsClosed) {
  RINGCHECK_RULE("C25");
  ASSERT_RESULT(CloneRaw(dst_->fd(), CloneArg(SrcFd())), 0, "C25");
  src_.reset();
  for (unsigned i = 0; i < src_bufs_.count(); ++i) {
    EXPECT_TRUE(SlotMapsBuffer(*dst_, i, src_bufs_, i, file_.get())) << "rule C25, slot " << i;
  }
}

// C25: the clone is not charged a second time. In a child whose rings are
// charged (a uid of its own, or at least no CAP_IPC_LOCK) and with
// RLIMIT_MEMLOCK at 127 pages, 64 registered pages leave room for a clone of
// them only if the clone costs nothing; a second registration of 64 pages
// shows the limit is real. A uid of its own keeps other processes' charges
// out of the count; without the privilege the child shares its uid's.
TEST_F(CloneBuffersData, CloneIsNotChargedTwice) {
  RINGCHECK_RULE("C25");
  constexpr unsigned kPages = 64;
  ChildRun run = InChild([](ChildChannel& child) {
    ASSERT_TRUE(BecomeUnusedUid() || DropIpcLock())
        << "neither a uid of its own nor dropping CAP_IPC_LOCK worked";
    io_uring source, clone, other;
    ASSERT_RESULT(io_uring_queue_init(4, &source, 0), 0, "the source ring");
    ASSERT_RESULT(io_uring_queue_init(4, &clone, 0), 0, "the clone's ring");
    ASSERT_RESULT(io_uring_queue_init(4, &other, 0), 0, "the other ring");
    Buffers bufs(kPages), more(kPages);
    rlimit limit;
    getrlimit(RLIMIT_MEMLOCK, &limit);
    limit.rlim_cur = (2 * kPages - 1) * 4096;
    ASSERT_TRUE(limit.rlim_max == RLIM_INFINITY || limit.rlim_max >= limit.rlim_cur)
        << "RLIMIT_MEMLOCK's hard limit is below " << limit.rlim_cur << " bytes";
    ASSERT_EQ(setrlimit(RLIMIT_MEMLOCK, &limit), 0) << "setrlimit(RLIMIT_MEMLOCK)";
    child.Put(0, bufs.RegisterWith(&source));
    child.Put(1, CloneRaw(clone.ring_fd, CloneArg(static_cast<uint32_t>(source.ring_fd))));
    child.Put(2, more.RegisterWith(&other));
    child.Put(3, Buffers(1).RegisterWith(&clone));  // the clone did give it a table
  });
  ASSERT_CHILD_RAN(run);
  ASSERT_RESULT(run.Value(0), 0,
                "C25: 64 pages under a 127-page limit (if -ENOMEM: the uid already has more "
                "than 63 pages of io_uring memory charged, or the kernel charges too much)");
  EXPECT_RESULT(run.Value(1), 0, "C25: the clone must not be charged again");
  EXPECT_RESULT(run.Value(2), -ENOMEM, "C25: a second registration of 64 pages is charged");
  EXPECT_RESULT(run.Value(3), -EBUSY, "C25: the clone happened (its ring has a table)");
}

}  // namespace
}  // namespace ringcheck
