// Turns an sqe-fuzzer input into a standalone C++ program that replays its
// SQEs on the same sandboxed, restricted ring and prints every CQE and what
// the oracles expect:  sqe_repro CRASH_FILE > repro.cc
//   g++ -std=c++17 repro.cc -luring -o repro && ./repro
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/sqe/decode.h"
#include "harness/capabilities.h"

extern const char kKitSource[];

namespace ringcheck::fuzz {
namespace {

std::string RefText(const rcfuzz::Ref& r) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "rcfuzz::Ref{%u, %u, %u, 0x%llxull}", r.kind, r.index, r.offset,
                static_cast<unsigned long long>(r.raw));
  return buf;
}

void PrintSpec(const Step& st) {
  const rcfuzz::SqeSpec& s = st.spec;
  std::printf("  {  // #%d %s\n    rcfuzz::SqeSpec s{};\n", st.record, st.desc ? st.desc->name : "restricted opcode");
  std::printf("    s.opcode = %u; s.flags = 0x%x; s.ioprio = 0x%x; s.len = %s;\n", s.opcode, s.flags, s.ioprio,
              RefText(s.len).c_str());
  std::printf("    s.fd = %s;\n    s.off = %s;\n    s.addr = %s;\n", RefText(s.fd).c_str(), RefText(s.off).c_str(),
              RefText(s.addr).c_str());
  std::printf("    s.op_flags = 0x%x; s.user_data = 0x%llxull; s.buf = %u; s.personality = %u;\n", s.op_flags,
              static_cast<unsigned long long>(s.user_data), s.buf, s.personality);
  std::printf("    s.file = %s;\n    s.addr3 = %s;\n    s.nwrites = %u;\n", RefText(s.file).c_str(),
              RefText(s.addr3).c_str(), s.nwrites);
  for (int i = 0; i < s.nwrites; ++i) {
    const rcfuzz::ScratchWrite& w = s.writes[i];
    std::printf("    s.writes[%d] = {%u, %u, %u, %s};\n", i, w.offset, w.size, w.is_ref, RefText(w.ref).c_str());
  }
  std::printf("    Queue(s, %d, \"%s\");\n  }\n", st.record, st.desc ? st.desc->name : "restricted");
}

constexpr char kMain[] = R"(
// ---- the replay ----
static rcfuzz::Pool pool;
static io_uring ring;
static std::map<uint64_t, std::string> names;
static std::map<uint64_t, int> finals;

static void Reap() {
  io_uring_cqe* cqe;
  unsigned head, n = 0;
  io_uring_for_each_cqe(&ring, head, cqe) {
    const uint64_t ud = cqe->user_data & ~0x8000ull;
    const char* more = (cqe->flags & IORING_CQE_F_MORE) ? " F_MORE" : "";
    const char* notif = (cqe->flags & IORING_CQE_F_NOTIF) ? " F_NOTIF" : "";
    std::printf("cqe %-16s user_data 0x%llx res %d (%s) flags 0x%x%s%s\n", names.count(ud) ? names[ud].c_str() : "?",
                (unsigned long long)cqe->user_data, cqe->res, cqe->res < 0 ? strerror(-cqe->res) : "ok",
                cqe->flags, more, notif);
    if (!(cqe->flags & IORING_CQE_F_MORE)) ++finals[ud];
    ++n;
  }
  io_uring_cq_advance(&ring, n);
}

static void Queue(const rcfuzz::SqeSpec& s, int record, const char* name) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  if (!sqe) { io_uring_submit(&ring); sqe = io_uring_get_sqe(&ring); }
  rcfuzz::Materialize(s, rcfuzz::BaseFor(pool, record), sqe);
  names[s.user_data] = name;
  finals[s.user_data] = 0;
}

// As the fuzzer's Submit: a wait step waits for at most as many CQEs as
// requests still owe one, and gives up after 20 us without a new CQE.
static void Submit(unsigned wait_nr, unsigned wait_us) {
  if (wait_nr && wait_us) {
    unsigned owed = 0;
    for (auto& [ud, n] : finals) owed += n == 0;
    if (owed == 0) wait_us = 0;
    if (owed > 0 && owed < wait_nr) wait_nr = owed;
  }
  io_uring_cqe* cqe;
  if (wait_nr && !wait_us) {
    __kernel_timespec ts = {0, 0};
    io_uring_submit_and_wait_timeout(&ring, &cqe, wait_nr, &ts, nullptr);
  } else {
    io_uring_submit(&ring);
  }
  unsigned tail = io_uring_smp_load_acquire(ring.cq.ktail);
  for (unsigned waited = 0; wait_nr && waited < wait_us && io_uring_cq_ready(&ring) < wait_nr;) {
    const unsigned slice = wait_us - waited < 20 ? wait_us - waited : 20;
    __kernel_timespec ts = {0, (long long)slice * 1000};
    io_uring_submit_and_wait_timeout(&ring, &cqe, wait_nr, &ts, nullptr);
    waited += slice;
    const unsigned now = io_uring_smp_load_acquire(ring.cq.ktail);
    if (now == tail) break;
    tail = now;
  }
  Reap();
}

