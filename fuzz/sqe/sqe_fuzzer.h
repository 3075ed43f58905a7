// The sqe fuzzer's entry points beyond libFuzzer's, for the benchmark.
#ifndef RINGCHECK_FUZZ_SQE_SQE_FUZZER_H_
#define RINGCHECK_FUZZ_SQE_SQE_FUZZER_H_

#include <cstddef>
#include <cstdint>

namespace ringcheck::fuzz {

// SQEs the fuzzer has submitted in this process (records, not its own
// cancel and reset requests).
uint64_t SqeFuzzerSqeCount();

// The sqe fuzzer's counters of where its time goes, as "key=value ...",
// for the stats line (NoteExec) and the benchmark.
void StatsExtra(char* buf, size_t size);

}  // namespace ringcheck::fuzz

#endif  // RINGCHECK_FUZZ_SQE_SQE_FUZZER_H_
