#include "core/fs.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace lumen {
namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw IoError("read: " + path + " is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("read: cannot open " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_atomic(const std::string& path, const std::function<void(std::ostream&)>& writer) {
  const fs::path target(path);
  if (target.has_parent_path()) make_dirs(target.parent_path().string());
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw IoError("write: cannot create " + tmp + ": " + std::strerror(errno));
      writer(out);
      out.flush();
      if (!out) throw IoError("write: failed while writing " + tmp);
    }
    // fsync so that the rename never exposes an empty file after a power loss.
    if (FILE* f = std::fopen(tmp.c_str(), "rb")) {
      ::fsync(fileno(f));
      std::fclose(f);
    }
    std::error_code ec;
    fs::rename(tmp, target, ec);
    if (ec) throw IoError("write: cannot rename " + tmp + " to " + path + ": " + ec.message());
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

void write_file_atomic(const std::string& path, const std::string& content) {
  write_atomic(path, [&](std::ostream& out) { out.write(content.data(), content.size()); });
}

void make_dirs(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) throw IoError("mkdir: cannot create " + path + ": " + ec.message());
}

bool path_exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

bool is_directory(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

std::string join_path(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

}  // namespace lumen
