// Page-aligned anonymous memory, unmapped on destruction: what fork tests
// advise, register and touch from a child.
#ifndef RINGCHECK_HARNESS_PAGES_H_
#define RINGCHECK_HARNESS_PAGES_H_

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <fstream>
#include <string>

namespace ringcheck {

inline size_t PageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

// The default huge page size (Hugepagesize in /proc/meminfo), 0 if none.
inline size_t HugePageSize() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  size_t kib = 0;
  while (meminfo >> key) {
    if (key == "Hugepagesize:" && meminfo >> kib) return kib * 1024;
  }
  return 0;
}

// One mapped page that can be neither read nor written (PROT_NONE): an
// address the kernel must refuse with -EFAULT, unmapped on destruction.
class InaccessiblePage {
 public:
  InaccessiblePage() {
    void* p = mmap(nullptr, PageSize(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    addr_ = p == MAP_FAILED ? nullptr : p;
  }
  ~InaccessiblePage() {
    if (addr_ != nullptr) munmap(addr_, PageSize());
  }
  InaccessiblePage(const InaccessiblePage&) = delete;
  InaccessiblePage& operator=(const InaccessiblePage&) = delete;
  bool ok() const { return addr_ != nullptr; }
  void* get() const { return addr_; }

 private:
  void* addr_ = nullptr;
};

class Pages {
 public:
  // `count` pages of private anonymous memory, each page touched (so it is
  // really there to inherit) and filled with `fill`.
  explicit Pages(size_t count, unsigned char fill = 0x5a) : size_(count * PageSize()) {
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      size_ = 0;
      return;
    }
    base_ = static_cast<char*>(p);
    std::memset(base_, fill, size_);
  }
  ~Pages() {
    if (base_ != nullptr) munmap(base_, size_);
  }
  Pages(const Pages&) = delete;
  Pages& operator=(const Pages&) = delete;

  bool ok() const { return base_ != nullptr; }
  char* page(size_t i) const { return base_ + i * PageSize(); }
  char* last_byte(size_t i) const { return page(i) + PageSize() - 1; }
  size_t size() const { return size_; }
  // Leaves a hole: page i is no longer mapped.
  bool UnmapPage(size_t i) { return munmap(page(i), PageSize()) == 0; }

 private:
  char* base_ = nullptr;
  size_t size_ = 0;
};

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_PAGES_H_
