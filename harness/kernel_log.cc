#include "harness/kernel_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

namespace ringcheck {

KernelLog::KernelLog(const std::string& marker) {
  fd_ = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd_ >= 0) lseek(fd_, 0, SEEK_END);
  int wfd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
  if (wfd >= 0) {
    std::string line = "ringcheck: " + marker + "\n";
    ssize_t ignored = write(wfd, line.data(), line.size());
    (void)ignored;
    close(wfd);
  }
}

KernelLog::~KernelLog() {
  if (fd_ >= 0) close(fd_);
}

bool KernelLog::IsProblem(const std::string& line) {
  // harness/kernel_problems.txt, turned into string literals by a genrule.
  static const char* const kPatterns[] = {
#include "harness/kernel_problems.inc"
  };
  for (const char* p : kPatterns) {
    if (line.find(p) != std::string::npos) return true;
  }
  return false;
}

std::vector<std::string> KernelLog::NewProblems() {
  std::vector<std::string> found;
  if (fd_ < 0) return found;
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd_, buf, sizeof buf - 1);
    if (n < 0) {
      if (errno == EPIPE) continue;  // records overwritten while we read: go on
      if (errno == EINTR) continue;
      break;  // EAGAIN: nothing more
    }
    if (n == 0) break;
    buf[n] = '\0';
    // A record is "prio,seq,time,flags;message\n" plus continuation lines.
    std::string record(buf, static_cast<size_t>(n));
    size_t semi = record.find(';');
    std::string message = semi == std::string::npos ? record : record.substr(semi + 1);
    size_t nl = message.find('\n');
    if (nl != std::string::npos) message.resize(nl);
    if (IsProblem(message)) found.push_back(message);
  }
  return found;
}

long KernelLog::Taint() {
  std::ifstream in("/proc/sys/kernel/tainted");
  long value = -1;
  if (!(in >> value)) return -1;
  return value;
}

}  // namespace ringcheck
