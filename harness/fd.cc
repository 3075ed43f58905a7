#include "harness/fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "harness/write_all.h"

namespace ringcheck {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}

std::string ScratchDir() {
  for (const char* var : {"TEST_TMPDIR", "TMPDIR"}) {
    const char* dir = std::getenv(var);
    if (dir != nullptr && *dir != '\0') return dir;
  }
  return "/tmp";
}

unsigned char PatternByte(size_t offset) {
  return static_cast<unsigned char>((offset * 131 + (offset >> 8) * 7 + 1) & 0xff);
}

UniqueFd ScratchFile(size_t size) {
  std::string path = ScratchDir() + "/ringcheck-XXXXXX";
  std::vector<char> name(path.begin(), path.end());
  name.push_back('\0');
  UniqueFd fd(mkostemp(name.data(), O_CLOEXEC));
  if (!fd.valid()) return fd;
  unlink(name.data());
  std::vector<unsigned char> data(size);
  for (size_t i = 0; i < size; ++i) data[i] = PatternByte(i);
  // The disk is shared and can be full for a while: wait that out
  // (harness/write_all.h) rather than fail a test over it.
  if (WriteAll(fd.get(), reinterpret_cast<const char*>(data.data()), size) != 0) return UniqueFd();
  return fd;
}

}  // namespace ringcheck
