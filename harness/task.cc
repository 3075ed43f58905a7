#include "harness/task.h"

#include <algorithm>
#include <thread>

namespace ringcheck {

void InFreshThread(const std::function<void()>& body) {
  std::thread t(body);
  t.join();
}

int ExitCodeFor(long result) {
  if (result == 0) return 0;
  if (result < 0) return static_cast<int>(std::min(-result, 199L));
  return static_cast<int>(200 + std::min(result, 39L));
}

long ResultFromExit(const ChildOutcome& outcome) {
  if (outcome.kind != ChildOutcome::kExited) return kNoResult;
  int code = outcome.exit_code;
  if (code == 0) return 0;
  if (code < 200) return -code;
  if (code < 240) return code - 200;
  return kNoResult;
}

}  // namespace ringcheck
