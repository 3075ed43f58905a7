// Custom feature probes: behaviours no opcode, feature bit, setup flag or
// register opcode proves (a multishot flag, a new SQE field). Each lives in
// harness/probes/<area>.cc and registers itself:
//
//   RINGCHECK_PROBE(poll_multishot, "5.13", "IORING_POLL_ADD_MULTI on POLL_ADD") {
//     return ...;  // true when the running kernel shows the behaviour
//   }
//
// The id (here "poll_multishot") joins the feature registry: REQUIRE_FEATURE
// takes it, capabilities.json and the feature x kernel matrix list it. A
// probe runs once per process, in the thread that measures the snapshot, and
// must clean up everything it creates.
#ifndef RINGCHECK_HARNESS_PROBE_REGISTRY_H_
#define RINGCHECK_HARNESS_PROBE_REGISTRY_H_

#include <climits>
#include <functional>
#include <vector>

struct io_uring_sqe;

namespace ringcheck {

struct CustomProbe {
  const char* id;
  const char* mainline;  // first mainline release, for reports only
  const char* what;
  bool (*probe)();
};

// Every registered probe, sorted by id.
std::vector<CustomProbe> RegisteredProbes();

// For probes: submits one request, prepared by `prep`, on a scratch ring and
// returns its CQE's res; kProbePending when no CQE came within wait_ms
// (the kernel took the request and it waits), kProbeNoRing when the ring or
// the submission failed. A request the kernel refuses at prep, or one that
// completes inline, has its CQE posted before io_uring_enter returns, so a
// probe that asks only "refused or taken" passes wait_ms 0 and never waits.
// What is still pending is cancelled at ring teardown.
constexpr int kProbePending = INT_MIN, kProbeNoRing = INT_MIN + 1;
int ProbeResultOf(const std::function<void(io_uring_sqe*)>& prep, int wait_ms);

struct ProbeRegistrar {
  explicit ProbeRegistrar(CustomProbe probe);
};

}  // namespace ringcheck

#define RINGCHECK_PROBE(id, mainline, what)                                          \
  static bool RingcheckProbe_##id();                                                  \
  static const ::ringcheck::ProbeRegistrar ringcheck_probe_registrar_##id(            \
      ::ringcheck::CustomProbe{#id, mainline, what, &RingcheckProbe_##id});           \
  static bool RingcheckProbe_##id()

#endif  // RINGCHECK_HARNESS_PROBE_REGISTRY_H_
