#include "influence/partial.h"

#include <torch/serialize.h>

#include <functional>

#include "core/fs.h"

namespace lumen::influence {

PartialStore::PartialStore(std::string dir, Json scope) : dir_(std::move(dir)), scope_(std::move(scope)) {}

std::string PartialStore::path_of(const Json& full) const {
  return join_path(dir_, "unit-" + std::to_string(std::hash<std::string>{}(full.dump())));
}

std::optional<PartialStore::Unit> PartialStore::load(const Json& key) const {
  if (!enabled()) return std::nullopt;
  const Json full{{"scope", scope_}, {"unit", key}};
  const std::string stem = path_of(full);
  if (!path_exists(stem + ".json") || !path_exists(stem + ".pt")) return std::nullopt;
  try {
    const Json meta = read_json_file(stem + ".json");
    if (!meta.contains("scope") || meta["scope"] != full["scope"] || meta["unit"] != full["unit"]) return std::nullopt;
    Unit u;
    torch::load(u.tensors, stem + ".pt");
    u.info = meta.value("info", Json());
    ++*reused_;
    return u;
  } catch (const std::exception&) {
    return std::nullopt;  // damaged: recomputed
  }
}

void PartialStore::save(const Json& key, const std::vector<at::Tensor>& tensors, const Json& info) const {
  if (!enabled()) return;
  make_dirs(dir_);
  const Json full{{"scope", scope_}, {"unit", key}};
  const std::string stem = path_of(full);
  std::vector<at::Tensor> copies;
  for (const auto& t : tensors) copies.push_back(t.defined() ? t.detach().contiguous() : at::empty({0}));
  write_atomic(stem + ".pt", [&](std::ostream& os) { torch::save(copies, os); });
  Json meta = full;
  meta["info"] = info;
  write_json_file(stem + ".json", meta);  // last: a unit without it is never read
}

}  // namespace lumen::influence
