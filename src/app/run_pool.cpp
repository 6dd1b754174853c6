#include "app/run_pool.h"

#include <algorithm>
#include <cctype>

#include <filesystem>
#include <fstream>

#include "app/attack.h"
#include "app/inputs.h"
#include "core/error.h"
#include "explain/explainer.h"

namespace lumen::app {

RunPool::RunPool(std::string name, const std::string& dir, int replicas) : name_(std::move(name)) {
  if (replicas < 1) throw InvalidArgument("run pool: replicas must be >= 1");
  for (int i = 0; i < replicas; ++i) {
    replicas_.push_back(std::make_unique<models::Run>(models::load_run(dir)));
    replicas_.back()->model->eval();
    free_.push_back(static_cast<size_t>(i));
  }
}

RunPool::Lease RunPool::acquire() {
  std::unique_lock<std::mutex> lock(mutex_);
  released_.wait(lock, [&] { return !free_.empty(); });
  const size_t i = free_.back();
  free_.pop_back();
  return Lease(this, i);
}

RunPool::Lease::~Lease() {
  if (pool_ == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(pool_->mutex_);
    pool_->free_.push_back(index_);
  }
  pool_->released_.notify_one();
}

Json RunPool::summary() const {
  const models::Run& r = info();
  const auto& m = r.model;
  Json methods = Json::array();
  for (const auto& n : explain::explainer_names())
    if (explain::supports(n, m)) methods.push_back(n);
  return {{"name", name_},
          {"dir", r.dir},
          {"labels", r.label_names},
          {"pair", r.model_config.pair},
          {"model", r.model_config.to_json()},
          {"data", r.data_spec},
          {"attention",
           {{"pooling", m->has_pooling_attention()},
            {"layers", m->self_attention_layers()},
            {"heads", m->self_attention_heads()}}},
          {"methods", methods},
          {"editor", has_editor(r)},
          {"recipes", served_recipes(r)}};
}

std::shared_ptr<const std::vector<data::Example>> RunPool::examples(const std::string& split) {
  const std::string key = data::split_name(data::parse_split(split));
  std::lock_guard<std::mutex> lock(data_mutex_);
  auto it = splits_.find(key);
  if (it != splits_.end()) return it->second;
  auto ex = std::make_shared<const std::vector<data::Example>>(split_examples(info(), "run", key, 0, "examples"));
  splits_[key] = ex;
  return ex;
}

namespace {
std::string token_key(const std::vector<std::string>& tokens) {
  std::string k;
  for (const auto& t : tokens) k += t + '\x1f';
  return k;
}
}  // namespace

std::shared_ptr<const RunPool::Analysis> RunPool::analysis() {
  std::lock_guard<std::mutex> lock(data_mutex_);
  return load_analysis_locked();
}

void RunPool::add_analysis(const std::string& split, const Json& summary, const Json& records) {
  std::lock_guard<std::mutex> lock(data_mutex_);
  const std::shared_ptr<const Analysis> old = load_analysis_locked();
  auto a = std::make_shared<Analysis>();
  if (old->available && old->split == split) a->records = old->records;
  a->available = true;
  a->split = split;
  a->summary = summary;
  for (const auto& r : records) a->records[token_key(r.at("tokens").get<std::vector<std::string>>())] = r;
  analysis_ = a;
}

std::shared_ptr<const RunPool::Analysis> RunPool::load_analysis_locked() {
  if (analysis_) return analysis_;
  auto a = std::make_shared<Analysis>();
  const std::filesystem::path dir = std::filesystem::path(info().dir) / "analysis";
  std::ifstream records(dir / "records.jsonl"), summary(dir / "summary.json");
  if (records && summary) {
    try {
      a->summary = Json::parse(summary);
      a->split = a->summary.value("split", "");
      std::string line;
      while (std::getline(records, line)) {
        if (line.empty()) continue;
        Json r = Json::parse(line);
        a->records.emplace(token_key(r.at("tokens").get<std::vector<std::string>>()), std::move(r));
      }
      a->available = true;
    } catch (const std::exception& e) {
      throw DataError("analysis: " + (dir / "records.jsonl").string() + " cannot be read: " + e.what());
    }
  }
  analysis_ = a;
  return analysis_;
}

Json find_analysis(RunPool& pool, const std::string& text) {
  const auto a = pool.analysis();
  if (!a->available)
    return {{"found", false}, {"available", false},
            {"hint", "this run has no analysis: run `lumen analyze --run " + pool.info().dir + "`"}};
  const auto examples = examples_from_texts(pool.info(), {text}, "analysis");
  const auto it = a->records.find(token_key(examples.front().tokens));
  if (it == a->records.end())
    return {{"found", false}, {"available", true}, {"split", a->split},
            {"hint", "no analysed instance has these tokens: pick an example of the " + a->split + " split"}};
  return {{"found", true}, {"available", true}, {"split", a->split}, {"record", it->second},
          {"overall", a->summary.value("overall", Json::object())}};
}

namespace {
std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
// The text as written, or its tokens joined (synthetic tasks have tokens only).
std::string shown(const std::string& text, const std::vector<std::string>& tokens) {
  if (!text.empty() || tokens.empty()) return text;
  std::string out;
  for (const auto& t : tokens) out += (out.empty() ? "" : " ") + t;
  return out;
}
}  // namespace

Json find_examples(RunPool& pool, const std::string& split, const std::string& query, int64_t offset, int64_t limit) {
  if (offset < 0) throw InvalidArgument("examples: offset must be >= 0");
  if (limit < 1 || limit > 1000) throw InvalidArgument("examples: limit must be in [1, 1000]");
  const auto ex = pool.examples(split);
  const std::string q = lower(query);
  const auto& labels = pool.info().label_names;
  Json list = Json::array();
  int64_t matched = 0;
  for (size_t i = 0; i < ex->size(); ++i) {
    const data::Example& e = (*ex)[i];
    const std::string text = shown(e.text, e.tokens), text_b = shown(e.text_b, e.tokens_b);
    if (!q.empty() && lower(text).find(q) == std::string::npos && lower(text_b).find(q) == std::string::npos) continue;
    if (matched++ < offset || static_cast<int64_t>(list.size()) >= limit) continue;
    Json j = {{"index", i}, {"text", text}};
    if (!text_b.empty()) j["text_b"] = text_b;
    if (e.label >= 0 && e.label < static_cast<int64_t>(labels.size())) j["label"] = labels[e.label];
    list.push_back(j);
  }
  return {{"split", data::split_name(data::parse_split(split))},
          {"total", ex->size()},
          {"matched", matched},
          {"offset", offset},
          {"examples", list}};
}

}  // namespace lumen::app
