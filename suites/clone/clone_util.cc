#include "suites/clone/clone_util.h"

#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "harness/configs.h"
#include "harness/errno_names.h"
#include "harness/fd.h"
#include "harness/features.h"

namespace ringcheck {

Buffers::Buffers(unsigned count, size_t size) : size_(size) {
  void* p = mmap(nullptr, count * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return;
  base_ = p;
  std::memset(p, 0, count * size);
  for (unsigned i = 0; i < count; ++i) {
    iovecs_.push_back({static_cast<char*>(p) + i * size, size});
  }
}

Buffers::~Buffers() {
  if (base_ != nullptr) munmap(base_, iovecs_.size() * size_);
}

int Buffers::RegisterWith(io_uring* ring) const {
  return io_uring_register_buffers(ring, iovecs_.data(), count());
}

CloneBuffersArg CloneArg(uint32_t src_fd, uint32_t flags, uint32_t src_off, uint32_t dst_off,
                         uint32_t nr) {
  CloneBuffersArg arg;
  std::memset(&arg, 0, sizeof arg);
  arg.src_fd = src_fd;
  arg.flags = flags;
  arg.src_off = src_off;
  arg.dst_off = dst_off;
  arg.nr = nr;
  return arg;
}

int CloneRaw(int dst_fd, const CloneBuffersArg& arg) {
  return io_uring_register(static_cast<unsigned>(dst_fd), IORING_REGISTER_CLONE_BUFFERS,
                           const_cast<CloneBuffersArg*>(&arg), 1);
}

namespace {

int OneFixed(Ring& ring, bool write, int file_fd, void* addr, size_t len, unsigned index,
             off_t offset) {
  io_uring_sqe* sqe = ring.NextSqe();
  if (sqe == nullptr) return -EBUSY;
  if (write) {
    io_uring_prep_write_fixed(sqe, file_fd, addr, static_cast<unsigned>(len), offset,
                              static_cast<int>(index));
  } else {
    io_uring_prep_read_fixed(sqe, file_fd, addr, static_cast<unsigned>(len), offset,
                             static_cast<int>(index));
  }
  sqe->user_data = 0xf1fed;
  int submitted = ring.Submit();
  if (submitted != 1) return submitted < 0 ? submitted : -EAGAIN;
  std::vector<Cqe> cqes = ring.Reap(1);
  return cqes.empty() ? -ETIME : cqes[0].res;
}

}  // namespace

int ReadFixed(Ring& ring, int file_fd, void* addr, size_t len, unsigned index, off_t offset) {
  return OneFixed(ring, false, file_fd, addr, len, index, offset);
}

int WriteFixed(Ring& ring, int file_fd, const void* addr, size_t len, unsigned index,
               off_t offset) {
  return OneFixed(ring, true, file_fd, const_cast<void*>(addr), len, index, offset);
}

::testing::AssertionResult SlotMapsBuffer(Ring& ring, unsigned index, const Buffers& bufs,
                                          unsigned buf, int file_fd) {
  char* p = bufs.at(buf);
  std::memset(p, 0, bufs.size());
  int res = ReadFixed(ring, file_fd, p, bufs.size(), index);
  if (res != static_cast<int>(bufs.size())) {
    return ::testing::AssertionFailure()
           << "READ_FIXED through slot " << index << " into buffer " << buf << " gave "
           << ResultName(res) << ", expected " << bufs.size() << " (slot should map it)";
  }
  for (size_t i = 0; i < bufs.size(); ++i) {
    if (static_cast<unsigned char>(p[i]) != PatternByte(i)) {
      return ::testing::AssertionFailure()
             << "READ_FIXED through slot " << index << " succeeded but buffer " << buf
             << " does not hold the file's data at byte " << i;
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult SlotIsEmpty(Ring& ring, unsigned index,
                                       std::initializer_list<const Buffers*> candidates,
                                       int file_fd) {
  for (const Buffers* bufs : candidates) {
    for (unsigned b = 0; b < bufs->count(); ++b) {
      int res = ReadFixed(ring, file_fd, bufs->at(b), bufs->size(), index);
      if (res != -EFAULT) {
        return ::testing::AssertionFailure()
               << "READ_FIXED through slot " << index << " into a registered buffer gave "
               << ResultName(res) << ", expected -EFAULT (no buffer in that slot)";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

int BufferTableSizeDestructive(io_uring* ring) {
  iovec none = {nullptr, 0};
  // Find the first offset the update refuses.
  unsigned lo = 0, hi = kMaxRegBuffers + 1;  // update at lo works unless lo == 0
  if (io_uring_register_buffers_update_tag(ring, 0, &none, nullptr, 1) != 1) return 0;
  while (hi - lo > 1) {
    unsigned mid = lo + (hi - lo) / 2;
    if (io_uring_register_buffers_update_tag(ring, mid, &none, nullptr, 1) == 1) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return static_cast<int>(hi);
}

bool DropIpcLock() {
  __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  data[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
  return syscall(SYS_capset, &hdr, data) == 0;
}

bool BecomeUnusedUid() {
  const unsigned id = 2000000000u + static_cast<unsigned>(getpid());
  return setresgid(id, id, id) == 0 && setresuid(id, id, id) == 0;
}

bool RingsAreExemptFromMemlock() {
  io_uring ring;
  if (io_uring_queue_init(2, &ring, 0) < 0) return false;
  rlimit saved;
  getrlimit(RLIMIT_MEMLOCK, &saved);
  rlimit none = {0, saved.rlim_max};
  setrlimit(RLIMIT_MEMLOCK, &none);
  Buffers page(1);
  int ret = page.RegisterWith(&ring);
  setrlimit(RLIMIT_MEMLOCK, &saved);
  io_uring_queue_exit(&ring);
  return ret == 0;
}

void CloneFixture::SetUp() {
  REQUIRE_FEATURE("register_clone_buffers");
  src_ = NewRing();
  if (src_ == nullptr) return;
  dst_ = NewRing();
  if (dst_ == nullptr) return;
  ASSERT_TRUE(src_bufs_.ok() && dst_bufs_.ok());
  int ret = src_bufs_.RegisterWith(src_->get());
  ASSERT_EQ(ret, 0) << "registering the source's buffers: " << ResultName(ret);
  file_ = ScratchFile(kFileSize);
  ASSERT_TRUE(file_.valid()) << "no scratch file in " << ScratchDir();
  SetUpCast();
}

std::unique_ptr<Ring> CloneFixture::NewRing(const std::string& config) {
  std::unique_ptr<Ring> ring;
  std::string why;
  int ret = CreateRingForTest(ConfigNamed(config), &ring, &why);
  if (ret < 0) {
    // A SKIP for a kernel that lacks a flag, else a fatal failure: either
    // way the test body does not run after SetUp, and callers in a body
    // return on nullptr.
    std::string msg =
        why.empty() ? "ring setup failed: " + ResultName(ret) + " (" + config + ")" : why;
    GTEST_MESSAGE_(msg.c_str(), why.empty() ? ::testing::TestPartResult::kFatalFailure
                                            : ::testing::TestPartResult::kSkip);
    return nullptr;
  }
  return ring;
}

}  // namespace ringcheck
