// Today's serialized partial profile rewritten in the layout of an older format version, for
// the tests that check what older bytes load as.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "truthound/profile/alerts.hpp"
#include "truthound/profile/partial.hpp"
#include "truthound/util/hash.hpp"

namespace truthound::testing {

// `bytes` (format PartialProfile::kFormatVersion) as format `version` < 5 would have written
// them: the options without the alert thresholds (the 8-byte doubles after the 37 bytes of the
// other options), the version byte, the payload length and the checksum fixed. The other
// differences of formats 2 and 3 (how rows and timestamps hash) are in the hashes themselves.
inline std::vector<uint8_t> as_old_format(std::vector<uint8_t> bytes, uint8_t version) {
  const size_t options = 37, alerts = 8 * AlertThresholds::options().size();
  bytes.erase(bytes.begin() + 16 + options, bytes.begin() + 16 + options + alerts);
  bytes[4] = version;
  const uint64_t len = bytes.size() - 24;
  std::memcpy(bytes.data() + 8, &len, 8);
  const uint64_t sum = hash_bytes(bytes.data() + 16, len);
  std::memcpy(bytes.data() + bytes.size() - 8, &sum, 8);
  return bytes;
}

}  // namespace truthound::testing
