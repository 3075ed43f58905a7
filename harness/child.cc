#include "harness/child.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace ringcheck {

std::string ChildOutcome::Describe() const {
  switch (kind) {
    case kExited: return "exited " + std::to_string(exit_code);
    case kSignaled: return std::string("killed by SIG") + sigabbrev_np(signal);
    case kTimedOut: return "timed out";
    case kNotStarted: return std::string("not started: ") + std::strerror(error);
  }
  return "?";
}

ChildOutcome RunInChild(const std::function<int()>& body, std::chrono::milliseconds timeout) {
  ChildOutcome out;
  fflush(nullptr);  // nothing buffered may be written twice
  pid_t pid = fork();
  if (pid < 0) {
    out.error = errno;
    return out;
  }
  if (pid == 0) _exit(body());

  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  bool done = true;
  if (pidfd >= 0) {
    pollfd p = {pidfd, POLLIN, 0};
    int n;
    do {
      n = poll(&p, 1, static_cast<int>(timeout.count()));
    } while (n < 0 && errno == EINTR);
    done = n > 0;
    close(pidfd);
  }
  if (!done) {
    kill(pid, SIGKILL);
    out.kind = ChildOutcome::kTimedOut;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (out.kind == ChildOutcome::kTimedOut) return out;
  if (WIFEXITED(status)) {
    out.kind = ChildOutcome::kExited;
    out.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    out.kind = ChildOutcome::kSignaled;
    out.signal = WTERMSIG(status);
  }
  return out;
}

void TouchByte(const void* addr) {
  volatile const char* p = static_cast<volatile const char*>(addr);
  (void)*p;
}

}  // namespace ringcheck