int main() {
  rcfuzz::ApplySandboxLimits();
  if (int ret = rcfuzz::OpenPool(&pool); ret < 0) { std::printf("pool: %s\n", strerror(-ret)); return 2; }
  if (int ret = rcfuzz::SetupFuzzRing(&pool, &ring, kAllowed, sizeof kAllowed, 0); ret < 0) {
    std::printf("ring: %s\n", strerror(-ret));
    return 2;
  }
  Steps();
  Submit(0, 0);
  for (int ms = 0; ms < 3000; ++ms) {  // 3 s, as the fuzzer's deadline
    bool all = true;
    for (auto& [ud, n] : finals) all = all && n > 0;
    if (all) break;
    if (ms == 200) {
      std::printf("-- cancelling everything still in flight (as the fuzzer does)\n");
      io_uring_sync_cancel_reg reg = {};
      reg.flags = IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL;
      reg.fd = -1;
      reg.timeout.tv_sec = 1;
      io_uring_register_sync_cancel(&ring, &reg);
    }
    if (ms > 200) rcfuzz::DrainPool(&pool);
    __kernel_timespec ts = {0, 1000000};
    io_uring_cqe* cqe;
    io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
    Reap();
  }
  int bad = 0;
  for (auto& [ud, n] : finals) {
    if (n != 1) {
      std::printf("oracle: %s user_data 0x%llx has %d final CQEs (one expected; none is fine after "
                  "CQE_SKIP_SUCCESS)\n", names[ud].c_str(), (unsigned long long)ud, n);
      ++bad;
    }
  }
  std::printf("%s\n", bad ? "oracle: violations above" : "oracle: every request completed once");
  return bad ? 1 : 0;
}
)";

}  // namespace
}  // namespace ringcheck::fuzz

int main(int argc, char** argv) {
  using namespace ringcheck::fuzz;
  if (argc < 2) {
    std::fprintf(stderr, "usage: sqe_repro INPUT [ORACLE-MESSAGE] > repro.cc\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "sqe_repro: cannot read %s\n", argv[1]);
    return 2;
  }
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<const OpDesc*> allowed;
  std::vector<uint8_t> denied;
  const auto& caps = ringcheck::Caps();
  for (const OpDesc& d : OpTable()) {
    if (d.op < caps.op_supported.size() && caps.op_supported[d.op]) allowed.push_back(&d);
  }
  for (unsigned op = 0; op < caps.op_supported.size(); ++op) {
    if (caps.op_supported[op] && FindOp(static_cast<uint8_t>(op)) == nullptr) denied.push_back(static_cast<uint8_t>(op));
  }
  static Program prog;
  DecodeProgram(data.data(), data.size(), allowed, denied, 0xa500000000010000ull, &prog);
  std::printf("// ringcheck sqe reproducer, generated by fuzz/tools/sqe_repro from %s\n", argv[1]);
  if (argc > 2) std::printf("// The fuzzer reported: %s\n", argv[2]);
  std::printf("// Kernel when generated: %s\n", caps.kernel_release.c_str());
  std::printf("// Build: g++ -std=c++17 repro.cc -luring -o repro && ./repro\n");
  std::printf("#include <map>\n#include <string>\n%s\n", kKitSource);
  std::printf("static const uint8_t kAllowed[] = {");
  for (const OpDesc* d : allowed) std::printf("%u, ", d->op);
  std::printf("};\n\nstatic void Submit(unsigned wait_nr, unsigned wait_us);\n");
  std::printf("static void Queue(const rcfuzz::SqeSpec& s, int record, const char* name);\n\n");
  std::printf("static void Steps() {\n");
  for (int i = 0; i < prog.nsteps; ++i) {
    const Step& st = prog.steps[i];
    if (st.kind == Step::kSqe) PrintSpec(st);
    else std::printf("  Submit(%u, %u);\n", st.kind == Step::kWait ? st.wait_nr : 0, st.wait_us);
  }
  std::printf("}\n%s", kMain);
  return 0;
}
