// What a forked child sees: whether a byte of memory exists in a child at
// all (the question MADV_DONTFORK, io_uring_ring_dontfork(3) and
// ibv_fork_init(3) are about). Values a child hands back: InChild
// (harness/in_child.h).
#ifndef RINGCHECK_HARNESS_CHILD_PROBE_H_
#define RINGCHECK_HARNESS_CHILD_PROBE_H_

#include <gtest/gtest.h>

namespace ringcheck {

// Fork a child that reads the byte at `addr`. FaultsInChild succeeds when the
// child dies of SIGSEGV (no mapping there after fork), ReadableInChild when
// it reads the byte and exits normally; anything else (another signal, a
// timeout, fork failing) fails both, with what happened in the message.
// The child does not dump core.
::testing::AssertionResult FaultsInChild(const void* addr);
::testing::AssertionResult ReadableInChild(const void* addr);

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_CHILD_PROBE_H_
