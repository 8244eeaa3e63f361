// Copyright 2026 The allot Authors.
//
// An allocator for the ledger's large hash tables: blocks of 2 MiB or more
// are aligned to 2 MiB and marked for transparent huge pages (Linux
// madvise(MADV_HUGEPAGE)); smaller ones come from the standard allocator.
// A ledger of millions of open units probes tables of tens to hundreds of
// megabytes at random, and on 4 KiB pages nearly every probe also misses the
// TLB; on 2 MiB pages the page-table walks mostly go away. Where huge pages
// are unavailable or disabled, the advice is ignored and nothing else
// changes. Not API.

#ifndef ALLOT_SRC_LEDGER_HUGE_PAGE_ALLOCATOR_H_
#define ALLOT_SRC_LEDGER_HUGE_PAGE_ALLOCATOR_H_

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace allot::internal {

template <typename T>
class HugePageAllocator {
 public:
  using value_type = T;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: rebinding

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes) return std::allocator<T>().allocate(n);
    void* p = std::aligned_alloc(kHugePageBytes, RoundUp(bytes));
    if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    madvise(p, RoundUp(bytes), MADV_HUGEPAGE);  // advice only: errors ignored
#endif
    return static_cast<T*>(p);
  }

  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) < kHugePageBytes) {
      std::allocator<T>().deallocate(p, n);
    } else {
      std::free(p);
    }
  }

  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) {
    return true;
  }
  friend bool operator!=(const HugePageAllocator&, const HugePageAllocator&) {
    return false;
  }

 private:
  static constexpr size_t kHugePageBytes = size_t{2} << 20;
  static size_t RoundUp(size_t bytes) {
    return (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  }
};

}  // namespace allot::internal

#endif  // ALLOT_SRC_LEDGER_HUGE_PAGE_ALLOCATOR_H_
