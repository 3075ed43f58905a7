// C14: the second "destination busy" check of IORING_REGISTER_CLONE_BUFFERS.
// io_register_clone_buffers checks the destination (C5), then drops its lock
// to take both rings' locks in address order; a table registered on the
// destination in that window must still make the clone -EBUSY.
//
// The window is held open for sure, not by timing: a third thread registers
// buffers on the source with its iovec array on a userfaultfd page, so it
// sleeps in the page fault while holding the source's uring_lock. The clone
// then blocks on that lock (seen as state D in /proc), and the destination's
// lock is free for the registration that makes it busy.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/userfaultfd.h>
#include <liburing.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "harness/configs.h"
#include "harness/features.h"
#include "harness/fd.h"
#include "harness/matchers.h"
#include "harness/pages.h"
#include "suites/clone/clone_util.h"

namespace ringcheck {
namespace {

using Clock = std::chrono::steady_clock;

// The scheduler state letter of one of this process's threads ('R', 'S', 'D').
char ThreadState(pid_t tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(stat, line);
  size_t paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() ? '?' : line[paren + 2];
}

// Waits (bounded) until the thread sleeps uninterruptibly: blocked on a mutex.
bool WaitForD(const std::atomic<pid_t>& tid, std::chrono::milliseconds limit) {
  const auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    if (tid.load() != 0 && ThreadState(tid.load()) == 'D') return true;
    std::this_thread::yield();
  }
  return false;
}

// A page registered with a userfaultfd in MISSING mode: the first access
// sleeps until Resolve() fills the page (or the userfaultfd is closed).
class FaultingPage {
 public:
  FaultingPage() {
    uffd_ = UniqueFd(static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK)));
    if (uffd_.get() < 0) {
      error_ = errno;
      return;
    }
    uffdio_api api = {};
    api.api = UFFD_API;
    if (ioctl(uffd_.get(), UFFDIO_API, &api) != 0) {
      error_ = errno;
      return;
    }
    void* p = mmap(nullptr, PageSize(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      error_ = errno;
      return;
    }
    page_ = p;
    uffdio_register reg = {};
    reg.range.start = reinterpret_cast<uint64_t>(page_);
    reg.range.len = PageSize();
    reg.mode = UFFDIO_REGISTER_MODE_MISSING;
    if (ioctl(uffd_.get(), UFFDIO_REGISTER, &reg) != 0) error_ = errno;
  }
  ~FaultingPage() {
    uffd_ = UniqueFd();  // wakes a thread still sleeping in the fault
    if (page_ != nullptr) munmap(page_, PageSize());
  }
  int error() const { return error_; }
  void* page() const { return page_; }

  // True once a thread has faulted on the page.
  bool WaitForFault(std::chrono::milliseconds limit) {
    pollfd p = {uffd_.get(), POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(limit.count())) != 1) return false;
    uffd_msg msg;
    return read(uffd_.get(), &msg, sizeof msg) == sizeof msg && msg.event == UFFD_EVENT_PAGEFAULT;
  }

  // Fills the page with `content` (a page's worth) and wakes the faulting thread.
  bool Resolve(const void* content) {
    uffdio_copy copy = {};
    copy.dst = reinterpret_cast<uint64_t>(page_);
    copy.src = reinterpret_cast<uint64_t>(content);
    copy.len = PageSize();
    return ioctl(uffd_.get(), UFFDIO_COPY, &copy) == 0;
  }

 private:
  UniqueFd uffd_;
  void* page_ = nullptr;
  int error_ = 0;
};

struct Attempt {
  bool window_held = false;  // the clone waited for the source while the destination was free
  int clone = 1;
  int dst_register = 1;
  int src_register = 1;
};

