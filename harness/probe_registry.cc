#include "harness/probe_registry.h"

#include <liburing.h>

#include <algorithm>
#include <cstring>

namespace ringcheck {
namespace {

std::vector<CustomProbe>& Registry() {
  static auto* probes = new std::vector<CustomProbe>;
  return *probes;
}

}  // namespace

ProbeRegistrar::ProbeRegistrar(CustomProbe probe) { Registry().push_back(probe); }

std::vector<CustomProbe> RegisteredProbes() {
  std::vector<CustomProbe> out = Registry();
  std::sort(out.begin(), out.end(),
            [](const CustomProbe& a, const CustomProbe& b) { return std::strcmp(a.id, b.id) < 0; });
  return out;
}

int ProbeResultOf(const std::function<void(io_uring_sqe*)>& prep, int wait_ms) {
  io_uring ring;
  if (io_uring_queue_init(4, &ring, 0) != 0) return kProbeNoRing;
  io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  prep(sqe);
  sqe->user_data = 1;
  int res = kProbeNoRing;
  if (io_uring_submit(&ring) == 1) {
    io_uring_cqe* cqe = nullptr;
    __kernel_timespec ts = {wait_ms / 1000, (wait_ms % 1000) * 1000L * 1000L};
    int got = wait_ms == 0 ? io_uring_peek_cqe(&ring, &cqe) : io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
    res = got == 0 ? cqe->res : kProbePending;
  }
  io_uring_queue_exit(&ring);
  return res;
}

}  // namespace ringcheck
