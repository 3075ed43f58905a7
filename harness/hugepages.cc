#include "harness/hugepages.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

namespace ringcheck {
namespace {

constexpr char kPool[] = "/proc/sys/vm/nr_hugepages";
constexpr char kLock[] = "/tmp/ringcheck-hugepages.lock";

long ReadLong(const char* path) {
  std::ifstream in(path);
  long v = -1;
  if (!(in >> v)) return -1;
  return v;
}

bool WriteLong(const char* path, long value) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string text = std::to_string(value) + "\n";
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

// Holds the lock file for the lifetime of the object.
class PoolLock {
 public:
  PoolLock() {
    fd_ = open(kLock, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd_ >= 0) flock(fd_, LOCK_EX);
  }
  ~PoolLock() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace

namespace {

long MeminfoValue(const std::string& name) {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  long value = -1;
  while (meminfo >> key) {
    if (key == name && meminfo >> value) return value;
  }
  return -1;
}

}  // namespace

long FreeHugePages() { return MeminfoValue("HugePages_Free:"); }

std::unique_ptr<HugePageReservation> HugePageReservation::Ensure(unsigned count,
                                                                 std::string* why_not) {
  PoolLock lock;
  if (!lock.ok()) {
    *why_not = std::string("cannot open ") + kLock + ": " + std::strerror(errno);
    return nullptr;
  }
  const long free_before = FreeHugePages();
  if (free_before < 0) {
    *why_not = "the kernel has no huge pages (no HugePages_Free in /proc/meminfo)";
    return nullptr;
  }
  // Always add this reservation's own pages: free pages seen now may be
  // taken by another test before this one uses them. Raising the pool first
  // turns surplus pages into pool pages, and surplus pages are in use: an
  // earlier ring's page the kernel has not let go of yet (io_ring_exit_work
  // runs later). So the pool grows by the surplus as well, and the pages
  // this reservation needs are checked to be free.
  const long pool = ReadLong(kPool);
  const long surplus = std::max(0L, MeminfoValue("HugePages_Surp:"));
  if (pool < 0 || !WriteLong(kPool, pool + surplus + count)) {
    *why_not = std::string("cannot add huge pages to ") + kPool + ": " + std::strerror(errno);
    return nullptr;
  }
  const long added = ReadLong(kPool) - pool;  // the kernel may find fewer
  if (added <= 0 || FreeHugePages() < 1) {
    if (added > 0) WriteLong(kPool, pool);
    *why_not = "the kernel could not find memory for " + std::to_string(count) + " more huge pages";
    return nullptr;
  }
  return std::unique_ptr<HugePageReservation>(
      new HugePageReservation(static_cast<unsigned>(added), lock.release()));
}

void HugePageReservation::Settle() {
  if (lock_fd_ >= 0) close(lock_fd_);
  lock_fd_ = -1;
}

HugePageReservation::~HugePageReservation() {
  Settle();
  if (added_ == 0) return;
  PoolLock lock;
  // Pages still in use become surplus and go back to the system when freed.
  // Another reservation may have been taken and given back in between: the
  // pool only ever moves by each reservation's own count.
  long pool = ReadLong(kPool);
  if (pool >= static_cast<long>(added_)) WriteLong(kPool, pool - added_);
}

}  // namespace ringcheck
