// Directories the sqe fuzzer's reset takes out of its sandbox, removed on a
// thread of their own.
//
// Removing a directory frees its block, and a file system that discards
// freed blocks synchronously (ext4 mounted with -o discard and no journal,
// as on the machine the issue-15 figures come from) makes every rmdir wait
// for the device: 0.3-0.5 ms, a quarter of the nightly job's time when
// inputs make directories (fuzz/README.md, "Where the time goes"). The reset
// instead renames the directory into a trash directory beside the sandbox
// (same file system, out of reach of every path an input can name), and
// this thread removes it while the next inputs run.
#ifndef RINGCHECK_FUZZ_SQE_DIR_REAPER_H_
#define RINGCHECK_FUZZ_SQE_DIR_REAPER_H_

#include <cstdint>

namespace ringcheck::fuzz::sqe {

// Makes "<sandbox>.trash" and starts the thread. False when either fails:
// TakeDir then always says no, and the reset removes directories itself.
bool StartDirReaper(const char* sandbox);

// Moves parent/name into the trash for the thread to remove (Pool::take_dir).
// False when the reaper is not running, the trash holds kMaxPending entries
// the thread has not removed yet (the device is that slow: the caller then
// removes it itself, which is the back pressure), or the rename fails.
bool TakeDir(int parent, const char* name);

// Lets the thread empty the trash, stops it and removes the trash (at exit).
void StopDirReaper();

// Directories handed to the thread so far (the stats line's `trashed`).
uint64_t DirsTrashed();

}  // namespace ringcheck::fuzz::sqe

#endif  // RINGCHECK_FUZZ_SQE_DIR_REAPER_H_
