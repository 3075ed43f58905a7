// The capability snapshot: what the running kernel offers, measured by
// probing it (never by reading its version number). Measured once per
// process on first use; `probe` writes it as JSON into a results directory.
#ifndef RINGCHECK_HARNESS_CAPABILITIES_H_
#define RINGCHECK_HARNESS_CAPABILITIES_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "harness/features.h"

namespace ringcheck {

struct Capabilities {
  // The kernel and the library.
  std::string kernel_release;  // uname -r
  std::string kernel_version;  // uname -v
  std::string machine;         // uname -m
  std::string liburing_version;

  // Can rings be created at all? setup_error is 0, or the -errno of a plain
  // io_uring_setup(8) (-ENOSYS: not built in, -EPERM: disabled by sysctl).
  int setup_error = 0;
  int io_uring_disabled = -1;  // kernel.io_uring_disabled, -1 when absent
  int io_uring_group = -1;     // kernel.io_uring_group, -1 when absent

  uint32_t features = 0;          // io_uring_params.features of a plain ring
  int probe_result = 0;           // IORING_REGISTER_PROBE: 0 or -errno
  int last_op = -1;               // io_uring_probe.last_op
  std::vector<bool> op_supported;  // by opcode, IO_URING_OP_SUPPORTED

  // Result (0 or -errno) of io_uring_setup with each flag and the companions
  // it cannot go without, keyed by flag name ("DEFER_TASKRUN").
  std::map<std::string, int> setup_results;
  // Result of a harmless io_uring_register call per opcode, keyed by name.
  // -EINVAL means the kernel does not know the opcode.
  std::map<std::string, int> register_results;
  std::map<std::string, bool> custom;  // custom probes by feature id

  // Privileges and the machine.
  bool root = false;
  bool cap_sys_admin = false;
  bool cap_ipc_lock = false;
  bool cap_sys_nice = false;
  bool cap_net_admin = false;
  int online_cpus = 0;
  long hugepages_total = 0;
  bool kmsg_readable = false;

  bool usable() const { return setup_error == 0; }
  bool Has(const Feature& feature) const;
  // Setup flags (as a mask) the kernel refuses even alone: "unsupported".
  uint32_t UnsupportedSetupFlags(uint32_t flags) const;
  std::string ToJson() const;
};

// The snapshot for this process's kernel, measured on first use.
const Capabilities& Caps();

// Measures a fresh snapshot (used by Caps() and by the probe tool).
Capabilities MeasureCapabilities();

// The companions a setup flag needs to be accepted on its own (for example
// DEFER_TASKRUN needs SINGLE_ISSUER); 0 for most flags.
uint32_t SetupFlagCompanions(uint32_t flag);

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_CAPABILITIES_H_
