// File helpers: whole-file reads with clear errors, and atomic writes (temporary file in the
// same directory, fsync, rename) so that a crash never leaves a half-written file.
#pragma once
#include <functional>
#include <ostream>
#include <string>

namespace lumen {

// Reads a whole file as bytes. Throws IoError naming the path if it cannot be opened.
std::string read_file(const std::string& path);

// Writes `content` to `path` atomically. Throws IoError.
void write_file_atomic(const std::string& path, const std::string& content);

// Calls `writer` with a stream on a temporary file, then renames it to `path`. If `writer`
// throws, the temporary file is removed and `path` is untouched. Throws IoError.
void write_atomic(const std::string& path, const std::function<void(std::ostream&)>& writer);

// Creates a directory and its parents if missing. Throws IoError.
void make_dirs(const std::string& path);

bool path_exists(const std::string& path);
bool is_directory(const std::string& path);

// Joins two path parts with one '/'.
std::string join_path(const std::string& a, const std::string& b);

}  // namespace lumen
