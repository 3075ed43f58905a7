// The hang watchdog of LogInputStart (oracle.h) turns an input whose thread
// waits uninterruptibly in the kernel into an ORACLE hang report and ends
// the process. The wait here is the one that hung a nightly job, made with
// plain syscalls: a splice from an empty datagram socket into a pipe holds
// the pipe's mutex while it waits for a datagram, and a write to that pipe
// waits for the mutex in state D, where no signal handler (libFuzzer's
// SIGALRM timeout) can run.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "fuzz/common/oracle.h"
#include "gtest/gtest.h"

namespace ringcheck::fuzz {
namespace {

// Runs `body` in a child with RINGCHECK_FUZZ_HANG_S=`hang_s`; returns its
// stderr, its wait status in *status and how long it lived in *seconds.
std::string RunChild(const char* hang_s, void (*body)(), int* status, double* seconds) {
  int err[2];
  if (pipe2(err, O_CLOEXEC) != 0) return "pipe2 failed";
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(err[1], 2);
    setenv("RINGCHECK_FUZZ_HANG_S", hang_s, 1);
    unsetenv("RINGCHECK_FUZZ_CRASHLOG");
    alarm(30);  // the test's own bound, should the watchdog not act
    body();
    _exit(0);
  }
  close(err[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(err[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(err[0]);
  waitpid(pid, status, 0);
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

void StuckOnPipeMutex() {
  int sv[2], p[2];
  if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0 || pipe(p) != 0) _exit(10);
  std::thread([&] { splice(sv[0], nullptr, p[1], nullptr, 16, 0); }).detach();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the splice waits, holding the pipe
  const uint8_t input[] = {1, 2, 3};
  LogInputStart("test", input, sizeof input);
  const int flags = fcntl(p[1], F_GETFL);
  fcntl(p[1], F_SETFL, flags | O_NONBLOCK);  // even a non-blocking write waits for the mutex
  const ssize_t n = write(p[1], "x", 1);
  _exit(n == 1 ? 11 : 12);  // reached only when the write did not wait
}

TEST(HangWatchdog, UninterruptibleWaitBecomesAnOracleReport) {
  int status = 0;
  double seconds = 0;
  const std::string err = RunChild("1", StuckOnPipeMutex, &status, &seconds);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child exited " << WEXITSTATUS(status) << ": " << err;
  EXPECT_EQ(WTERMSIG(status), SIGABRT) << err;
  if (access("/proc/self/stack", R_OK) == 0) {  // root
    EXPECT_NE(err.find("ORACLE hang: an input's thread is stuck in the kernel at "), std::string::npos) << err;
    EXPECT_NE(err.find("pipe_write"), std::string::npos) << "the stack names the pipe write: " << err;
  } else {
    EXPECT_NE(err.find("ORACLE hang: an input did not return, and its thread cannot be interrupted"),
              std::string::npos) << err;
  }
  EXPECT_NE(err.find("state D"), std::string::npos) << err;
  EXPECT_LT(seconds, 10) << "the watchdog acts after about a second in D";
}

void SleepsInterruptibly() {
  const uint8_t input[] = {1};
  LogInputStart("test", input, sizeof input);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // S, not D: libFuzzer's own timeout's case
  LogInputEnd();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // no input running
}

TEST(HangWatchdog, InterruptibleWaitsAndIdleTimeAreLeftAlone) {
  int status = 0;
  double seconds = 0;
  const std::string err = RunChild("1", SleepsInterruptibly, &status, &seconds);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << err;
  EXPECT_EQ(err.find("ORACLE"), std::string::npos) << err;
}

void SleepsTooLong() {
  const uint8_t input[] = {1};
  LogInputStart("test", input, sizeof input);
  std::this_thread::sleep_for(std::chrono::seconds(20));
}

TEST(HangWatchdog, AnyInputRunningSixLimitsIsReported) {
  int status = 0;
  double seconds = 0;
  const std::string err = RunChild("1", SleepsTooLong, &status, &seconds);
  ASSERT_TRUE(WIFSIGNALED(status)) << err;
  EXPECT_NE(err.find("ORACLE hang: "), std::string::npos) << err;
  EXPECT_NE(err.find("state S"), std::string::npos) << err;
  EXPECT_LT(seconds, 12);
}

TEST(HangWatchdog, ZeroTurnsItOff) {
  int status = 0;
  double seconds = 0;
  const std::string err = RunChild("0", [] {
    const uint8_t input[] = {1};
    LogInputStart("test", input, sizeof input);
    std::this_thread::sleep_for(std::chrono::milliseconds(7500));
  }, &status, &seconds);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << err;
}

}  // namespace
}  // namespace ringcheck::fuzz
