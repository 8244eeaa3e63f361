// Copyright 2026 The allot Authors.
//
// allot's reader-writer mutex: a POSIX rwlock that prefers writers, with
// Clang thread-safety annotations. Writers are preferred so that a stream of
// readers on many threads (assignments looking up their experiment) cannot
// starve a writer (creating or deleting an experiment); as with absl::Mutex,
// a thread must not take a reader lock it already holds. Not absl::Mutex,
// for two reasons: Debian's Abseil is built with deadlock detection on, which
// puts a graph-cycle lookup into every lock and unlock of the engine's hot
// path; and it is built without ThreadSanitizer instrumentation, so TSan
// could not see absl::Mutex's synchronization (it does see pthread rwlocks).
// Not API.

#ifndef ALLOT_INTERNAL_MUTEX_H_
#define ALLOT_INTERNAL_MUTEX_H_

#include <pthread.h>

#include "absl/base/thread_annotations.h"

namespace allot::internal {

// A reader-writer mutex. Thread-safe.
class ABSL_LOCKABLE Mutex {
 public:
  Mutex() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
#if defined(__GLIBC__)
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    pthread_rwlock_init(&mu_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  ~Mutex() { pthread_rwlock_destroy(&mu_); }
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { pthread_rwlock_wrlock(&mu_); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { pthread_rwlock_unlock(&mu_); }
  // Takes the lock if it is free; returns whether it did.
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    return pthread_rwlock_trywrlock(&mu_) == 0;
  }
  void ReaderLock() ABSL_SHARED_LOCK_FUNCTION() { pthread_rwlock_rdlock(&mu_); }
  void ReaderUnlock() ABSL_UNLOCK_FUNCTION() { pthread_rwlock_unlock(&mu_); }

 private:
  pthread_rwlock_t mu_;
};

// Holds `mu` exclusively for a scope.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// Holds `mu` shared for a scope.
class ABSL_SCOPED_LOCKABLE ReaderMutexLock {
 public:
  explicit ReaderMutexLock(Mutex* mu) ABSL_SHARED_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->ReaderLock();
  }
  ~ReaderMutexLock() ABSL_UNLOCK_FUNCTION() { mu_->ReaderUnlock(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  Mutex* const mu_;
};

}  // namespace allot::internal

#endif  // ALLOT_INTERNAL_MUTEX_H_
