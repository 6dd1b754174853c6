// Typed exceptions of the Lumen library. Messages read "<component>: <what> must be <rule>,
// got <value>"; input-data errors name the file and line. Library code throws, never prints
// or exits: `main()` and the HTTP handlers catch and choose the exit code or status.
#pragma once
#include <stdexcept>
#include <string>

namespace lumen {

// Base of every Lumen error.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// A caller passed a value outside its documented domain (options, shapes, names).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

// A file or directory could not be read or written.
class IoError : public Error {
 public:
  using Error::Error;
};

// Input data is malformed: bad UTF-8, a ragged CSV row, a missing label. Names file and line.
class DataError : public Error {
 public:
  using Error::Error;
};

// A model or checkpoint is inconsistent: foreign or truncated file, shape mismatch.
class ModelError : public Error {
 public:
  using Error::Error;
};

}  // namespace lumen
