// Today's serialized partial profile rewritten in the layout of an older format version, for
// the tests that check what older bytes load as.
#pragma once

#include <cstdint>
#include <vector>

#include "truthound/profile/alerts.hpp"
#include "truthound/profile/options.hpp"
#include "truthound/util/bytes.hpp"
#include "truthound/util/hash.hpp"
#include "truthound/util/sorted_codec.hpp"

namespace truthound::testing {

// `bytes` (format PartialProfile::kFormatVersion) as format `version` < 5 would have written
// them: the options without the alert thresholds (the 8-byte doubles that end the options), the
// duplicate-row counter in the layout of versions 2 to 4 (u64 hash and u64 count a row instead
// of coded gaps and varints), the version byte, payload length and checksum fixed. The sketches
// carry their own format versions, so the rest reads as it is; the other differences of formats
// 2 and 3 (how rows and timestamps hash) are in the hashes themselves.
inline std::vector<uint8_t> as_old_format(const std::vector<uint8_t>& bytes, uint8_t version) {
  ByteReader in(bytes.data() + 16, bytes.size() - 24, "test");
  (void)ProfileOptions::deserialize(in, /*with_alerts=*/true);
  const size_t options_end = in.position();
  const size_t thresholds = 8 * AlertThresholds::options().size();
  ByteWriter payload;
  payload.raw(bytes.data() + 16, options_end - thresholds);
  payload.raw(in.current(), 9);  // rows u64 and the duplicates flag u8
  in.raw(9);
  payload.u8(in.u8());    // the counter's level
  payload.u64(in.u64());  // its rows
  const std::vector<uint64_t> hashes = read_sorted_u64(in, UINT64_MAX, true);
  payload.u64(hashes.size());
  for (uint64_t h : hashes) {
    payload.u64(h);
    payload.u64(in.varint());
  }
  payload.raw(in.current(), in.remaining());
  ByteWriter out;
  out.raw(bytes.data(), 4);
  out.u8(version);
  out.raw("\0\0\0", 3);
  out.u64(payload.size());
  out.raw(payload.buffer().data(), payload.size());
  out.u64(hash_bytes(payload.buffer().data(), payload.size()));
  return out.take();
}

}  // namespace truthound::testing
