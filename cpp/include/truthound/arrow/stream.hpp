// Reading an ArrowArrayStream batch by batch, with the stream's own error text on failure.
//
//   StreamReader reader(stream);      // reads the schema once
//   for (OwnedArray batch = reader.next(); !batch.is_released(); batch = reader.next()) ...
//
// The reader keeps no lock and calls nothing but the stream's callbacks, so a caller can hold
// its own lock around the work on each batch and not around get_next: a stream implemented in
// Python (a pyarrow reader over a generator) takes the GIL inside get_next.
#pragma once

#include "truthound/arrow/c_abi.hpp"

namespace truthound {

class StreamReader {
 public:
  // Throws ArrowImportError when the stream is released or its schema cannot be read.
  explicit StreamReader(ArrowArrayStream& stream);

  const ArrowSchema& schema() const { return *schema_.get(); }
  // The next batch, or a released array at the end of the stream. Throws ArrowImportError with
  // the stream's get_last_error text when get_next fails.
  OwnedArray next();

 private:
  ArrowArrayStream& stream_;
  OwnedSchema schema_;
};

}  // namespace truthound
