#include "truthound/arrow/stream.hpp"

#include <string>

#include "truthound/util/error.hpp"

namespace truthound {

namespace {

std::string stream_error(ArrowArrayStream& stream, int rc) {
  const char* err = stream.get_last_error ? stream.get_last_error(&stream) : nullptr;
  return err ? std::string(err) : std::to_string(rc);
}

}  // namespace

StreamReader::StreamReader(ArrowArrayStream& stream) : stream_(stream) {
  if (stream.release == nullptr) throw ArrowImportError("the Arrow stream was already released");
  if (int rc = stream.get_schema(&stream, schema_.get()); rc != 0) {
    throw ArrowImportError("reading the Arrow stream's schema failed: " + stream_error(stream, rc));
  }
}

OwnedArray StreamReader::next() {
  OwnedArray batch;
  if (int rc = stream_.get_next(&stream_, batch.get()); rc != 0) {
    throw ArrowImportError("reading the Arrow stream failed: " + stream_error(stream_, rc));
  }
  return batch;
}

}  // namespace truthound
