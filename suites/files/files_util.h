// Shared pieces of the file and path suites (rules G, spec/files.md): a
// private directory, one-SQE round trips, and the ring subset the read/write
// rules run under.
#ifndef RINGCHECK_SUITES_FILES_FILES_UTIL_H_
#define RINGCHECK_SUITES_FILES_FILES_UTIL_H_

#include <gtest/gtest.h>
#include <liburing.h>

#include <climits>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness/configs.h"
#include "harness/fd.h"
#include "harness/ring.h"

namespace ringcheck {

// A fresh directory under ScratchDir(), removed with its contents at the end.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  bool ok() const { return fd_.valid(); }
  const std::string& path() const { return path_; }
  std::string Path(const std::string& name) const { return path_ + "/" + name; }
  int fd() const { return fd_.get(); }  // O_DIRECTORY fd of the directory
  // Creates `name` holding `content`; returns false on failure.
  bool WriteFile(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
  UniqueFd fd_;
};

// The result of a request that never completed within the deadline.
constexpr int kNoCompletion = INT_MIN;

// Prepares one SQE with `prep`, adds `sqe_flags`, submits, and returns the
// CQE's res (kNoCompletion if none arrived in time).
int RunOne(Ring& ring, const std::function<void(io_uring_sqe*)>& prep, unsigned sqe_flags = 0,
           Cqe* out = nullptr);

// Submits what is queued and reaps `count` CQEs, sorted by user_data.
std::vector<Cqe> SubmitAndReapSorted(Ring& ring, size_t count);

// Fills the raw fields of an SQE for an opcode liburing 2.9 has no helper for.
void PrepRaw(io_uring_sqe* sqe, unsigned opcode, int fd, const void* addr, unsigned len,
             uint64_t off);

// The ring modes the read/write rules run under.
std::vector<RingConfig> RwConfigs();

// A fixture owning a default ring.
class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override;
  Ring& ring() { return *ring_; }
  std::unique_ptr<Ring> ring_;
};

// Whole-file contents through pread (for checking what requests wrote).
std::string ReadAll(int fd);

// True when the file system under `dir` keeps user.* extended attributes.
bool UserXattrsWork(const std::string& dir);

}  // namespace ringcheck

#endif  // RINGCHECK_SUITES_FILES_FILES_UTIL_H_
