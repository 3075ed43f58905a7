#include "suites/fork/vma_flags.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

namespace ringcheck {
namespace {

// The first mapping in /proc/self/smaps that `match` accepts.
std::optional<Vma> FindVma(const std::function<bool(const Vma&)>& match) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  std::optional<Vma> current;
  while (std::getline(smaps, line)) {
    uintptr_t start = 0, end = 0;
    char dash = 0;
    std::istringstream head(line);
    head >> std::hex >> start >> dash >> end;
    if (head && dash == '-') {
      // A mapping header: "start-end perms offset dev inode [name]".
      Vma v;
      v.start = start;
      v.end = end;
      std::string perms, offset, dev, inode;
      head >> perms >> offset >> dev >> inode;
      std::getline(head >> std::ws, v.name);
      current = v;
      continue;
    }
    if (current && line.rfind("VmFlags:", 0) == 0) {
      std::istringstream words(line.substr(8));
      std::string w;
      while (words >> w) current->flags.push_back(w);
      if (match(*current)) return current;
      current.reset();
    }
  }
  return std::nullopt;
}

}  // namespace

bool Vma::Has(const std::string& flag) const {
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

std::optional<Vma> VmaContaining(const void* addr) {
  const auto a = reinterpret_cast<uintptr_t>(addr);
  return FindVma([a](const Vma& v) { return v.start <= a && a < v.end; });
}

std::optional<Vma> FirstVmaWithFlag(const std::string& flag) {
  return FindVma([&flag](const Vma& v) { return v.Has(flag); });
}

std::optional<Vma> VmaNamed(const std::string& name) {
  return FindVma([&name](const Vma& v) { return v.name == name; });
}

}  // namespace ringcheck
