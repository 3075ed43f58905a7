#include "harness/expectations.h"

#include <dirent.h>
#include <fnmatch.h>

#include <algorithm>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "harness/features.h"

namespace ringcheck {
namespace {

std::vector<std::string> Conditions(const std::string& kernel) {
  std::vector<std::string> out;
  std::istringstream in(kernel);
  std::string part;
  while (std::getline(in, part, ',')) out.push_back(part);
  return out;
}

// "" when every condition is well formed, else what is wrong.
std::string BadCondition(const std::string& kernel) {
  for (const std::string& c : Conditions(kernel)) {
    for (const char* prefix : {"has:", "lacks:"}) {
      if (c.rfind(prefix, 0) == 0 && FindFeature(c.substr(std::strlen(prefix))) == nullptr) {
        return "unknown feature in '" + c + "' (see harness/features.cc)";
      }
    }
  }
  return "";
}

bool KernelMatches(const std::string& kernel, const std::string& release) {
  for (const std::string& c : Conditions(kernel)) {
    if (c.rfind("has:", 0) == 0) {
      if (!Supported(c.substr(4))) return false;
    } else if (c.rfind("lacks:", 0) == 0) {
      if (Supported(c.substr(6))) return false;
    } else if (fnmatch(c.c_str(), release.c_str(), 0) != 0) {
      return false;
    }
  }
  return true;
}

}  // namespace

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
    if (e.reason.rfind("flaky ", 0) == 0) {
      e.flaky = true;
      e.reason = e.reason.substr(e.reason.find_first_not_of(" \t", 6) == std::string::npos
                                     ? e.reason.size()
                                     : e.reason.find_first_not_of(" \t", 6));
    }
    if (e.test_glob.empty() || e.reason.empty()) {
      errors_.push_back(e.source + ": want '<kernel> <test glob> [flaky] <reason>'");
      continue;
    }
    std::string bad = BadCondition(e.kernel_glob);
    if (!bad.empty()) {
      errors_.push_back(e.source + ": " + bad);
      continue;
    }
    items_.push_back(e);
  }
}

const Expectation* Expectations::Find(const std::string& kernel_release,
                                      const std::string& test) const {
  for (const Expectation& e : items_) {
    if (fnmatch(e.test_glob.c_str(), test.c_str(), 0) == 0 &&
        KernelMatches(e.kernel_glob, kernel_release)) {
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
