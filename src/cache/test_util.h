// Helpers for cache/ tests: a temporary directory, and a store that borrows
// another, counts the calls that pass through and can hold Puts at a gate.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>

#include "object/store.h"

namespace tessera::cache {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "tessera-cache.XXXXXX";
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string RandomBlock(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

inline std::string BlockKey(int i) { return "vol/chunks/0/0/" + std::to_string(i) + "_0_4096"; }

class CountingStore final : public object::ObjectStore {
 public:
  explicit CountingStore(object::ObjectStore* s) : s_(s) {}
  std::string Describe() const override { return s_->Describe(); }
  Status Create() override { return s_->Create(); }
  Status Put(std::string_view k, std::string_view d) override {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return open_; });
      if (fail_puts_) return Status::Unavailable("puts fail");
    }
    ++puts;
    return s_->Put(k, d);
  }
  Result<std::string> Get(std::string_view k, uint64_t o, int64_t l) override {
    ++gets;
    return s_->Get(k, o, l);
  }
  Result<object::ObjectInfo> Head(std::string_view k) override { return s_->Head(k); }
  Status Delete(std::string_view k) override {
    ++deletes;
    return s_->Delete(k);
  }
  Result<object::ListPage> List(std::string_view p, std::string_view a, size_t l) override {
    return s_->List(p, a, l);
  }
  // Closed: Puts wait until it opens.
  void SetGate(bool open) {
    {
      std::lock_guard lock(mu_);
      open_ = open;
    }
    cv_.notify_all();
  }
  void SetFailPuts(bool fail) {
    std::lock_guard lock(mu_);
    fail_puts_ = fail;
  }

  std::atomic<int> puts{0}, gets{0}, deletes{0};

 private:
  object::ObjectStore* s_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  bool fail_puts_ = false;
};

}  // namespace tessera::cache
