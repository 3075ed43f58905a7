// MADV_DONTFORK / MADV_DOFORK themselves, the mechanism under
// io_uring_ring_dontfork(3) and ibv_fork_init(3) (madvise(2); rules A14-A21
// of spec/fork.md).
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdio>
#include <string>

#include "harness/capabilities.h"
#include "harness/child_probe.h"
#include "harness/configs.h"
#include "harness/errno_names.h"
#include "harness/matchers.h"
#include "harness/pages.h"
#include "suites/fork/vma_flags.h"

namespace ringcheck {
namespace {

long Advise(void* addr, size_t len, int advice) { return SysResult(madvise(addr, len, advice)); }

// madvise(2): EINVAL when addr is not page aligned (A14).
TEST(Madvise, UnalignedAddressIsEinval) {
  RINGCHECK_RULE("A14");
  Pages pages(2);
  ASSERT_TRUE(pages.ok());
  EXPECT_RESULT(Advise(pages.page(0) + 1, PageSize(), MADV_DONTFORK), -EINVAL, "A14");
}

// A15: length 0 succeeds and changes nothing.
TEST(Madvise, ZeroLengthDoesNothing) {
  RINGCHECK_RULE("A15");
  Pages pages(1);
  ASSERT_TRUE(pages.ok());
  EXPECT_RESULT(Advise(pages.page(0), 0, MADV_DONTFORK), 0, "A15");
  EXPECT_TRUE(ReadableInChild(pages.page(0))) << "rule A15";
}

// A16: a length that is not a page multiple is rounded up to whole pages,
// and no further.
TEST(Madvise, PartialLengthCoversTheWholePage) {
  RINGCHECK_RULE("A16");
  Pages pages(2);
  ASSERT_TRUE(pages.ok());
  ASSERT_RESULT(Advise(pages.page(0), 1, MADV_DONTFORK), 0, "A16");
  EXPECT_TRUE(FaultsInChild(pages.last_byte(0))) << "end of the rounded-up page (rule A16)";
  EXPECT_TRUE(ReadableInChild(pages.page(1))) << "the next page (rule A16)";
}

// A17: a range with unmapped pages in it fails with ENOMEM ...
TEST(Madvise, RangeWithHoleIsEnomem) {
  RINGCHECK_RULE("A17");
  Pages pages(3);
  ASSERT_TRUE(pages.ok());
  ASSERT_TRUE(pages.UnmapPage(1));
  EXPECT_RESULT(Advise(pages.page(0), pages.size(), MADV_DONTFORK), -ENOMEM, "A17");
}

// ... but the mapped pages on both sides of the hole are advised anyway.
TEST(Madvise, RangeWithHoleStillAdvisesMappedPages) {
  RINGCHECK_RULE("A17");
  Pages pages(3);
  ASSERT_TRUE(pages.ok());
  ASSERT_TRUE(pages.UnmapPage(1));
  Advise(pages.page(0), pages.size(), MADV_DONTFORK);
  EXPECT_TRUE(FaultsInChild(pages.page(0))) << "page before the hole (rule A17)";
  EXPECT_TRUE(FaultsInChild(pages.page(2))) << "page after the hole (rule A17)";
}

// A18: a DONTFORK page is not copied at fork: the child has no mapping.
TEST(Madvise, DontforkPageFaultsInChild) {
  RINGCHECK_RULE("A18");
  Pages pages(1);
  ASSERT_TRUE(pages.ok());
  ASSERT_RESULT(Advise(pages.page(0), PageSize(), MADV_DONTFORK), 0, "A18");
  EXPECT_TRUE(FaultsInChild(pages.page(0))) << "rule A18";
}

// A18: advising one page of a mapping splits the VMA; its neighbours in the
// same mmap stay inherited.
TEST(Madvise, NeighbourPagesStayInChild) {
  RINGCHECK_RULE("A18");
  Pages pages(3);
  ASSERT_TRUE(pages.ok());
  ASSERT_RESULT(Advise(pages.page(1), PageSize(), MADV_DONTFORK), 0, "A18");
  ASSERT_TRUE(FaultsInChild(pages.page(1))) << "the advised page itself (rule A18)";
  EXPECT_TRUE(ReadableInChild(pages.last_byte(0))) << "page before (rule A18)";
  EXPECT_TRUE(ReadableInChild(pages.page(2))) << "page after (rule A18)";
}

// A18: what /proc/self/smaps shows: one VMA, exactly the advised page,
// flagged VM_DONTCOPY ("dc").
TEST(Madvise, DontforkSplitsOffAVmaMarkedDontcopy) {
  RINGCHECK_RULE("A18");
  Pages pages(3);
  ASSERT_TRUE(pages.ok());
  ASSERT_RESULT(Advise(pages.page(1), PageSize(), MADV_DONTFORK), 0, "A18");
  std::optional<Vma> vma = VmaContaining(pages.page(1));
  if (!vma) GTEST_SKIP() << "environment:proc_smaps (/proc/self/smaps unreadable)";
  EXPECT_TRUE(vma->Has("dc")) << "VmFlags lack dc (rule A18)";
  EXPECT_EQ(vma->start, reinterpret_cast<uintptr_t>(pages.page(1))) << "rule A18";
  EXPECT_EQ(vma->end, reinterpret_cast<uintptr_t>(pages.page(2))) << "rule A18";
}

// A18: MADV_DOFORK undoes MADV_DONTFORK.
TEST(Madvise, DoforkBringsThePageBack) {
  RINGCHECK_RULE("A18");
  Pages pages(1);
  ASSERT_TRUE(pages.ok());
  ASSERT_RESULT(Advise(pages.page(0), PageSize(), MADV_DONTFORK), 0, "A18");
  ASSERT_TRUE(FaultsInChild(pages.page(0))) << "before MADV_DOFORK (rule A18)";
  ASSERT_RESULT(Advise(pages.page(0), PageSize(), MADV_DOFORK), 0, "A18");
  EXPECT_TRUE(ReadableInChild(pages.page(0))) << "rule A18";
}

// A19, madvise(2): "MADV_DOFORK ... EINVAL ... VM_IO". The vDSO data page
// ([vvar]) is such a mapping on x86; the whole VMA is given so no split is
// involved.
TEST(Madvise, DoforkOnVmIoMappingIsEinval) {
  RINGCHECK_RULE("A19");
  std::optional<Vma> io = FirstVmaWithFlag("io");
  if (!io) GTEST_SKIP() << "environment:vm_io_mapping (no VM_IO mapping in this process)";
  EXPECT_RESULT(Advise(reinterpret_cast<void*>(io->start), io->end - io->start, MADV_DOFORK),
                -EINVAL, "A19")
      << " on " << io->name;
}

// A20: a hugetlb VMA cannot be split at a boundary that is not huge-page
// aligned, so advising one small page of it fails.
TEST(Madvise, HugetlbPartialRangeIsEinval) {
  RINGCHECK_RULE("A20");
  if (Caps().hugepages_total == 0) {
    GTEST_SKIP() << "environment:hugepages (no hugetlb pages reserved)";
  }
  const size_t huge = HugePageSize();
  ASSERT_GT(huge, PageSize());
  void* p = mmap(nullptr, huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
                 -1, 0);
  if (p == MAP_FAILED) GTEST_SKIP() << "environment:hugepages (no free hugetlb page)";
  EXPECT_RESULT(Advise(p, PageSize(), MADV_DONTFORK), -EINVAL, "A20");
  munmap(p, huge);
}

// VM_SPECIAL is VM_IO, VM_DONTEXPAND, VM_PFNMAP or VM_MIXEDMAP: in smaps
// "io", "de", "pf", "mm".
bool IsSpecial(const Vma& v) { return v.Has("io") || v.Has("de") || v.Has("pf") || v.Has("mm"); }

// Whether this kernel refuses MADV_DOFORK on every VM_SPECIAL mapping (7.x)
// rather than on VM_IO ones only (A19). Asked of [vdso], the one special
// mapping every process has that is VM_DONTEXPAND and not VM_IO: DOFORK on
// it changes nothing where it is allowed (it was never DONTFORK). nullopt
// when there is no such [vdso] here.
std::optional<bool> DoforkRefusedOnSpecialMappings() {
  std::optional<Vma> vdso = VmaNamed("[vdso]");
  if (!vdso || vdso->Has("io") || !vdso->Has("de")) return std::nullopt;
  long ret = Advise(reinterpret_cast<void*>(vdso->start), vdso->end - vdso->start, MADV_DOFORK);
  if (ret != 0 && ret != -EINVAL) return std::nullopt;
  return ret == -EINVAL;
}

// A19: DOFORK on a special mapping that is not VM_IO is either allowed
// (0) or, from 7.x, refused with -EINVAL like VM_IO; nothing else.
TEST(Madvise, DoforkOnVdsoIsZeroOrEinval) {
  RINGCHECK_RULE("A19");
  std::optional<Vma> vdso = VmaNamed("[vdso]");
  if (!vdso) GTEST_SKIP() << "environment:vdso (no [vdso] mapping in this process)";
  ASSERT_TRUE(vdso->Has("de")) << "[vdso] is not VM_DONTEXPAND (rule A19)";
  ASSERT_FALSE(vdso->Has("io")) << "[vdso] is VM_IO (rule A19)";
  long ret = Advise(reinterpret_cast<void*>(vdso->start), vdso->end - vdso->start, MADV_DOFORK);
  EXPECT_TRUE(ret == 0 || ret == -EINVAL)
      << "MADV_DOFORK on [vdso] gave " << ResultName(ret) << " (rule A19)";
}

// A21: the ring mapping is VM_DONTEXPAND (and VM_MIXEDMAP where the pages
// are inserted one by one, VM_IO where remap_pfn_range maps them). DOFORK
// on it is refused (-EINVAL, so io_uring_ring_dontfork cannot be undone)
// exactly when A19 refuses it: the mapping is VM_IO, or this kernel refuses
// every special mapping, as the [vdso] probe tells. Otherwise it returns 0
// and the child sees the rings again.
TEST(Madvise, RingMappingDoforkFollowsSpecialMappingCheck) {
  RINGCHECK_RULE("A19 A21");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  std::optional<bool> special_refused = DoforkRefusedOnSpecialMappings();
  if (!special_refused) {
    GTEST_SKIP() << "environment:vdso (no [vdso] mapping that is VM_DONTEXPAND only to probe with)";
  }
  io_uring* r = ring->get();
  ASSERT_RESULT(io_uring_ring_dontfork(r), 0, "A21");
  ASSERT_TRUE(FaultsInChild(r->sq.khead)) << "before MADV_DOFORK (rule A24)";
  std::optional<Vma> vma = VmaContaining(r->sq.ring_ptr);
  if (!vma) GTEST_SKIP() << "environment:proc_smaps (/proc/self/smaps unreadable)";
  EXPECT_TRUE(vma->Has("de")) << "ring mapping is not VM_DONTEXPAND (rule A21)";
  const bool refused = vma->Has("io") || (*special_refused && IsSpecial(*vma));
  long ret = Advise(r->sq.ring_ptr, r->sq.ring_sz, MADV_DOFORK);
  if (refused) {
    EXPECT_RESULT(ret, -EINVAL, "A19")
        << (vma->Has("io") ? " (VM_IO ring mapping)" : " (special mappings refuse DOFORK here)");
    EXPECT_TRUE(FaultsInChild(r->sq.khead)) << "DOFORK refused, rings still DONTFORK (rule A19)";
  } else {
    EXPECT_RESULT(ret, 0, "A21");
    EXPECT_TRUE(ReadableInChild(r->sq.khead)) << "rule A21";
  }
}

}  // namespace
}  // namespace ringcheck
