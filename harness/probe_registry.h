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

#include <vector>

namespace ringcheck {

struct CustomProbe {
  const char* id;
  const char* mainline;  // first mainline release, for reports only
  const char* what;
  bool (*probe)();
};

// Every registered probe, sorted by id.
std::vector<CustomProbe> RegisteredProbes();

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
