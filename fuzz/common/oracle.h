// What every ringcheck fuzzer checks and reports the same way.
//
// An oracle violation aborts with one line on stderr that starts with a
// stable tag, then " | " and the details of this occurrence:
//
//   ORACLE one-cqe-per-sqe: READV got no CQE | user_data 0x... after 5000 ms
//
// nightly.sh deduplicates crashes by the part before " | " (plus the stack),
// so keep that part free of numbers that change from run to run.
#ifndef RINGCHECK_FUZZ_COMMON_ORACLE_H_
#define RINGCHECK_FUZZ_COMMON_ORACLE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace ringcheck::fuzz {

// Prints "ORACLE <tag>: <summary> | <details>" and aborts.
[[noreturn]] void OracleFail(const char* tag, const std::string& summary,
                             const std::string& details = "");

// The sandbox or the harness itself failed (not a kernel finding): prints
// "HARNESS: <what>" and aborts.
[[noreturn]] void HarnessFail(const std::string& what);

// Feedback beyond user-space coverage: each new key (for example opcode,
// result class, CQE flags) lights one libFuzzer extra counter.
void CountFeature(uint32_t key);
// The counter CountFeature(key) lights, for a hot path that counts one key
// over and over.
uint8_t* FeatureCounter(uint32_t key);

// A CQE result as a small class: 0, positive, or 2 + errno.
uint32_t ResultClass(int32_t res);

// Kernel log oracle: aborts with "ORACLE kernel-log" when the kernel logged
// BUG/WARNING/Oops/... since the previous call. No-op where /dev/kmsg is
// unreadable.
void CheckKernelLog(const char* target);

// Resource watch: every `every` calls (and at the first), logs the number of
// open fds and io_uring fds of this process to stderr and, when the
// environment variable RINGCHECK_FUZZ_STATS names a file, appends a line
//   <unix time> <pid> <target> execs=<n> fds=<n> rings=<n> units=<n>
// `units` is a running total the target counts (the sqe fuzzer: SQEs).
// `extra`, when given, appends the target's own counters ("key=value ...")
// to the line; it is called only when a line is written.
void NoteExec(const char* target, uint64_t units = 0, uint64_t every = 100000,
              void (*extra)(char* buf, size_t size) = nullptr);
int CountOpenFds(int* rings);

// Streams each input out before it runs, so the inputs that ran last
// survive a kernel panic: when RINGCHECK_FUZZ_SHM names a file (in a fuzz
// guest, the sysfs resource of qemu's ivshmem device, which the host maps
// from a file of its own), the input goes into a ring of kShmSlots slots
// there. Costs one pointer test when unset. Layout (fuzz/vm/shm.py reads it):
//   [0, 8) "RCFZSHM1"; [8, 16) inputs started; [16, 24) inputs finished
//   slot i (1..kShmSlots) at i * kShmSlotSize: seq u64, size u32, target
//   char[12], the input (up to kShmSlotSize - 24 bytes).
constexpr size_t kShmSize = 1 << 20, kShmSlotSize = 16384, kShmSlots = kShmSize / kShmSlotSize - 1;
//
// LogInputStart also arms the hang watchdog: a thread that, once a second,
// looks at the thread running the input. libFuzzer's -timeout acts through
// SIGALRM on that thread, which cannot act while the thread waits
// uninterruptibly in the kernel (state D): a non-blocking pipe WRITE issued
// inline that waits for the pipe's mutex, held by a SPLICE blocked in an
// io-wq worker on an empty socket, hung a nightly job for good. When the
// thread has been in D for RINGCHECK_FUZZ_HANG_S seconds of one input
// (default 20; 0 turns the watchdog off), or the input has run six times
// that long in any state, the watchdog fails with
//   ORACLE hang: an input's thread is stuck in the kernel at f < g < h | ...
// (its innermost kernel functions; the details carry its whole kernel stack
// and the io-wq workers'), and the abort ends the process: libFuzzer saves
// the input, and the exit's SIGKILL to every thread ends the worker's wait
// and with it the hang.
void LogInputStart(const char* target, const uint8_t* data, size_t size);
void LogInputEnd();

}  // namespace ringcheck::fuzz

#endif  // RINGCHECK_FUZZ_COMMON_ORACLE_H_
