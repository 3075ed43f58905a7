// Kernel health: taint flags and problem lines (BUG, WARNING, Oops, lockdep,
// hung tasks, sanitizer reports) that the kernel logged while tests ran.
#ifndef RINGCHECK_HARNESS_KERNEL_LOG_H_
#define RINGCHECK_HARNESS_KERNEL_LOG_H_

#include <string>
#include <vector>

namespace ringcheck {

class KernelLog {
 public:
  // Opens /dev/kmsg positioned at its end and, where allowed (root), writes
  // `marker` into the log so a human reading dmesg sees where a run began.
  explicit KernelLog(const std::string& marker);
  ~KernelLog();
  KernelLog(const KernelLog&) = delete;
  KernelLog& operator=(const KernelLog&) = delete;

  bool readable() const { return fd_ >= 0; }
  // Problem lines logged since the previous call (or since construction).
  std::vector<std::string> NewProblems();

  // /proc/sys/kernel/tainted, or -1 when unreadable.
  static long Taint();
  // Whether a kernel log line reports a problem worth turning a run red.
  static bool IsProblem(const std::string& line);

 private:
  int fd_ = -1;
};

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_KERNEL_LOG_H_
