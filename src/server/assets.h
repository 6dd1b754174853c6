// The explorer's front end, bundled at build time (web/, esbuild from npm) and embedded in the
// binary: served as is, so `lumen serve` works offline.
#pragma once
#include <string_view>
#include <vector>

namespace lumen::server {

struct Asset {
  std::string_view path;          // as requested: "/", "/assets/app.js", ...
  std::string_view content_type;
  std::string_view body;
};

const std::vector<Asset>& web_assets();

}  // namespace lumen::server