// Clones src into dst while the source's lock is held by a registration
// sleeping in a userfaultfd fault, and registers a buffer on dst meanwhile.
Attempt CloneIntoDestinationMadeBusyInTheWindow(Ring& src, Ring& dst, std::string* problem) {
  Attempt a;
  FaultingPage fault;
  if (fault.error() != 0) {
    *problem = std::string("userfaultfd: ") + std::strerror(fault.error());
    return a;
  }
  Buffers src_buf(1), dst_buf(1);
  std::thread holder([&] {
    // REGISTER_BUFFERS reads its iovec array under the source's uring_lock:
    // the read faults on the userfaultfd page and sleeps there.
    a.src_register = io_uring_register(static_cast<unsigned>(src.fd()), IORING_REGISTER_BUFFERS,
                                       fault.page(), 1);
  });
  if (!fault.WaitForFault(std::chrono::seconds(5))) {
    *problem = "the source registration never faulted on the userfaultfd page";
    fault.Resolve(src_buf.iovecs());  // whatever it is doing, let it go
    holder.join();
    return a;
  }
  std::atomic<pid_t> clone_tid{0};
  std::thread cloner([&] {
    clone_tid = static_cast<pid_t>(syscall(SYS_gettid));
    a.clone = CloneRaw(dst.fd(), CloneArg(static_cast<uint32_t>(src.fd())));
  });
  bool cloner_blocked = WaitForD(clone_tid, std::chrono::seconds(5));
  std::atomic<pid_t> reg_tid{0};
  std::atomic<bool> reg_done{false};
  std::thread registrar([&] {
    reg_tid = static_cast<pid_t>(syscall(SYS_gettid));
    a.dst_register = dst_buf.RegisterWith(dst.get());
    reg_done = true;
  });
  // The destination is free when the clone waits for the source first (the
  // source's lock comes first in address order); otherwise the clone holds
  // it and the registration blocks too.
  const auto until = Clock::now() + std::chrono::seconds(2);
  while (!reg_done && Clock::now() < until && !(reg_tid && ThreadState(reg_tid) == 'D')) {
    std::this_thread::yield();
  }
  if (!reg_done) WaitForD(reg_tid, std::chrono::milliseconds(500));
  a.window_held = cloner_blocked && reg_done;
  // The page the source registration reads: one iovec over a real buffer.
  std::unique_ptr<char[]> content(new char[PageSize()]());
  std::memcpy(content.get(), src_buf.iovecs(), sizeof(iovec));
  if (!fault.Resolve(content.get())) *problem = std::string("UFFDIO_COPY: ") + std::strerror(errno);
  holder.join();
  cloner.join();
  registrar.join();
  if (!cloner_blocked && problem->empty()) {
    *problem = "the clone never blocked on the source's lock";
  }
  return a;
}

// C14: a table registered on the destination after the first busy check
// (C5) and before the clone takes both locks makes the clone -EBUSY.
TEST(CloneBuffersRace, DestinationMadeBusyWhileWaitingForSourceIsBusy) {
  RINGCHECK_RULE("C14");
  REQUIRE_FEATURE("register_clone_buffers");
  // The re-check under both locks came with the offsets (6.13); 6.12 takes
  // both locks before its only check.
  REQUIRE_FEATURE("clone_buffers_offset");
  CREATE_RING_OR_SKIP(x, ConfigNamed("default"));
  CREATE_RING_OR_SKIP(y, ConfigNamed("default"));
  // Locks are taken in address order, which the test cannot see: one of the
  // two directions leaves the destination's lock free while the clone waits.
  for (int round = 0; round < 2; ++round) {
    Ring& src = round == 0 ? *x : *y;
    Ring& dst = round == 0 ? *y : *x;
    std::string problem;
    Attempt a = CloneIntoDestinationMadeBusyInTheWindow(src, dst, &problem);
    if (problem.rfind("userfaultfd:", 0) == 0) {
      GTEST_SKIP() << "environment:userfaultfd (" << problem << ")";
    }
    ASSERT_TRUE(problem.empty()) << problem;
    EXPECT_RESULT(a.src_register, 0, "C14: the registration that held the source's lock");
    if (!a.window_held) {
      // The clone held the destination: it ran with an empty destination,
      // and the registration found the cloned table. Try the other way.
      EXPECT_RESULT(a.clone, 0, "C14 (other lock order): clone into an empty destination");
      ASSERT_EQ(io_uring_unregister_buffers(dst.get()), 0);
      ASSERT_EQ(io_uring_unregister_buffers(src.get()), 0);
      continue;
    }
    EXPECT_RESULT(a.dst_register, 0, "C14: registering on the destination inside the window");
    EXPECT_RESULT(a.clone, -EBUSY, "C14");
    return;
  }
  FAIL() << "in neither direction did the clone wait for the source with the destination free";
}

}  // namespace
}  // namespace ringcheck
