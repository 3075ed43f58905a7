// Helpers for the IORING_REGISTER_CLONE_BUFFERS suite: registered buffers
// with known addresses, the raw register call, and fixed-buffer I/O that
// tells which memory a destination slot maps.
#ifndef RINGCHECK_SUITES_CLONE_CLONE_UTIL_H_
#define RINGCHECK_SUITES_CLONE_CLONE_UTIL_H_

#include <gtest/gtest.h>
#include <liburing.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "harness/fd.h"
#include "harness/ring.h"

namespace ringcheck {

constexpr unsigned kMaxRegBuffers = 1u << 14;  // IORING_MAX_REG_BUFFERS
constexpr size_t kBufSize = 4096;
constexpr size_t kFileSize = 64 * 1024;  // scratch files for fixed-buffer I/O

// `count` page-aligned buffers of `size` bytes, each its own range of one
// anonymous mapping. Buffer i's bytes are [at(i), at(i) + size).
class Buffers {
 public:
  explicit Buffers(unsigned count, size_t size = kBufSize);
  ~Buffers();
  Buffers(const Buffers&) = delete;
  Buffers& operator=(const Buffers&) = delete;

  bool ok() const { return base_ != nullptr; }
  unsigned count() const { return static_cast<unsigned>(iovecs_.size()); }
  size_t size() const { return size_; }
  char* at(unsigned i) const { return static_cast<char*>(iovecs_[i].iov_base); }
  const iovec* iovecs() const { return iovecs_.data(); }

  // io_uring_register_buffers with all of them: 0 or -errno.
  int RegisterWith(io_uring* ring) const;

 private:
  void* base_ = nullptr;
  size_t size_;
  std::vector<iovec> iovecs_;
};

// The argument of IORING_REGISTER_CLONE_BUFFERS (in C++ the struct's name is
// hidden by the liburing function of the same name).
using CloneBuffersArg = struct io_uring_clone_buffers;

CloneBuffersArg CloneArg(uint32_t src_fd, uint32_t flags = 0, uint32_t src_off = 0,
                         uint32_t dst_off = 0, uint32_t nr = 0);

// io_uring_register(dst_fd, IORING_REGISTER_CLONE_BUFFERS, &arg, 1).
int CloneRaw(int dst_fd, const CloneBuffersArg& arg);

// One READ_FIXED / WRITE_FIXED of `len` bytes between `addr` (which must lie
// in the buffer that slot `index` of `ring` maps) and `file_fd` at `offset`:
// the CQE's result, or -ETIME if no CQE came.
int ReadFixed(Ring& ring, int file_fd, void* addr, size_t len, unsigned index, off_t offset = 0);
int WriteFixed(Ring& ring, int file_fd, const void* addr, size_t len, unsigned index,
               off_t offset = 0);

// Passes when slot `index` of `ring` maps exactly buffer `buf` of `bufs`: a
// READ_FIXED of the whole buffer from the scratch file (ScratchFile content)
// through that slot succeeds and fills that buffer.
::testing::AssertionResult SlotMapsBuffer(Ring& ring, unsigned index, const Buffers& bufs,
                                          unsigned buf, int file_fd);
// Passes when slot `index` of `ring` maps none of the buffers in `candidates`
// (a hole, or an index past the table): READ_FIXED into each of them through
// the slot fails with -EFAULT. (A slot that maps some other buffer fails the
// same way for these addresses, so pass every buffer the test registered.)
::testing::AssertionResult SlotIsEmpty(Ring& ring, unsigned index,
                                       std::initializer_list<const Buffers*> candidates,
                                       int file_fd);

// The size of the ring's buffer table, learned destructively: BUFFERS_UPDATE
// accepts an offset below the size and refuses the size itself, and the slot
// at size - 1 is emptied. Call last. -1 if the answers make no sense.
int BufferTableSizeDestructive(io_uring* ring);

// In a child: clears CAP_IPC_LOCK from the calling thread's effective set,
// so rings created afterwards charge their memory to the user (ctx->user).
bool DropIpcLock();

// In a child: switches to a uid of its own (derived from the pid, so
// parallel runs differ) that no other process uses: rings created afterwards
// are charged to that uid's locked memory, which nothing else touches. false
// without the privilege (CAP_SETUID in the initial user namespace).
bool BecomeUnusedUid();

// In a child: whether rings created with the current credentials are exempt
// from memlock accounting (CAP_IPC_LOCK in the initial user namespace), told
// by registering a page under RLIMIT_MEMLOCK 0. Leaves the limit as it was.
bool RingsAreExemptFromMemlock();

// The usual cast: a source ring with four registered buffers, an empty
// destination ring, and a scratch file (ScratchFile content) for fixed I/O.
// SetUp SKIPs with unsupported:register_clone_buffers on kernels before 6.12.
class CloneFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  // What a derived fixture adds; runs only once the cast is all there (not
  // after a SKIP or a failed setup).
  virtual void SetUpCast() {}
  // Another ring of the named configuration; nullptr (and a recorded
  // SKIP or FAIL) if it cannot be created.
  std::unique_ptr<Ring> NewRing(const std::string& config = "default");
  uint32_t SrcFd() const { return static_cast<uint32_t>(src_->fd()); }

  std::unique_ptr<Ring> src_;  // src_bufs_ registered
  std::unique_ptr<Ring> dst_;  // nothing registered
  Buffers src_bufs_{4};
  Buffers dst_bufs_{4};  // for tests that give the destination buffers of its own
  UniqueFd file_;
};

}  // namespace ringcheck

#endif  // RINGCHECK_SUITES_CLONE_CLONE_UTIL_H_
