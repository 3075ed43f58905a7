#include "suites/control/control_util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "harness/errno_names.h"
#include "harness/matchers.h"

namespace ringcheck {
namespace control {

std::vector<RingConfig> DeliveryConfigs() {
  std::vector<RingConfig> out;
  for (const char* name : {"default", "sqpoll", "defer_taskrun_single_issuer", "coop_taskrun"}) {
    out.push_back(ConfigNamed(name));
  }
  return out;
}

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

bool IsKernelInternalErrno(int32_t res) {
  return (res <= -512 && res >= -516) || res == -529;
}

void CheckNoInternalErrno(const std::vector<Cqe>& cqes) {
  for (const Cqe& c : cqes) {
    if (IsKernelInternalErrno(c.res)) {
      RINGCHECK_RULE("I120");
      ADD_FAILURE() << "a CQE carries a kernel-internal errno (rule I120): " << Describe(c);
    }
  }
}

namespace {

bool TakeOne(io_uring* ring, Cqe* out) {
  io_uring_cqe* cqe = nullptr;
  if (io_uring_peek_cqe(ring, &cqe) != 0 || cqe == nullptr) return false;
  out->user_data = cqe->user_data;
  out->res = cqe->res;
  out->flags = cqe->flags;
  io_uring_cqe_seen(ring, cqe);
  return true;
}

}  // namespace

std::vector<Cqe> Reap(Ring& ring, size_t count, std::chrono::milliseconds timeout) {
  std::vector<Cqe> got = ReapUnchecked(ring, count, timeout);
  CheckNoInternalErrno(got);
  return got;
}

std::vector<Cqe> ReapUnchecked(Ring& ring, size_t count, std::chrono::milliseconds timeout) {
  io_uring* r = ring.get();
  std::vector<Cqe> got;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const bool ext_arg = (ring.params().features & IORING_FEAT_EXT_ARG) != 0;
  for (;;) {
    Cqe c;
    while (got.size() < count && TakeOne(r, &c)) got.push_back(c);
    if (got.size() >= count) break;
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::nanoseconds(0)) break;
    if (ext_arg) {
      // A timed wait that submits nothing: EXT_ARG passes the timeout by value.
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      __kernel_timespec ts = {ns / 1000000000, ns % 1000000000};
      io_uring_cqe* cqe = nullptr;
      io_uring_wait_cqes(r, &cqe, 1, &ts, nullptr);
    } else {
      // Without EXT_ARG liburing would queue a TIMEOUT SQE of its own; wait
      // on the ring fd instead, in short slices bounded by the deadline.
      pollfd p = {ring.fd(), POLLIN, 0};
      poll(&p, 1, 5);
      io_uring_get_events(r);
    }
  }
  return got;
}

std::vector<Cqe> ReapAllChecked(Ring& ring, size_t count) {
  std::vector<Cqe> got = Reap(ring, count);
  // Bounded: a request that keeps posting (a multishot that was not really
  // stopped) must end the test with a failure, not hang it.
  const auto until = std::chrono::steady_clock::now() + kOwed;
  for (;;) {
    std::vector<Cqe> more =
        Reap(ring, 1, std::chrono::duration_cast<std::chrono::milliseconds>(kQuiet));
    if (more.empty()) return got;
    got.insert(got.end(), more.begin(), more.end());
    if (std::chrono::steady_clock::now() >= until) {
      ADD_FAILURE() << "CQEs were still arriving " << std::chrono::duration_cast<std::chrono::milliseconds>(kOwed).count()
                    << " ms after the expected ones; the last: " << Describe(got.back());
      return got;
    }
  }
}

void WaitSqConsumed(Ring& ring) {
  io_uring* r = ring.get();
  if (!(r->flags & IORING_SETUP_SQPOLL)) return;
  const auto deadline = std::chrono::steady_clock::now() + kOwed;
  while (io_uring_smp_load_acquire(r->sq.khead) != *r->sq.ktail &&
         std::chrono::steady_clock::now() < deadline) {
    if (IO_URING_READ_ONCE(*r->sq.kflags) & IORING_SQ_NEED_WAKEUP) {
      io_uring_enter(r->ring_fd, 0, 0, IORING_ENTER_SQ_WAKEUP, nullptr);
    }
    sched_yield();
  }
}

::testing::AssertionResult SubmitExpect(Ring& ring, int n) {
  WaitSqConsumed(ring);
  int ret = ring.Submit();
  WaitSqConsumed(ring);
  if (ret == n) return ::testing::AssertionSuccess();
  // On SQPOLL rings liburing answers with the entries the kernel thread has
  // not consumed yet when it looks: a fast thread makes that fewer than n.
  // Consumption itself is what WaitSqConsumed waited for.
  if ((ring.get()->flags & IORING_SETUP_SQPOLL) && ret >= 0 && ret <= n) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "io_uring_submit returned " << ResultName(ret) << ", expected " << n;
}

io_uring_sqe* Sqe(Ring& ring, uint64_t user_data, uint8_t flags) {
  io_uring_sqe* sqe = ring.NextSqe();
  if (sqe == nullptr) {
    ADD_FAILURE() << "no free SQE";
    static io_uring_sqe scratch;
    sqe = &scratch;
  }
  io_uring_prep_nop(sqe);
  sqe->user_data = user_data;
  sqe->flags = flags;
  return sqe;
}

io_uring_sqe* FailingRead(Ring& ring, uint64_t user_data, uint8_t flags) {
  static char sink[8];
  static const int dir_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  io_uring_sqe* sqe = Sqe(ring, user_data, flags);
  io_uring_prep_read(sqe, dir_fd, sink, sizeof sink, 0);
  sqe->user_data = user_data;
  sqe->flags = flags;
  return sqe;
}

Cqe One(const std::vector<Cqe>& cqes, uint64_t user_data) {
  std::vector<Cqe> mine = WithUserData(cqes, user_data);
  if (mine.size() != 1) {
    ADD_FAILURE() << "expected one CQE of user_data " << user_data << ", got "
                  << Describe(cqes);
    Cqe none;
    none.user_data = user_data;
    none.res = 1 << 30;  // matches no result a test expects
    return none;
  }
  return mine[0];
}

Pipe Pipe::Make() {
  Pipe p;
  int fds[2];
  if (pipe(fds) != 0) {
    ADD_FAILURE() << "pipe: " << ResultName(-errno);
    return p;
  }
  p.r.reset(fds[0]);
  p.w.reset(fds[1]);
  return p;
}

void Pipe::Put(const char* bytes) {
  size_t len = 0;
  while (bytes[len]) ++len;
  EXPECT_EQ(write(w.get(), bytes, len), static_cast<ssize_t>(len));
}

Kid Kid::Spawn(int code, bool exit_now) {
  Kid k;
  int fds[2];
  if (pipe(fds) != 0) {
    ADD_FAILURE() << "pipe";
    return k;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[1]);
    if (!exit_now) {
      char c;
      while (read(fds[0], &c, 1) > 0) {
      }
    }
    _exit(code);
  }
  close(fds[0]);
  if (pid < 0) {
    close(fds[1]);
    ADD_FAILURE() << "fork: " << ResultName(-errno);
    return k;
  }
  k.pid_ = pid;
  k.release_.reset(fds[1]);
  return k;
}

