#include "fuzz/sqe/dir_reaper.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>

#include "fuzz/sqe/kit_pool.h"

namespace ringcheck::fuzz::sqe {
namespace {

// Entries in the trash not removed yet; beyond this the reset removes
// directories itself (and pays the device's time).
constexpr uint64_t kMaxPending = 256;
// The trash's subdirectories. An rmdir holds its parent's lock while the
// device discards, and a rename into that parent waits for it: entry n goes
// into bucket n % kBuckets, so the reset renames into one bucket while the
// thread removes from another.
constexpr uint64_t kBuckets = 16;

int trash_fd = -1;
char trash_path[600];
pthread_t thread;
bool running = false;
pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
bool stopping = false;                // under mu
std::atomic<uint64_t> taken{0};       // written by the fuzzing thread
std::atomic<uint64_t> removed{0};     // written by the reaper

// Entry n is "<bucket>/<n>" in the trash.
void EntryName(uint64_t n, char* buf, size_t size) {
  std::snprintf(buf, size, "%llu/%llu", static_cast<unsigned long long>(n % kBuckets),
                static_cast<unsigned long long>(n));
}

void BucketName(uint64_t b, char* buf, size_t size) {
  std::snprintf(buf, size, "%llu", static_cast<unsigned long long>(b));
}

void* Loop(void*) {
  char name[48];
  for (;;) {
    pthread_mutex_lock(&mu);
    while (removed.load() == taken.load() && !stopping) pthread_cond_wait(&wake, &mu);
    const bool stop = stopping;
    pthread_mutex_unlock(&mu);
    for (uint64_t n = removed.load(); n < taken.load(); ++n) {
      EntryName(n, name, sizeof name);
      rcfuzz::RemoveTreeAt(trash_fd, name);  // allocates nothing (kit_pool.h)
      removed.store(n + 1);
    }
    if (stop) return nullptr;
  }
}

// Removes the buckets and the trash (empty by then, or left whole).
void RemoveTrash() {
  if (trash_fd >= 0) {
    for (uint64_t b = 0; b < kBuckets; ++b) {
      char name[24];
      BucketName(b, name, sizeof name);
      unlinkat(trash_fd, name, AT_REMOVEDIR);
    }
    close(trash_fd);
  }
  trash_fd = -1;
  rmdir(trash_path);
}

}  // namespace

bool StartDirReaper(const char* sandbox) {
  if (running) return true;
  std::snprintf(trash_path, sizeof trash_path, "%s.trash", sandbox);
  if (mkdir(trash_path, 0700) != 0 && errno != EEXIST) return false;
  trash_fd = open(trash_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  bool ok = trash_fd >= 0;
  for (uint64_t b = 0; ok && b < kBuckets; ++b) {
    char name[24];
    BucketName(b, name, sizeof name);
    ok = mkdirat(trash_fd, name, 0700) == 0 || errno == EEXIST;
  }
  if (!ok) {
    RemoveTrash();
    return false;
  }
  // Signals stay with the fuzzing thread: libFuzzer's SIGALRM (-timeout)
  // and SIGINT handlers act only there, and its waits expect the EINTR.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  running = pthread_create(&thread, nullptr, Loop, nullptr) == 0;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (!running) RemoveTrash();
  return running;
}

bool TakeDir(int parent, const char* name) {
  if (!running) return false;
  const uint64_t n = taken.load();
  if (n - removed.load() >= kMaxPending) return false;
  char to[48];
  EntryName(n, to, sizeof to);
  if (renameat(parent, name, trash_fd, to) != 0) return false;
  pthread_mutex_lock(&mu);
  taken.store(n + 1);
  pthread_cond_signal(&wake);
  pthread_mutex_unlock(&mu);
  return true;
}

void StopDirReaper() {
  if (!running) return;
  pthread_mutex_lock(&mu);
  stopping = true;
  pthread_cond_signal(&wake);
  pthread_mutex_unlock(&mu);
  pthread_join(thread, nullptr);
  running = false;
  RemoveTrash();
}

uint64_t DirsTrashed() { return taken.load(); }

}  // namespace ringcheck::fuzz::sqe
