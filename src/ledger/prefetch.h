// Copyright 2026 The allot Authors.
//
// Starting a cache line's load ahead of its use. GCC 12 at -O2 deletes some
// __builtin_prefetch calls outright once inlined (the ledger's index and
// matured-set prefetches compiled to nothing), so on x86 the instruction is
// an asm statement the compiler must keep. A prefetch never faults: any
// address is allowed. Not API.

#ifndef ALLOT_SRC_LEDGER_PREFETCH_H_
#define ALLOT_SRC_LEDGER_PREFETCH_H_

namespace allot::internal {

inline void PrefetchLine(const void* address) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 (%0)" : : "r"(address));
#else
  __builtin_prefetch(address);
#endif
}

}  // namespace allot::internal

#endif  // ALLOT_SRC_LEDGER_PREFETCH_H_
