// The feature registry: every io_uring capability a test may depend on, how
// the running kernel proves it has it, and the mainline release that first
// shipped it (for reports only; tests never look at version numbers).
#ifndef RINGCHECK_HARNESS_FEATURES_H_
#define RINGCHECK_HARNESS_FEATURES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ringcheck {

enum class Proof {
  kOpcode,      // IORING_REGISTER_PROBE lists the opcode as supported
  kFeatureBit,  // io_uring_params.features has the bit
  kSetupFlag,   // io_uring_setup accepts the flag (with its companions)
  kRegisterOp,  // a harmless io_uring_register call is answered other than -EINVAL
  kCustom,      // a dedicated probe in capabilities.cc
};

struct Feature {
  std::string id;        // "op_read_multishot", "setup_defer_taskrun", ...
  Proof proof;
  uint32_t value;        // opcode, bit mask, setup flag or register opcode
  std::string mainline;  // first mainline release, e.g. "6.12"
  std::string what;      // what it is, in a few words
};

// Every known feature, in a stable order (opcodes, setup flags, register
// opcodes, feature bits, custom probes).
const std::vector<Feature>& AllFeatures();
const Feature* FindFeature(std::string_view id);

// True when the capability snapshot of the running kernel shows the feature.
// An unknown id is a programming error and aborts with a message.
bool Supported(std::string_view id);

// Notes that the running test exercises the feature (see harness/facts.h).
void NoteFeatureUse(std::string_view id);

// Name tables shared with the snapshot.
std::string OpcodeName(unsigned op);          // "READ_MULTISHOT", or "OP_71"
std::string SetupFlagName(uint32_t flag);     // "DEFER_TASKRUN" for one bit
std::string RegisterOpName(unsigned opcode);  // "CLONE_BUFFERS"
std::string FeatureBitName(uint32_t bit);     // "NODROP"
// "SQPOLL|SINGLE_ISSUER", or "none".
std::string SetupFlagsString(uint32_t flags);

}  // namespace ringcheck

// Skips the current test with "unsupported:<id>" unless the running kernel has
// the feature, and records that the test exercises it. Use at the top of a
// test (or in SetUp); needs <gtest/gtest.h>, which every test has.
#define REQUIRE_FEATURE(id)                                     \
  do {                                                          \
    ::ringcheck::NoteFeatureUse(id);                            \
    if (!::ringcheck::Supported(id)) {                          \
      GTEST_SKIP() << "unsupported:" << (id);                   \
    }                                                           \
  } while (0)

#endif  // RINGCHECK_HARNESS_FEATURES_H_
