// Older serialized formats, forged from today's bytes for tests that load them.
#pragma once

#include <cstdint>
#include <vector>

#include "truthound/profile/options.hpp"
#include "truthound/util/bytes.hpp"
#include "truthound/util/hash.hpp"
#include "truthound/util/sorted_codec.hpp"

namespace truthound::testing {

// Today's bytes relabelled as an older format version: the duplicate-row counter in the
// layout of versions 2 to 4 (u64 hash and count a row instead of coded gaps and varints), the
// checksum recomputed. The sketches carry their own versions, so the rest reads as it is.
inline std::vector<uint8_t> relabelled(const std::vector<uint8_t>& bytes, uint8_t version) {
  ByteReader in(bytes.data() + 16, bytes.size() - 24, "test");
  (void)ProfileOptions::deserialize(in);
  const size_t counter_at = in.position() + 9;  // after rows u64 and the flag u8
  in.raw(9);
  ByteWriter payload;
  payload.raw(bytes.data() + 16, counter_at);
  payload.u8(in.u8());    // level
  payload.u64(in.u64());  // rows
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
