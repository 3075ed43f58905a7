#include "harness/task.h"

#include <thread>

namespace ringcheck {

void InFreshThread(const std::function<void()>& body) {
  std::thread t(body);
  t.join();
}

}  // namespace ringcheck
