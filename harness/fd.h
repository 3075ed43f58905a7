// File descriptors and scratch files that clean up after themselves.
#ifndef RINGCHECK_HARNESS_FD_H_
#define RINGCHECK_HARNESS_FD_H_

#include <string>
#include <utility>

namespace ringcheck {

// Owns one file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// A directory for a test's files: $TEST_TMPDIR under Bazel, else $TMPDIR,
// else /tmp (guests have only a tmpfs there).
std::string ScratchDir();

// A new, unlinked regular file in ScratchDir() holding `size` bytes of a
// known pattern (byte i is PatternByte(i)); invalid fd on failure.
UniqueFd ScratchFile(size_t size);
unsigned char PatternByte(size_t offset);

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_FD_H_
