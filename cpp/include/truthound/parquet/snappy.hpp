// Decompressor for the raw snappy block format (what Parquet stores in SNAPPY pages; not the
// framing/stream format): a varint preamble holding the uncompressed length, then literal and
// copy elements. No third-party dependency. Malformed input throws SourceReadError and never
// makes the decoder read or write out of bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace truthound::parquet {

// The decompressed length stored in the varint preamble of a raw snappy block.
// Throws truthound::SourceReadError (cpp/include/truthound/util/error.hpp) if the varint is
// malformed/truncated or > 2^32-1.
size_t snappy_uncompressed_length(std::span<const uint8_t> compressed);

// Decompresses a raw snappy block into `out`; out.size() must equal
// snappy_uncompressed_length(compressed) (else SourceReadError). Throws SourceReadError, message
// starting "snappy: ", on any malformed input: literal or copy running past the end of the input
// or output, copy offset 0 or reaching before the output start, output not exactly filled.
// Never reads or writes out of bounds, whatever the input.
void snappy_decompress(std::span<const uint8_t> compressed, std::span<uint8_t> out);

// Decompresses two independent blocks, a into out_a and b into out_b, with their elements
// interleaved: each stream's decoding is a chain of dependent steps, and two chains run side by
// side about 1.5x faster than one after the other. The same checks and errors as
// snappy_decompress, for each block (which one failed is not said).
void snappy_decompress2(std::span<const uint8_t> compressed_a, std::span<uint8_t> out_a,
                        std::span<const uint8_t> compressed_b, std::span<uint8_t> out_b);

}  // namespace truthound::parquet
