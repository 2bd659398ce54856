// Wrappers that add a property to any ObjectStore and keep its interface.
//
// A volume's stack is fixed and recorded at format (see OpenStore):
//
//   write: data → compress → encrypt → checksum → retry → backend
//   read:  backend → retry → verify checksum → decrypt → decompress → data
//
// Compression and encryption change an object's bytes, so a ranged Get
// through them fetches the whole object and cuts the range out (blocks are at
// most 16 MiB, and the chunk reader reads whole blocks anyway).
//
// Thread-safety: every wrapper is as safe for concurrent use as its inner store
// (all of ours are).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "object/store.h"

namespace tessera::object {

// Prepends a small header (magic, version, algorithm, length, checksum) to
// every object and verifies it on every Get: a mismatch, a short object or a
// bad header is kCorrupt with a message naming the object. xxHash3-64.
std::unique_ptr<ObjectStore> NewChecksumStore(std::unique_ptr<ObjectStore> inner);

// "lz4" or "zstd" (level 1); anything else is kInvalid. Objects that do not
// shrink are stored raw (a one-byte flag says which). Head reports the
// original size (it reads the frame header through the inner store, which for
// an encrypted or checksummed inner store reads the whole object); List
// reports stored sizes.
Result<std::unique_ptr<ObjectStore>> NewCompressStore(std::unique_ptr<ObjectStore> inner,
                                                      const std::string& algorithm);

// AES-256-GCM with `data_key` (32 bytes) and a random 12-byte nonce per
// object; the object key is bound as associated data, so a block copied to
// another name fails authentication. A failed tag check is kCorrupt.
Result<std::unique_ptr<ObjectStore>> NewEncryptStore(std::unique_ptr<ObjectStore> inner,
                                                     std::string data_key);

// A fresh random 32-byte data key, wrapped (RSA-OAEP, SHA-256) with the
// public half of the PEM private key at `pem` (decrypted with `passphrase`,
// which may be empty for an unencrypted PEM). Returns {wrapped key (base64),
// the PEM text to keep in the settings}.
struct WrappedKey {
  std::string wrapped_base64;
  std::string private_pem;
};
Result<WrappedKey> NewWrappedDataKey(const std::string& pem_text, const std::string& passphrase);
// Unwraps a data key with the PEM private key text and its passphrase. A
// wrong passphrase or key is kAccess with a message saying which.
Result<std::string> UnwrapDataKey(const std::string& pem_text, const std::string& passphrase,
                                  const std::string& wrapped_base64);

// Seals a small secret (the S3 secret key kept in the settings) with
// AES-256-GCM under a key derived by SHA-256 from `salt` (the volume UUID),
// as base64. This keeps it out of plain text in the metadata, dumps and
// logs; it does not protect it from someone who can read all the metadata
// (the salt is there too) — supply the secret through the environment at
// mount for that.
Result<std::string> SealSecret(std::string_view salt, std::string_view secret);
Result<std::string> UnsealSecret(std::string_view salt, std::string_view sealed_base64);

struct RetryOptions {
  int max_attempts = 10;  // total attempts per operation
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{10000};
  // Gives up early when an operation has been retrying this long.
  std::chrono::milliseconds deadline{60000};
};
// Retries kUnavailable failures with exponential backoff and full jitter;
// every other error returns at once. Logs each retry with the error.
std::unique_ptr<ObjectStore> NewRetryStore(std::unique_ptr<ObjectStore> inner,
                                           RetryOptions options = {});
// Retries since start (all retry stores), for metrics and tests.
uint64_t RetryCount();

// Counts requests, bytes, failures and time per operation under the
// process's metrics (tessera_object_<op>_seconds, _errors_total, and
// tessera_object_{get,put}_bytes_total). A missing object is not a failure.
std::unique_ptr<ObjectStore> NewMetricsStore(std::unique_ptr<ObjectStore> inner);

// Fault injection for tests, decided per call: fail (with `code`), delay, or
// cut (Put stores a truncated object yet reports success; Get returns a
// truncated result) a fraction of operations, or all of them while `down`.
struct FaultPlan {
  double fail_ratio = 0;  // of calls that fail with `fail_code`
  Code fail_code = Code::kUnavailable;
  double delay_ratio = 0;
  std::chrono::milliseconds delay{0};
  double cut_ratio = 0;  // of Puts/Gets whose bytes are truncated silently
  uint64_t seed = 1;
};
class FaultyStore : public ObjectStore {
 public:
  // Switch the plan or take the store fully down/up while in use.
  virtual void SetPlan(const FaultPlan& plan) = 0;
  virtual void SetDown(bool down) = 0;
  // Calls that were failed, delayed or cut so far.
  virtual uint64_t injected() const = 0;
};
std::unique_ptr<FaultyStore> NewFaultyStore(std::unique_ptr<ObjectStore> inner, FaultPlan plan);

}  // namespace tessera::object
