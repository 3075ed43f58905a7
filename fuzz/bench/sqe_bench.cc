// Throughput of the sqe fuzzer against the kernel's raw batched NOP rate.
//   bazel run -c opt --config=fuzz-fast //fuzz/bench:sqe_bench
// Prints the raw rate (batch 32), the fuzzer's SQEs/s on a NOP-only input and
// on its seed corpus, its execs/s there, and the ratios. The fuzzer is called
// the way libFuzzer calls it, minus libFuzzer's own mutation work.
#include <dirent.h>
#include <liburing.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/sqe/sqe_fuzzer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kSeconds = 2.0;

double Elapsed(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double RawNopRate() {
  io_uring ring;
  if (io_uring_queue_init(64, &ring, 0) < 0) return 0;
  uint64_t done = 0;
  const auto start = Clock::now();
  while (Elapsed(start) < kSeconds) {
    for (int i = 0; i < 32; ++i) io_uring_prep_nop(io_uring_get_sqe(&ring));
    io_uring_submit_and_wait(&ring, 32);
    io_uring_cq_advance(&ring, 32);
    done += 32;
  }
  const double rate = done / Elapsed(start);
  io_uring_queue_exit(&ring);
  return rate;
}

struct Rate {
  double execs_per_s, sqes_per_s;
};

Rate FuzzRate(const std::vector<std::vector<uint8_t>>& inputs) {
  uint64_t execs = 0;
  const uint64_t sqes_before = ringcheck::fuzz::SqeFuzzerSqeCount();
  const auto start = Clock::now();
  while (Elapsed(start) < kSeconds) {
    for (const auto& in : inputs) LLVMFuzzerTestOneInput(in.data(), in.size());
    execs += inputs.size();
  }
  const double t = Elapsed(start);
  return {execs / t, (ringcheck::fuzz::SqeFuzzerSqeCount() - sqes_before) / t};
}

std::vector<std::vector<uint8_t>> Corpus(const std::string& dir) {
  std::vector<std::vector<uint8_t>> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream in(dir + "/" + e->d_name, std::ios::binary);
      out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    closedir(d);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string corpus_dir = argc > 1 ? argv[1] : "fuzz/sqe/corpus";
  // 256 records of NOP (opcode choice 0, no flags): 4 submissions of 64.
  std::vector<uint8_t> nops(256 * 16, 0);
  LLVMFuzzerTestOneInput(nops.data(), nops.size());  // warm up: probe, pool, ring
  const double raw = RawNopRate();
  const Rate nop = FuzzRate({nops});
  const auto corpus = Corpus(corpus_dir);
  if (corpus.empty()) {
    std::fprintf(stderr, "sqe_bench: no corpus files in %s\n", corpus_dir.c_str());
    return 2;
  }
  const Rate mixed = FuzzRate(corpus);
  std::printf("raw batched NOP rate (batch 32):     %12.0f SQEs/s\n", raw);
  std::printf("sqe fuzzer, NOP-only input:          %12.0f SQEs/s  (%.0f%% of raw)  %10.0f execs/s\n",
              nop.sqes_per_s, 100.0 * nop.sqes_per_s / raw, nop.execs_per_s);
  std::printf("sqe fuzzer, mixed corpus (%3zu files): %12.0f SQEs/s  (%.1f%% of raw)  %10.0f execs/s\n",
              corpus.size(), mixed.sqes_per_s, 100.0 * mixed.sqes_per_s / raw, mixed.execs_per_s);
  std::printf("targets: NOP-only >= 30%% of raw: %s; mixed corpus >= 50000 execs/s: %s\n",
              nop.sqes_per_s >= 0.3 * raw ? "met" : "NOT met", mixed.execs_per_s >= 50000 ? "met" : "NOT met");
  return 0;
}
