// Throughput of the sqe fuzzer against the kernel's raw batched NOP rate.
//   bazel run -c opt --config=fuzz-fast //fuzz/bench:sqe_bench
// Prints the raw rate (batch 32), the fuzzer's SQEs/s on a NOP-only input and
// on its seed corpus, its execs/s there, and the ratios. The fuzzer is called
// the way libFuzzer calls it, minus libFuzzer's own mutation work. Built with
// --config=fuzz it measures the nightly job's code generation (ASan, UBSan,
// coverage); fuzz/bench/side_by_side.sh runs both and the nightly job itself
// in one sitting.
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
constexpr int kSlices = 20;        // the three measurements take turns, so a
constexpr double kSlice = 0.1;     // change in machine load hits them alike

double Elapsed(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Tally {
  double seconds = 0;
  uint64_t execs = 0, sqes = 0;
  double Rate(uint64_t n) const { return seconds > 0 ? n / seconds : 0; }
};

void RawSlice(io_uring* ring, Tally* t) {
  const auto start = Clock::now();
  while (Elapsed(start) < kSlice) {
    for (int i = 0; i < 32; ++i) io_uring_prep_nop(io_uring_get_sqe(ring));
    io_uring_submit_and_wait(ring, 32);
    io_uring_cq_advance(ring, 32);
    t->sqes += 32;
  }
  t->seconds += Elapsed(start);
}

void FuzzSlice(const std::vector<std::vector<uint8_t>>& inputs, Tally* t) {
  const uint64_t sqes_before = ringcheck::fuzz::SqeFuzzerSqeCount();
  const auto start = Clock::now();
  while (Elapsed(start) < kSlice) {
    for (const auto& in : inputs) LLVMFuzzerTestOneInput(in.data(), in.size());
    t->execs += inputs.size();
  }
  t->seconds += Elapsed(start);
  t->sqes += ringcheck::fuzz::SqeFuzzerSqeCount() - sqes_before;
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
  // 256 records of NOP (opcode choice 0, no flags): one submission.
  const std::vector<std::vector<uint8_t>> nops = {std::vector<uint8_t>(256 * 16, 0)};
  const auto corpus = Corpus(corpus_dir);
  if (corpus.empty()) {
    std::fprintf(stderr, "sqe_bench: no corpus files in %s\n", corpus_dir.c_str());
    return 2;
  }
  LLVMFuzzerTestOneInput(nops[0].data(), nops[0].size());  // warm up: probe, pool, ring
  io_uring ring;
  if (io_uring_queue_init(64, &ring, 0) < 0) return 2;
  Tally raw, nop, mixed;
  for (int i = 0; i < kSlices; ++i) {
    RawSlice(&ring, &raw);
    FuzzSlice(nops, &nop);
    FuzzSlice(corpus, &mixed);
  }
  io_uring_queue_exit(&ring);
  const double raw_rate = raw.Rate(raw.sqes);
  std::printf("raw batched NOP rate (batch 32):      %12.0f SQEs/s\n", raw_rate);
  std::printf("sqe fuzzer, NOP-only input:           %12.0f SQEs/s  (%4.1f%% of raw)  %8.0f execs/s\n",
              nop.Rate(nop.sqes), 100.0 * nop.Rate(nop.sqes) / raw_rate, nop.Rate(nop.execs));
  std::printf("sqe fuzzer, mixed corpus (%3zu files): %12.0f SQEs/s  (%4.1f%% of raw)  %8.0f execs/s\n",
              corpus.size(), mixed.Rate(mixed.sqes), 100.0 * mixed.Rate(mixed.sqes) / raw_rate,
              mixed.Rate(mixed.execs));
  char where[256];
  ringcheck::fuzz::StatsExtra(where, sizeof where);
  std::printf("where the time went (all slices): %s\n", where);
  std::printf("targets: NOP-only >= 30%% of raw: %s; mixed corpus >= 50000 execs/s: %s\n",
              nop.Rate(nop.sqes) >= 0.3 * raw_rate ? "met" : "NOT met",
              mixed.Rate(mixed.execs) >= 50000 ? "met" : "NOT met");
  return 0;
}
