#include "harness/cqes.h"

#include <liburing.h>

#include <sstream>

#include "harness/errno_names.h"
#include "harness/uapi.h"

namespace ringcheck {

std::string CqeFlagsName(uint32_t flags) {
  static const struct {
    uint32_t bit;
    const char* name;
  } kNames[] = {
      {IORING_CQE_F_BUFFER, "BUFFER"}, {IORING_CQE_F_MORE, "MORE"},
      {IORING_CQE_F_SOCK_NONEMPTY, "SOCK_NONEMPTY"}, {IORING_CQE_F_NOTIF, "NOTIF"},
      {IORING_CQE_F_BUF_MORE, "BUF_MORE"}, {IORING_CQE_F_SKIP, "SKIP"},
      {IORING_CQE_F_32, "F_32"},
  };
  std::string out;
  uint32_t low = flags & 0xffff;
  for (const auto& n : kNames) {
    if (low & n.bit) {
      if (!out.empty()) out += "|";
      out += n.name;
      low &= ~n.bit;
    }
  }
  if (low != 0) {
    std::ostringstream s;
    s << std::hex << "0x" << low;
    out += (out.empty() ? "" : "|") + s.str();
  }
  if (out.empty()) out = "none";
  if (flags >> IORING_CQE_BUFFER_SHIFT) {
    out += " upper=" + std::to_string(flags >> IORING_CQE_BUFFER_SHIFT);
  }
  return out;
}

std::string Describe(const Cqe& c) {
  std::ostringstream s;
  s << "{ud=" << c.user_data << " res=" << ResultName(c.res) << " flags=" << CqeFlagsName(c.flags);
  if (c.big) s << " extra=" << std::hex << "0x" << c.extra[0] << ",0x" << c.extra[1];
  s << "}";
  return s.str();
}

std::string Describe(const std::vector<Cqe>& cqes) {
  std::string out = "[";
  for (size_t i = 0; i < cqes.size(); ++i) out += (i ? " " : "") + Describe(cqes[i]);
  return out + "]";
}

std::vector<Cqe> ReapAll(Ring& ring, size_t count, std::chrono::milliseconds deadline,
                         std::chrono::milliseconds quiet) {
  std::vector<Cqe> got = ring.Reap(count, deadline);
  for (;;) {
    std::vector<Cqe> more = ring.Reap(1, quiet);
    if (more.empty()) return got;
    got.insert(got.end(), more.begin(), more.end());
  }
}

std::vector<Cqe> WithUserData(const std::vector<Cqe>& cqes, uint64_t user_data) {
  std::vector<Cqe> out;
  for (const Cqe& c : cqes) {
    if (c.user_data == user_data) out.push_back(c);
  }
  return out;
}

::testing::AssertionResult ExactlyThese(const std::vector<Cqe>& got, const std::vector<Want>& want) {
  std::vector<bool> used(got.size(), false);
  std::string missing;
  for (const Want& w : want) {
    bool found = false;
    for (size_t i = 0; i < got.size() && !found; ++i) {
      if (!used[i] && got[i].user_data == w.user_data && got[i].res == w.res) {
        used[i] = found = true;
      }
    }
    if (!found) {
      missing += " {ud=" + std::to_string(w.user_data) + " res=" + ResultName(w.res) + "}";
    }
  }
  std::vector<Cqe> extra;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!used[i]) extra.push_back(got[i]);
  }
  if (missing.empty() && extra.empty()) return ::testing::AssertionSuccess();
  ::testing::AssertionResult r = ::testing::AssertionFailure();
  if (!missing.empty()) r << "missing:" << missing << "; ";
  if (!extra.empty()) r << "unexpected: " << Describe(extra) << "; ";
  return r << "got " << Describe(got);
}

::testing::AssertionResult ArrivedInOrder(const std::vector<Cqe>& got,
                                          const std::vector<uint64_t>& user_datas) {
  size_t next = 0;
  for (const Cqe& c : got) {
    if (next < user_datas.size() && c.user_data == user_datas[next]) ++next;
  }
  if (next == user_datas.size()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "CQE of user_data " << user_datas[next]
                                       << " missing or out of order in " << Describe(got);
}

}  // namespace ringcheck
