#include "harness/fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

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
  size_t done = 0;
  while (done < size) {
    ssize_t n = write(fd.get(), data.data() + done, size - done);
    if (n <= 0) return UniqueFd();
    done += static_cast<size_t>(n);
  }
  return fd;
}

}  // namespace ringcheck
