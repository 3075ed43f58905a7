#include "harness/features.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "harness/capabilities.h"
#include "harness/facts.h"
#include "harness/probe_registry.h"
#include "harness/uapi.h"

namespace ringcheck {
namespace {

struct Named {
  const char* name;
  const char* mainline;
};

// Opcodes by uapi value, with the mainline release that added each.
constexpr Named kOpcodes[] = {
    {"NOP", "5.1"},           {"READV", "5.1"},          {"WRITEV", "5.1"},
    {"FSYNC", "5.1"},         {"READ_FIXED", "5.1"},     {"WRITE_FIXED", "5.1"},
    {"POLL_ADD", "5.1"},      {"POLL_REMOVE", "5.1"},    {"SYNC_FILE_RANGE", "5.2"},
    {"SENDMSG", "5.3"},       {"RECVMSG", "5.3"},        {"TIMEOUT", "5.4"},
    {"TIMEOUT_REMOVE", "5.5"}, {"ACCEPT", "5.5"},        {"ASYNC_CANCEL", "5.5"},
    {"LINK_TIMEOUT", "5.5"},  {"CONNECT", "5.5"},        {"FALLOCATE", "5.6"},
    {"OPENAT", "5.6"},        {"CLOSE", "5.6"},          {"FILES_UPDATE", "5.6"},
    {"STATX", "5.6"},         {"READ", "5.6"},           {"WRITE", "5.6"},
    {"FADVISE", "5.6"},       {"MADVISE", "5.6"},        {"SEND", "5.6"},
    {"RECV", "5.6"},          {"OPENAT2", "5.6"},        {"EPOLL_CTL", "5.6"},
    {"SPLICE", "5.7"},        {"PROVIDE_BUFFERS", "5.7"}, {"REMOVE_BUFFERS", "5.7"},
    {"TEE", "5.8"},           {"SHUTDOWN", "5.11"},      {"RENAMEAT", "5.11"},
    {"UNLINKAT", "5.11"},     {"MKDIRAT", "5.15"},       {"SYMLINKAT", "5.15"},
    {"LINKAT", "5.15"},       {"MSG_RING", "5.18"},      {"FSETXATTR", "5.19"},
    {"SETXATTR", "5.19"},     {"FGETXATTR", "5.19"},     {"GETXATTR", "5.19"},
    {"SOCKET", "5.19"},       {"URING_CMD", "5.19"},     {"SEND_ZC", "6.0"},
    {"SENDMSG_ZC", "6.1"},    {"READ_MULTISHOT", "6.7"}, {"WAITID", "6.7"},
    {"FUTEX_WAIT", "6.7"},    {"FUTEX_WAKE", "6.7"},     {"FUTEX_WAITV", "6.7"},
    {"FIXED_FD_INSTALL", "6.8"}, {"FTRUNCATE", "6.9"},   {"BIND", "6.11"},
    {"LISTEN", "6.11"},       {"RECV_ZC", "6.15"},       {"EPOLL_WAIT", "6.15"},
    {"READV_FIXED", "6.15"},  {"WRITEV_FIXED", "6.15"},  {"PIPE", "6.16"},
    {"NOP128", "6.19"},       {"URING_CMD128", "6.19"},
};

// Setup flags by bit number.
constexpr Named kSetupFlags[] = {
    {"IOPOLL", "5.1"},          {"SQPOLL", "5.1"},        {"SQ_AFF", "5.1"},
    {"CQSIZE", "5.5"},          {"CLAMP", "5.6"},         {"ATTACH_WQ", "5.6"},
    {"R_DISABLED", "5.10"},     {"SUBMIT_ALL", "5.18"},   {"COOP_TASKRUN", "5.19"},
    {"TASKRUN_FLAG", "5.19"},   {"SQE128", "5.19"},       {"CQE32", "5.19"},
    {"SINGLE_ISSUER", "6.0"},   {"DEFER_TASKRUN", "6.1"}, {"NO_MMAP", "6.5"},
    {"REGISTERED_FD_ONLY", "6.5"}, {"NO_SQARRAY", "6.6"}, {"HYBRID_IOPOLL", "6.13"},
    {"CQE_MIXED", "6.18"},      {"SQE_MIXED", "6.19"},    {"SQ_REWIND", "7.0"},
};

// Register opcodes by value.
constexpr Named kRegisterOps[] = {
    {"BUFFERS", "5.1"},          {"UNREGISTER_BUFFERS", "5.1"},
    {"FILES", "5.1"},            {"UNREGISTER_FILES", "5.1"},
    {"EVENTFD", "5.2"},          {"UNREGISTER_EVENTFD", "5.2"},
    {"FILES_UPDATE", "5.5"},     {"EVENTFD_ASYNC", "5.6"},
    {"PROBE", "5.6"},            {"PERSONALITY", "5.6"},
    {"UNREGISTER_PERSONALITY", "5.6"}, {"RESTRICTIONS", "5.10"},
    {"ENABLE_RINGS", "5.10"},    {"FILES2", "5.13"},
    {"FILES_UPDATE2", "5.13"},   {"BUFFERS2", "5.13"},
    {"BUFFERS_UPDATE", "5.13"},  {"IOWQ_AFF", "5.14"},
    {"UNREGISTER_IOWQ_AFF", "5.14"}, {"IOWQ_MAX_WORKERS", "5.15"},
    {"RING_FDS", "5.18"},        {"UNREGISTER_RING_FDS", "5.18"},
    {"PBUF_RING", "5.19"},       {"UNREGISTER_PBUF_RING", "5.19"},
    {"SYNC_CANCEL", "6.0"},      {"FILE_ALLOC_RANGE", "6.0"},
    {"PBUF_STATUS", "6.8"},      {"NAPI", "6.9"},
    {"UNREGISTER_NAPI", "6.9"},  {"CLOCK", "6.12"},
    {"CLONE_BUFFERS", "6.12"},   {"SEND_MSG_RING", "6.13"},
    {"ZCRX_IFQ", "6.15"},        {"RESIZE_RINGS", "6.13"},
    {"MEM_REGION", "6.13"},      {"QUERY", "6.18"},
};

// Feature bits by bit number.
constexpr Named kFeatureBits[] = {
    {"SINGLE_MMAP", "5.4"},     {"NODROP", "5.5"},         {"SUBMIT_STABLE", "5.5"},
    {"RW_CUR_POS", "5.6"},      {"CUR_PERSONALITY", "5.6"}, {"FAST_POLL", "5.7"},
    {"POLL_32BITS", "5.9"},     {"SQPOLL_NONFIXED", "5.11"}, {"EXT_ARG", "5.11"},
    {"NATIVE_WORKERS", "5.12"}, {"RSRC_TAGS", "5.13"},     {"CQE_SKIP", "5.17"},
    {"LINKED_FILE", "5.17"},    {"REG_REG_RING", "6.3"},   {"RECVSEND_BUNDLE", "6.10"},
    {"MIN_TIMEOUT", "6.12"},    {"RW_ATTR", "6.14"},       {"NO_IOWAIT", "6.15"},
};

// Behaviours no single bit or opcode proves; capabilities.cc measures each.
struct CustomFeature {
  const char* id;
  const char* mainline;
  const char* what;
};
constexpr CustomFeature kCustom[] = {
    {"clone_buffers_offset", "6.13",
     "CLONE_BUFFERS takes src_off/dst_off/nr and IORING_REGISTER_DST_REPLACE"},
    {"register_use_registered_ring", "6.3",
     "io_uring_register accepts a registered ring index (opcode bit 31)"},
    {"enter_registered_ring", "5.18", "io_uring_enter accepts IORING_ENTER_REGISTERED_RING"},
};

template <size_t N>
std::string NameOr(const Named (&table)[N], size_t index, const char* prefix) {
  if (index < N) return table[index].name;
  return std::string(prefix) + std::to_string(index);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<Feature> BuildRegistry() {
  std::vector<Feature> all;
  for (size_t i = 0; i < std::size(kOpcodes); ++i) {
    all.push_back({"op_" + Lower(kOpcodes[i].name), Proof::kOpcode, static_cast<uint32_t>(i),
                   kOpcodes[i].mainline, std::string("IORING_OP_") + kOpcodes[i].name});
  }
  for (size_t i = 0; i < std::size(kSetupFlags); ++i) {
    all.push_back({"setup_" + Lower(kSetupFlags[i].name), Proof::kSetupFlag, 1U << i,
                   kSetupFlags[i].mainline, std::string("IORING_SETUP_") + kSetupFlags[i].name});
  }
  for (size_t i = 0; i < std::size(kRegisterOps); ++i) {
    all.push_back({"register_" + Lower(kRegisterOps[i].name), Proof::kRegisterOp,
                   static_cast<uint32_t>(i), kRegisterOps[i].mainline,
                   std::string("IORING_REGISTER_") + kRegisterOps[i].name});
  }
  for (size_t i = 0; i < std::size(kFeatureBits); ++i) {
    all.push_back({"feat_" + Lower(kFeatureBits[i].name), Proof::kFeatureBit, 1U << i,
                   kFeatureBits[i].mainline, std::string("IORING_FEAT_") + kFeatureBits[i].name});
  }
  for (const auto& c : kCustom) all.push_back({c.id, Proof::kCustom, 0, c.mainline, c.what});
  for (const CustomProbe& p : RegisteredProbes()) {
    all.push_back({p.id, Proof::kCustom, 0, p.mainline, p.what});
  }
  return all;
}

}  // namespace

const std::vector<Feature>& AllFeatures() {
  static const std::vector<Feature>* registry = new std::vector<Feature>(BuildRegistry());
  return *registry;
}

const Feature* FindFeature(std::string_view id) {
  for (const Feature& f : AllFeatures()) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

bool Supported(std::string_view id) {
  const Feature* f = FindFeature(id);
  if (f == nullptr) {
    std::fprintf(stderr, "ringcheck: unknown feature id '%.*s' (see harness/features.cc)\n",
                 static_cast<int>(id.size()), id.data());
    std::abort();
  }
  return Caps().Has(*f);
}

void NoteFeatureUse(std::string_view id) { NoteFeatures(std::string(id)); }

std::string OpcodeName(unsigned op) { return NameOr(kOpcodes, op, "OP_"); }
std::string RegisterOpName(unsigned opcode) { return NameOr(kRegisterOps, opcode, "REGISTER_"); }

std::string SetupFlagName(uint32_t flag) {
  for (size_t i = 0; i < std::size(kSetupFlags); ++i) {
    if (flag == (1U << i)) return kSetupFlags[i].name;
  }
  for (unsigned i = 0; i < 32; ++i) {
    if (flag == (1U << i)) return "SETUP_BIT_" + std::to_string(i);
  }
  return "SETUP_0x" + std::to_string(flag);
}

std::string FeatureBitName(uint32_t bit) {
  for (size_t i = 0; i < std::size(kFeatureBits); ++i) {
    if (bit == (1U << i)) return kFeatureBits[i].name;
  }
  for (unsigned i = 0; i < 32; ++i) {
    if (bit == (1U << i)) return "FEAT_BIT_" + std::to_string(i);
  }
  return "FEAT_?";
}

std::string SetupFlagsString(uint32_t flags) {
  if (flags == 0) return "none";
  std::string out;
  for (unsigned i = 0; i < 32; ++i) {
    if (flags & (1U << i)) {
      if (!out.empty()) out += "|";
      out += SetupFlagName(1U << i);
    }
  }
  return out;
}

}  // namespace ringcheck
