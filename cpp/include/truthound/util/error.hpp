// Typed errors of the engine. The binding maps each to a Python exception of the same name
// (truthound.errors). Messages name the file, column or option and say what to do.
#pragma once

#include <stdexcept>
#include <string>

namespace truthound {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Serialized bytes that are truncated, corrupted or of an unknown format/version.
class CorruptProfileError : public Error {
 public:
  using Error::Error;
};

// Two partial profiles disagree on a column's type in a way that cannot be promoted losslessly.
class SchemaError : public Error {
 public:
  using Error::Error;
};

// An Arrow type the engine does not know.
class UnsupportedTypeError : public Error {
 public:
  using Error::Error;
};

// A bad option or argument passed by the caller.
class InvalidArgumentError : public Error {
 public:
  using Error::Error;
};

// Arrow data handed over the C Data Interface is malformed (missing buffers, bad format string).
class ArrowImportError : public Error {
 public:
  using Error::Error;
};

// A data file (Parquet) whose bytes are malformed or truncated, or that uses a feature the
// engine's own reader does not handle. The message names the file and column when known.
class SourceReadError : public Error {
 public:
  using Error::Error;
};

}  // namespace truthound
