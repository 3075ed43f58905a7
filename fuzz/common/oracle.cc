#include "fuzz/common/oracle.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <algorithm>
#include <atomic>

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

// The hang watchdog (see oracle.h).
namespace {

std::atomic<int64_t> input_started_ns{0};  // 0 while no input runs
pid_t fuzzing_tid = 0;
int64_t hang_d_ns = 0, hang_any_ns = 0;

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Reads a small /proc file into buf (NUL-terminated); allocates nothing.
// libFuzzer counts mallocs and frees around each input, and this thread
// runs while inputs do.
size_t ReadSmall(const char* path, char* buf, size_t size) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    buf[0] = '\0';
    return 0;
  }
  size_t n = 0;
  for (ssize_t r; n + 1 < size && (r = read(fd, buf + n, size - 1 - n)) > 0;) n += static_cast<size_t>(r);
  close(fd);
  buf[n] = '\0';
  return n;
}

// The state letter of a thread of this process (R, S, D, ...), '?' if unknown.
char ThreadState(pid_t tid) {
  char path[64], buf[512];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/stat", static_cast<int>(tid));
  ReadSmall(path, buf, sizeof buf);
  const char* paren = std::strrchr(buf, ')');
  return paren != nullptr && paren[1] == ' ' && paren[2] != '\0' ? paren[2] : '?';
}

// A thread's kernel stack as function names, innermost first ("a < b < c"),
// up to `frames` of them, without the syscall entry; empty if unreadable
// (it needs root) or the thread is in user space.
std::string KernelStack(pid_t tid, int frames) {
  char path[64], buf[4096];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/stack", static_cast<int>(tid));
  ReadSmall(path, buf, sizeof buf);
  std::string out;
  int n = 0;
  for (char* line = buf; *line != '\0' && n < frames;) {
    char* end = std::strchr(line, '\n');
    if (end != nullptr) *end = '\0';
    const char* name = std::strchr(line, ' ');  // "[<0>] name+0x43/0x6e0"
    if (name != nullptr) {
      std::string fn(name + 1);
      fn = fn.substr(0, fn.find('+'));
      if (fn.rfind("do_syscall", 0) == 0 || fn.rfind("entry_SYSCALL", 0) == 0 || fn.rfind("__x64_sys", 0) == 0 ||
          fn.rfind("__do_sys", 0) == 0 || fn.rfind("ret_from_fork", 0) == 0) {
        break;
      }
      if (!fn.empty()) {
        out += (n++ ? " < " : "") + fn;
      }
    }
    if (end == nullptr) break;
    line = end + 1;
  }
  return out;
}

[[noreturn]] void ReportHang(const char* state, int64_t running_ns) {
  std::string where = KernelStack(fuzzing_tid, 3);
  std::string details = "the input ran for " + std::to_string(running_ns / 1000000000) +
                        " s, its thread in state " + state + "; kernel stack: " +
                        (where.empty() ? std::string("unreadable") : KernelStack(fuzzing_tid, 16));
  // What the io-wq workers are doing: a worker that holds a lock while it
  // waits is the usual other half of such a hang.
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) {
      char path[300], comm[64];
      std::snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
      ReadSmall(path, comm, sizeof comm);
      if (std::strncmp(comm, "iou-", 4) != 0) continue;
      const std::string stack = KernelStack(std::atoi(e->d_name), 8);
      if (!stack.empty()) details += "; " + std::string(comm, strcspn(comm, "\n")) + ": " + stack;
    }
    closedir(d);
  }
  OracleFail("hang",
             where.empty() ? std::string("an input did not return, and its thread cannot be interrupted")
                           : "an input's thread is stuck in the kernel at " + where,
             details);
}

void* Watch(void*) {
  int64_t d_since = 0;  // when the fuzzing thread was first seen in D during this input
  int64_t watched = 0;  // the input d_since belongs to
  for (;;) {
    timespec tick = {1, 0};
    nanosleep(&tick, nullptr);
    const int64_t started = input_started_ns.load(std::memory_order_acquire);
    if (started == 0) continue;
    const int64_t now = MonotonicNs();
    const char state = ThreadState(fuzzing_tid);
    if (state != 'D' || started != watched) {
      d_since = state == 'D' ? now : 0;
      watched = started;
    }
    if (d_since != 0 && now - d_since >= hang_d_ns) ReportHang("D (uninterruptible)", now - started);
    if (hang_any_ns > 0 && now - started >= hang_any_ns) {
      const char s[2] = {state, '\0'};
      ReportHang(s, now - started);
    }
  }
}

void StartWatchdog() {
  const char* env = std::getenv("RINGCHECK_FUZZ_HANG_S");
  const long limit = env != nullptr && *env != '\0' ? std::atol(env) : 20;
  if (limit <= 0) return;
  fuzzing_tid = static_cast<pid_t>(syscall(SYS_gettid));
  hang_d_ns = static_cast<int64_t>(limit) * 1000000000;
  hang_any_ns = 6 * hang_d_ns;
  // Signals stay with the fuzzing thread: libFuzzer's SIGALRM (-timeout)
  // and SIGINT handlers act only there.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t thread;
  if (pthread_create(&thread, nullptr, Watch, nullptr) == 0) pthread_detach(thread);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace

void LogInputStart(const char* target, const uint8_t* data, size_t size) {
  static const bool watching = (StartWatchdog(), true);
  (void)watching;
  input_started_ns.store(MonotonicNs(), std::memory_order_release);
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
  input_started_ns.store(0, std::memory_order_release);
  volatile uint8_t* m = MapShm();
  if (m == nullptr) return;
  __atomic_add_fetch(reinterpret_cast<uint64_t*>(const_cast<uint8_t*>(m + 16)), 1, __ATOMIC_SEQ_CST);
}

}  // namespace ringcheck::fuzz