Kid::~Kid() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

bool Kid::WaitExitedNoReap() {
  const auto deadline = std::chrono::steady_clock::now() + kOwed;
  while (std::chrono::steady_clock::now() < deadline) {
    siginfo_t info = {};
    if (waitid(P_PID, pid_, &info, WEXITED | WNOWAIT | WNOHANG) == 0 && info.si_pid == pid_) {
      return true;
    }
    pollfd none = {-1, 0, 0};
    poll(&none, 0, 2);
  }
  return false;
}

int RunChildScenario(const std::function<int()>& body) {
  int done[2];
  if (pipe2(done, O_CLOEXEC) != 0) return -errno;
  fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) return -errno;
  if (pid == 0) {
    close(done[0]);
    const int code = body();
    const char byte = 1;
    (void)!write(done[1], &byte, 1);  // the scenario is over: now the exit
    _exit(code);
  }
  close(done[1]);
  // The scenario, bounded by kOwed; then the exit, bounded by kExited.
  pollfd over = {done[0], POLLIN, 0};
  const bool ended = poll(&over, 1, static_cast<int>(std::chrono::milliseconds(kOwed).count())) == 1;
  close(done[0]);
  const auto deadline = std::chrono::steady_clock::now() + kExited;
  do {
    int status = 0;
    pid_t got = waitpid(pid, &status, WNOHANG);
    if (got == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pollfd none = {-1, 0, 0};
    poll(&none, 0, 5);
  } while (std::chrono::steady_clock::now() < deadline);
  kill(pid, SIGKILL);
  return ended ? kChildHung : kChildScenarioHung;
}

::testing::AssertionResult ControlTest::Quiet() {
  std::vector<Cqe> more =
      Reap(ring(), 1, std::chrono::duration_cast<std::chrono::milliseconds>(kQuiet));
  if (more.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "unexpected CQE " << Describe(more);
}

}  // namespace control
}  // namespace ringcheck
