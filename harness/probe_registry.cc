#include "harness/probe_registry.h"

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

}  // namespace ringcheck
