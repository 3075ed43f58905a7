#include "harness/expectations.h"

#include <dirent.h>
#include <fnmatch.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace ringcheck {

void Expectations::LoadDirectory(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> files;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".txt") == 0) files.push_back(name);
  }
  closedir(d);
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) LoadFile(dir + "/" + f);
}

void Expectations::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    errors_.push_back(path + ": cannot be read");
    return;
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    Expectation e;
    if (!(words >> e.kernel_glob)) continue;  // blank or comment
    std::getline(words >> e.test_glob >> std::ws, e.reason);
    e.source = path + ":" + std::to_string(number);
    if (e.test_glob.empty() || e.reason.empty()) {
      errors_.push_back(e.source + ": want '<kernel glob> <test glob> <reason>'");
      continue;
    }
    items_.push_back(e);
  }
}

const Expectation* Expectations::Find(const std::string& kernel_release,
                                      const std::string& test) const {
  for (const Expectation& e : items_) {
    if (fnmatch(e.kernel_glob.c_str(), kernel_release.c_str(), 0) == 0 &&
        fnmatch(e.test_glob.c_str(), test.c_str(), 0) == 0) {
      return &e;
    }
  }
  return nullptr;
}

std::string DefaultExpectationsDir() {
  if (const char* dir = std::getenv("RINGCHECK_EXPECTATIONS")) return dir;
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir != nullptr && workspace != nullptr) {
    return std::string(srcdir) + "/" + workspace + "/expectations";
  }
  return "";
}

}  // namespace ringcheck
