// The VmFlags line of /proc/self/smaps ("rd wr sh mr mw me dc ..."): how the
// fork tests see which mapping the kernel marked VM_IO ("io") or
// VM_DONTCOPY ("dc").
#ifndef RINGCHECK_SUITES_FORK_VMA_FLAGS_H_
#define RINGCHECK_SUITES_FORK_VMA_FLAGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ringcheck {

struct Vma {
  uintptr_t start = 0;
  uintptr_t end = 0;
  std::string name;                // "[vvar]", "anon_inode:[io_uring]", ""
  std::vector<std::string> flags;  // the VmFlags mnemonics

  bool Has(const std::string& flag) const;
};

// The mapping containing `addr`, if /proc/self/smaps is readable and has one.
std::optional<Vma> VmaContaining(const void* addr);
// The first mapping of this process whose VmFlags include `flag`.
std::optional<Vma> FirstVmaWithFlag(const std::string& flag);
// The first mapping of this process with this name ("[vdso]").
std::optional<Vma> VmaNamed(const std::string& name);

}  // namespace ringcheck

#endif  // RINGCHECK_SUITES_FORK_VMA_FLAGS_H_
