#include "fuzz/common/oracle.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <algorithm>

#include "harness/kernel_log.h"

namespace ringcheck::fuzz {
namespace {

constexpr uint32_t kCounterCount = 1 << 14;

// libFuzzer treats every byte of this section as a coverage counter. Without
// libFuzzer (the regression tests) it is just an array.
__attribute__((section("__libfuzzer_extra_counters"), used))
uint8_t extra_counters[kCounterCount];

uint32_t Mix(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

}  // namespace

// Also appends the line to $RINGCHECK_FUZZ_CRASHLOG: libFuzzer's fork mode
// deletes its workers' logs, and some crashes need earlier inputs to repeat.
static void Report(const char* line) {
  std::fprintf(stderr, "\n%s\n", line);
  std::fflush(stderr);
  if (const char* path = std::getenv("RINGCHECK_FUZZ_CRASHLOG")) {
    if (FILE* f = std::fopen(path, "a")) {
      std::fprintf(f, "%lld %d %s\n", static_cast<long long>(std::time(nullptr)), getpid(), line);
      std::fclose(f);
    }
  }
}

void OracleFail(const char* tag, const std::string& summary, const std::string& details) {
  Report(("ORACLE " + std::string(tag) + ": " + summary + " | " + details).c_str());
  std::abort();
}

void HarnessFail(const std::string& what) {
  Report(("HARNESS: " + what + " (errno " + std::strerror(errno) + ")").c_str());
  std::abort();
}

uint8_t* FeatureCounter(uint32_t key) { return &extra_counters[Mix(key) & (kCounterCount - 1)]; }

void CountFeature(uint32_t key) {
  uint8_t& c = *FeatureCounter(key);
  if (c != 255) ++c;
}

uint32_t ResultClass(int32_t res) {
  if (res == 0) return 0;
  if (res > 0) return 1;
  if (res < -4095) return 4097;
  return 2 + static_cast<uint32_t>(-res);
}

void CheckKernelLog(const char* target) {
  static KernelLog* log = new KernelLog(std::string("fuzz ") + target + " started");
  if (!log->readable()) return;
  for (const std::string& line : log->NewProblems()) {
    OracleFail("kernel-log", "the kernel logged a problem while the input ran", line);
  }
}

int CountOpenFds(int* rings) {
  int fds = 0;
  *rings = 0;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  const int own = dirfd(dir);
  char path[300], link[128];
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    if (std::atoi(e->d_name) == own) continue;
    ++fds;
    std::snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n > 0) {
      link[n] = '\0';
      if (std::strstr(link, "io_uring") != nullptr) ++*rings;
    }
  }
  closedir(dir);
  return fds;
}

namespace {
struct StatsAtExit {
  const char* target = nullptr;
  uint64_t units = 0;
  void (*extra)(char*, size_t) = nullptr;
  bool exiting = false;
} at_exit;
}  // namespace

void NoteExec(const char* target, uint64_t units, uint64_t every, void (*extra)(char* buf, size_t size)) {
  static uint64_t execs = 0;
  static time_t last = 0;
  if (!at_exit.exiting) {
    LogInputEnd();
    ++execs;
    at_exit.units = units;
  }
  if (execs == 1 && !at_exit.exiting) {
    // One more line when the process ends normally (a fork-mode job that
    // ran its time), so short-lived processes are accounted for too.
    at_exit.target = target;
    at_exit.extra = extra;
    std::atexit([] {
      at_exit.exiting = true;
      NoteExec(at_exit.target, at_exit.units, 1, at_exit.extra);
    });
  }
  if (execs != 1 && execs % every != 0) {
    // Also at most every 10 s of wall time, checked cheaply.
    if ((execs & 1023) != 0) return;
    if (std::time(nullptr) - last < 10) return;
  }
  last = std::time(nullptr);
  int rings = 0;
  int fds = CountOpenFds(&rings);
  char more[256] = "";
  if (extra != nullptr) extra(more, sizeof more);
  std::fprintf(stderr, "ringcheck-fuzz %s: execs=%llu fds=%d rings=%d %s\n", target,
               static_cast<unsigned long long>(execs), fds, rings, more);
  if (const char* path = std::getenv("RINGCHECK_FUZZ_STATS")) {
    if (FILE* f = std::fopen(path, "a")) {
      std::fprintf(f, "%lld %d %s execs=%llu fds=%d rings=%d units=%llu %s\n", static_cast<long long>(last),
                   getpid(), target, static_cast<unsigned long long>(execs), fds, rings,
                   static_cast<unsigned long long>(units), more);
      std::fclose(f);
    }
  }
}

namespace {

volatile uint8_t* MapShm() {
  static volatile uint8_t* shm = [] () -> volatile uint8_t* {
    const char* path = std::getenv("RINGCHECK_FUZZ_SHM");
    if (path == nullptr || *path == '\0') return nullptr;
    const int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return nullptr;
    void* p = mmap(nullptr, kShmSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return nullptr;
    auto* m = static_cast<volatile uint8_t*>(p);
    if (std::memcmp(const_cast<uint8_t*>(m), "RCFZSHM1", 8) != 0) {
      for (int i = 0; i < 8; ++i) m[i] = static_cast<uint8_t>("RCFZSHM1"[i]);
    }
    return m;
  }();
  return shm;
}

}  // namespace

void LogInputStart(const char* target, const uint8_t* data, size_t size) {
  volatile uint8_t* m = MapShm();
  if (m == nullptr) return;
  auto* started = reinterpret_cast<uint64_t*>(const_cast<uint8_t*>(m + 8));
  const uint64_t seq = __atomic_add_fetch(started, 1, __ATOMIC_SEQ_CST);
  volatile uint8_t* slot = m + (1 + seq % kShmSlots) * kShmSlotSize;
  auto* slot_seq = reinterpret_cast<uint64_t*>(const_cast<uint8_t*>(slot));
  __atomic_store_n(slot_seq, 0, __ATOMIC_SEQ_CST);
  const uint32_t n = static_cast<uint32_t>(size);
  std::memcpy(const_cast<uint8_t*>(slot + 8), &n, 4);
  char name[12] = {};
  std::strncpy(name, target, sizeof name - 1);
  std::memcpy(const_cast<uint8_t*>(slot + 12), name, sizeof name);
  std::memcpy(const_cast<uint8_t*>(slot + 24), data, std::min(size, kShmSlotSize - 24));
  __atomic_store_n(slot_seq, seq, __ATOMIC_SEQ_CST);
}

void LogInputEnd() {
  volatile uint8_t* m = MapShm();
  if (m == nullptr) return;
  __atomic_add_fetch(reinterpret_cast<uint64_t*>(const_cast<uint8_t*>(m + 16)), 1, __ATOMIC_SEQ_CST);
}

}  // namespace ringcheck::fuzz
