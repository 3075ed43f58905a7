#include "suites/register/register_util.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "harness/fd.h"

namespace ringcheck {

long RegisterRaw(int fd, unsigned opcode, const void* arg, unsigned nr_args) {
  long ret = syscall(__NR_io_uring_register, fd, opcode, arg, nr_args);
  return ret < 0 ? -errno : ret;
}

long EnterRaw(int fd, unsigned to_submit, unsigned min_complete, unsigned flags,
              const void* arg, size_t argsz) {
  long ret = syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, arg, argsz);
  return ret < 0 ? -errno : ret;
}

int SubmitNops(Ring& ring, unsigned count, uint64_t base) {
  for (unsigned i = 0; i < count; ++i) {
    io_uring_sqe* sqe = ring.NextSqe();
    io_uring_prep_nop(sqe);
    sqe->user_data = base + i;
  }
  int ret = ring.Submit();
  // On SQPOLL rings liburing returns every SQE the thread has not consumed
  // yet, earlier ones included; count only these.
  return ret > static_cast<int>(count) ? static_cast<int>(count) : ret;
}

Cqe ReapOne(Ring& ring, std::chrono::milliseconds timeout) {
  std::vector<Cqe> got = ring.Reap(1, timeout);
  if (got.empty()) {
    Cqe none;
    none.res = kNoCqe;
    return none;
  }
  return got[0];
}

TempDir::TempDir(const std::string& parent) {
  std::string base = parent.empty() ? ScratchDir() : parent;
  std::string pattern = base + "/ringcheck-register-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) != nullptr) path_ = buf.data();
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int BecomeUser(unsigned id, bool keep_saved_root) {
  if (setgroups(0, nullptr) != 0) return -errno;
  if (syscall(SYS_setresgid, id, id, id) != 0) return -errno;
  unsigned saved = keep_saved_root ? 0 : id;
  if (syscall(SYS_setresuid, id, id, saved) != 0) return -errno;
  return 0;
}

int64_t ClockNs(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int64_t MonotonicNs() { return ClockNs(CLOCK_MONOTONIC); }

Pipe::Pipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) == 0) {
    read_fd = fds[0];
    write_fd = fds[1];
  }
}

Pipe::~Pipe() {
  if (read_fd >= 0) close(read_fd);
  if (write_fd >= 0) close(write_fd);
}

uint64_t ReadEventfd(int efd) {
  int flags = fcntl(efd, F_GETFL);
  fcntl(efd, F_SETFL, flags | O_NONBLOCK);
  uint64_t value = 0;
  if (read(efd, &value, sizeof(value)) != sizeof(value)) value = 0;
  fcntl(efd, F_SETFL, flags);
  return value;
}

uint64_t MemAvailableBytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t value = 0;
  std::string unit;
  while (in >> key >> value) {
    std::getline(in, unit);
    if (key == "MemAvailable:") return value * 1024;
  }
  return 0;
}

bool InGuest() {
  const char* g = std::getenv("RINGCHECK_GUEST");
  return g != nullptr && std::strcmp(g, "1") == 0;
}

}  // namespace ringcheck
