// Huge pages a test owns: when the machine has none free, the test adds to
// the kernel's pool (vm.nr_hugepages, root only) and gives them back when it
// is done. Changes are serialised with a lock file, so tests in parallel
// (and other ringcheck processes) add and remove their own pages without
// losing each other's; the pool ends where it began.
#ifndef RINGCHECK_HARNESS_HUGEPAGES_H_
#define RINGCHECK_HARNESS_HUGEPAGES_H_

#include <memory>
#include <string>

namespace ringcheck {

class HugePageReservation {
 public:
  // Adds `count` default-size huge pages to the pool for the caller (fewer
  // if the kernel finds less memory). Null (and *why_not) when none can be
  // had: not root, no hugetlbfs support, or no memory for even one.
  //
  // The pool's lock stays held until Settle() (or destruction): the caller
  // maps its pages first. Else another process giving back its own pages
  // while they are still pinned (a ring's memory is released by the kernel
  // later, in io_ring_exit_work) shrinks the pool by the free pages, which
  // are this caller's.
  static std::unique_ptr<HugePageReservation> Ensure(unsigned count, std::string* why_not);
  ~HugePageReservation();  // removes the pages it added
  HugePageReservation(const HugePageReservation&) = delete;
  HugePageReservation& operator=(const HugePageReservation&) = delete;

  unsigned added() const { return added_; }
  void Settle();  // the caller has its pages: others may change the pool

 private:
  HugePageReservation(unsigned added, int lock_fd) : added_(added), lock_fd_(lock_fd) {}
  unsigned added_;
  int lock_fd_;
};

// Free default-size huge pages now (HugePages_Free), -1 if unknown.
long FreeHugePages();

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_HUGEPAGES_H_
