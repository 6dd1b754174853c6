#include "server/api.h"

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <set>

#include <map>

#include "app/analyze.h"
#include "app/attack.h"
#include "app/counterfactual.h"
#include "app/explain.h"
#include "app/inputs.h"
#include "app/instance.h"
#include "app/nle.h"
#include "app/predict.h"
#include "core/error.h"
#include "explain/attention_edit.h"
#include "explain/explainer.h"

namespace lumen::server {
namespace {

// A request the client got wrong: answered with `status`, naming `field` when there is one.
class RequestError : public InvalidArgument {
 public:
  RequestError(int status, std::string field, const std::string& message)
      : InvalidArgument(message), status(status), field(std::move(field)) {}
  int status;
  std::string field;
};

ApiResponse error(int status, const std::string& message, const std::string& field = "") {
  ApiResponse r;
  r.status = status;
  r.body = {{"error", message}, {"status", status}};
  if (!field.empty()) r.body["field"] = field;
  return r;
}

std::string string_field(const Json& j, const char* name, bool required, const std::string& fallback = "") {
  if (!j.contains(name)) {
    if (required) throw RequestError(400, name, std::string("missing field '") + name + "'");
    return fallback;
  }
  if (!j[name].is_string()) throw RequestError(400, name, std::string("field '") + name + "' must be a string");
  return j[name].get<std::string>();
}

std::vector<std::string> string_list(const Json& j, const char* name) {
  if (!j.contains(name)) return {};
  const Json& v = j[name];
  if (!v.is_array()) throw RequestError(400, name, std::string("field '") + name + "' must be an array of strings");
  std::vector<std::string> out;
  for (const auto& s : v) {
    if (!s.is_string()) throw RequestError(400, name, std::string("field '") + name + "' must be an array of strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

int64_t int_field(const Json& j, const char* name, const std::string& path, int64_t fallback, int64_t lo, int64_t hi) {
  if (!j.contains(name)) return fallback;
  if (!j[name].is_number_integer())
    throw RequestError(400, path, "field '" + path + "' must be an integer");
  const int64_t v = j[name].get<int64_t>();
  if (v < lo || v > hi)
    throw RequestError(400, path, "field '" + path + "' must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(v));
  return v;
}

Json parse_body(const std::string& body) {
  Json j;
  try {
    j = Json::parse(body);
  } catch (const std::exception& e) {
    throw RequestError(400, "body", std::string("malformed JSON in the request body: ") + e.what());
  }
  if (!j.is_object()) throw RequestError(400, "body", "the request body must be a JSON object");
  return j;
}

// Texts of a request: "texts" (each "FIRST<TAB>SECOND" for pairs), or "text" (and "text_b").
std::vector<std::string> request_texts(const Json& j, const ApiLimits& limits, bool pair) {
  std::vector<std::string> texts = string_list(j, "texts");
  if (j.contains("text")) {
    if (!texts.empty()) throw RequestError(400, "text", "give 'text' or 'texts', not both");
    std::string t = string_field(j, "text", true);
    if (pair) {
      const std::string b = string_field(j, "text_b", false);
      if (!b.empty()) t += "\t" + b;
    }
    texts.push_back(t);
  }
  const char* field = j.contains("texts") ? "texts" : "text";
  if (texts.empty()) throw RequestError(400, field, "missing field 'text' (or a non-empty 'texts')");
  if (static_cast<int64_t>(texts.size()) > limits.max_texts)
    throw RequestError(400, field, "at most " + std::to_string(limits.max_texts) + " texts per request");
  for (const auto& t : texts)
    if (static_cast<int64_t>(t.size()) > limits.max_text_chars)
      throw RequestError(400, field, "a text is longer than " + std::to_string(limits.max_text_chars) + " characters");
  return texts;
}

std::vector<std::string> request_edits(const Json& j, const models::TextClassifier& model, const ApiLimits& limits,
                                       std::vector<explain::AttentionEditSpec>* specs) {
  const std::vector<std::string> edits = string_list(j, "edits");
  if (static_cast<int64_t>(edits.size()) > limits.max_edits)
    throw RequestError(400, "edits", "at most " + std::to_string(limits.max_edits) + " edits per request");
  try {
    for (const auto& e : edits) specs->push_back(explain::parse_attention_edit(e));
    explain::validate_edits(*specs, model);
  } catch (const RequestError&) {
    throw;
  } catch (const InvalidArgument& e) {
    throw RequestError(400, "edits", e.what());
  }
  return edits;
}

// The methods a served explanation runs by default: every method that answers in a few
// milliseconds on a short text (no sampling, no attention flow).
const std::vector<std::string>& fast_methods() {
  static const std::vector<std::string> m = {"attention", "rollout", "saliency", "grad_input", "ig",
                                             "loo",       "occlusion", "grad_sam"};
  return m;
}

// options.NAME, a string parsed by `parse` (which throws InvalidArgument for an unknown name).
template <typename Parse>
auto named_option(const Json& o, const char* name, Parse parse) {
  const std::string field = std::string("options.") + name;
  if (!o[name].is_string()) throw RequestError(400, field, "field '" + field + "' must be a string");
  try {
    return parse(o[name].get<std::string>());
  } catch (const InvalidArgument& e) {
    throw RequestError(400, field, e.what());
  }
}

// 202 with the submitted job's state and where to poll it.
ApiResponse accepted(const JobQueue& jobs, const std::string& id) {
  ApiResponse out;
  out.status = 202;
  out.body = jobs.status(id, false);
  out.body["url"] = "/api/jobs/" + id;
  return out;
}

// The recipe of an attack request: one the run can serve (app::served_recipes), else 400 naming
// `recipe` and the served ones.
std::string served_recipe(const Json& j, const models::Run& run) {
  const std::string recipe = string_field(j, "recipe", false, "textfooler");
  const std::vector<std::string> served = app::served_recipes(run);
  if (std::find(served.begin(), served.end(), recipe) == served.end()) {
    std::string names;
    for (const auto& s : served) names += (names.empty() ? "" : ", ") + s;
    throw RequestError(400, "recipe", "recipe '" + recipe + "' is not served for this run (served: " + names +
                                          "; bae, bert-attack and clare need the run's editor, from lumen train-editor)");
  }
  return recipe;
}

// The explain request of a JSON body: typed texts, or (`split`) examples of the run's data.
app::ExplainRequest explain_request(const Json& j, app::RunPool& pool, const ApiLimits& limits_, bool split) {
  const models::Run& info = pool.info();
  app::ExplainRequest r;
  if (split) {
    r.data = "run";
    r.split = string_field(j, "split", false, "test");
    try {
      data::parse_split(r.split);
    } catch (const InvalidArgument& e) {
      throw RequestError(400, "split", e.what());
    }
    r.limit = int_field(j, "limit", "limit", 100, 1, 100000);
    r.batch_size = 8;  // progress (and cancellation) every 8 examples
  } else {
    r.texts = request_texts(j, limits_, info.model_config.pair);
  }
  std::vector<explain::AttentionEditSpec> specs;
  r.edits = request_edits(j, info.model, limits_, &specs);
  r.target = string_field(j, "target", false);
  if (!r.target.empty() && std::find(info.label_names.begin(), info.label_names.end(), r.target) == info.label_names.end())
    throw RequestError(400, "target", "target '" + r.target + "' is not a label of run '" + pool.name() + "'");
  // Methods: "all", a comma list or an array; by default the fast methods the model supports.
  if (j.contains("methods")) {
    std::vector<std::string> m;
    if (j["methods"].is_string()) {
      r.methods = j["methods"].get<std::string>();
    } else {
      m = string_list(j, "methods");
      r.methods.clear();
      for (const auto& s : m) r.methods += (r.methods.empty() ? "" : ",") + s;
    }
    try {
      explain::parse_methods(r.methods, info.model);
    } catch (const InvalidArgument& e) {
      throw RequestError(400, "methods", e.what());
    }
  } else {
    r.methods.clear();
    for (const auto& m : fast_methods())
      if (explain::supports(m, info.model)) r.methods += (r.methods.empty() ? "" : ",") + m;
  }
  if (j.contains("options")) {
    const Json& o = j["options"];
    if (!o.is_object()) throw RequestError(400, "options", "field 'options' must be an object");
    static const std::set<std::string> known = {"steps", "tolerance", "max_steps", "samples", "noise_samples", "seed",
                                                "removal", "baseline", "layer", "head", "ngram"};
    for (const auto& [k, v] : o.items())
      if (!known.count(k)) throw RequestError(400, "options." + k, "unknown option 'options." + k + "'");
    auto& eo = r.options;
    eo.path.steps = int_field(o, "steps", "options.steps", eo.path.steps, 1, limits_.max_steps);
    // Adaptive integrated gradients: per instance, as many steps as reach the completeness gap
    // `tolerance` (0: the fixed `steps`), at most `max_steps`, itself within the server's limit.
    if (o.contains("tolerance")) {
      if (!o["tolerance"].is_number() || !(o["tolerance"].get<double>() >= 0) || !std::isfinite(o["tolerance"].get<double>()))
        throw RequestError(400, "options.tolerance", "field 'options.tolerance' must be a finite number >= 0");
      eo.path.tolerance = o["tolerance"].get<double>();
    }
    eo.path.max_steps = int_field(o, "max_steps", "options.max_steps", std::min(eo.path.max_steps, limits_.max_steps), 4,
                                  limits_.max_steps);
    eo.surrogate.samples = int_field(o, "samples", "options.samples", eo.surrogate.samples, 1, limits_.max_samples);
    eo.smoothgrad.samples = int_field(o, "noise_samples", "options.noise_samples", eo.smoothgrad.samples, 1, limits_.max_samples);
    eo.seed = static_cast<uint64_t>(int_field(o, "seed", "options.seed", static_cast<int64_t>(eo.seed), 0, INT64_MAX));
    eo.attention.layer = int_field(o, "layer", "options.layer", eo.attention.layer, -1, 1 << 20);
    eo.attention.head = int_field(o, "head", "options.head", eo.attention.head, -1, 1 << 20);
    eo.occlusion.ngram = int_field(o, "ngram", "options.ngram", eo.occlusion.ngram, 1, 1 << 20);
    if (o.contains("removal")) eo.removal = named_option(o, "removal", explain::parse_removal);
    if (o.contains("baseline")) eo.path.baseline = named_option(o, "baseline", explain::parse_baseline);
    try {
      eo.validate();
    } catch (const InvalidArgument& e) {
      throw RequestError(400, "options", e.what());
    }
  }
  return r;
}

}  // namespace

void ApiLimits::validate() const {
  if (max_texts < 1) throw InvalidArgument("api: max_texts must be >= 1");
  if (max_text_chars < 1) throw InvalidArgument("api: max_text_chars must be >= 1");
  if (max_steps < 1) throw InvalidArgument("api: max_steps must be >= 1");
  if (max_samples < 1) throw InvalidArgument("api: max_samples must be >= 1");
  if (max_edits < 0) throw InvalidArgument("api: max_edits must be >= 0");
}

Json ApiLimits::to_json() const {
  return {{"max_texts", max_texts}, {"max_text_chars", max_text_chars}, {"max_steps", max_steps},
          {"max_samples", max_samples}, {"max_edits", max_edits}};
}

Api::Api(std::vector<std::shared_ptr<app::RunPool>> runs, ApiLimits limits)
    : runs_(std::move(runs)), limits_(limits), jobs_(std::make_shared<JobQueue>(1)) {
  limits_.validate();
  if (runs_.empty()) throw InvalidArgument("serve: no runs to serve");
  std::set<std::string> names;
  for (const auto& r : runs_)
    if (!names.insert(r->name()).second) throw InvalidArgument("serve: two runs are named '" + r->name() + "'");
}

std::shared_ptr<app::RunPool> Api::run(const std::string& name) const {
  for (const auto& r : runs_)
    if (r->name() == name) return r;
  throw RequestError(404, "run", "no run named '" + name + "' is served");
}

ApiResponse Api::explain(const Json& j) const {
  app::RunPool& pool = *run(string_field(j, "run", true));
  const app::ExplainRequest r = explain_request(j, pool, limits_, false);
  const app::RunPool::Lease lease = pool.acquire();
  ApiResponse out;
  out.body = app::explain(lease.run(), r);
  out.body["run"] = pool.name();
  return out;
}

ApiResponse Api::predict(const Json& j) const {
  app::RunPool& pool = *run(string_field(j, "run", true));
  const std::vector<std::string> texts = request_texts(j, limits_, pool.info().model_config.pair);
  std::vector<explain::AttentionEditSpec> specs;
  request_edits(j, pool.info().model, limits_, &specs);
  const app::RunPool::Lease lease = pool.acquire();
  ApiResponse out;
  out.body = app::predict(lease.run(), texts, 64, explain::make_attention_edit(specs)).to_json();
  return out;
}

ApiResponse Api::analysis(const Json& j) const {
  app::RunPool& pool = *run(string_field(j, "run", true));
  std::vector<std::string> texts = request_texts(j, limits_, pool.info().model_config.pair);
  if (texts.size() != 1) throw RequestError(400, "texts", "an analysis request takes one text");
  return {200, app::find_analysis(pool, texts.front())};
}

ApiResponse Api::nle(const Json& j) const {
  app::RunPool& pool = *run(string_field(j, "run", true));
  std::vector<std::string> texts = request_texts(j, limits_, pool.info().model_config.pair);
  if (texts.size() != 1) throw RequestError(400, "texts", "an nle request takes one text");
  app::ComposeNleRequest r;
  r.text = texts.front();
  r.top_k = int_field(j, "top_k", "top_k", r.top_k, 1, 50);
  r.methods.clear();
  for (const auto& m : fast_methods())
    if (explain::supports(m, pool.info().model) && m != "rollout" && m != "grad_sam") r.methods += (r.methods.empty() ? "" : ",") + m;
  const app::RunPool::Lease lease = pool.acquire();
  Json out = app::compose_nle(lease.run(), r);
  out["run"] = pool.name();
  return {200, out};
}

ApiResponse Api::attack(const Json& j) const {
  app::RunPool& pool = *run(string_field(j, "run", true));
  std::vector<std::string> texts = request_texts(j, limits_, pool.info().model_config.pair);
  if (texts.size() != 1) throw RequestError(400, "texts", "an attack request takes one text");
  const std::string recipe = served_recipe(j, pool.info());
  const app::RunPool::Lease lease = pool.acquire();
  Json out = app::attack_text(lease.run(), texts.front(), recipe);
  out["run"] = pool.name();
  return {200, out};
}

ApiResponse Api::influence(const Json& j) const {
  app::RunPool& pool = *run(string_field(j, "run", true));
  std::vector<std::string> texts = request_texts(j, limits_, pool.info().model_config.pair);
  if (texts.size() != 1) throw RequestError(400, "texts", "an influence request takes one text");
  Json out = app::find_influence(pool.info(), texts.front());
  out["run"] = pool.name();
  return {200, out};
}

namespace {

// The analysis options of an analyze job: "only" (a comma list or an array of gradient, loo,
// permutation, adversarial), "permutations", "seed"; the rest as `lumen analyze`'s defaults.
analysis::AnalysisOptions analyze_options(const Json& j, int64_t limit) {
  analysis::AnalysisOptions a;
  a.limit = limit;
  a.progress = false;
  a.batch_size = 16;  // progress (and cancellation) every 16 instances
  if (j.contains("only")) {
    try {
      app::apply_only(a, j["only"].is_string() ? app::split_list(j["only"].get<std::string>()) : string_list(j, "only"));
    } catch (const RequestError&) {
      throw;
    } catch (const InvalidArgument& e) {
      throw RequestError(400, "only", e.what());
    }
  }
  a.permutations = int_field(j, "permutations", "permutations", a.permutations, 1, 1000);  // every TVD is in the result
  a.seed = static_cast<uint64_t>(int_field(j, "seed", "seed", static_cast<int64_t>(a.seed), 0, INT64_MAX));
  try {
    a.validate();
  } catch (const InvalidArgument& e) {
    throw RequestError(400, "body", e.what());
  }
  return a;
}

}  // namespace

ApiResponse Api::counterfactual(const Json& j) const {
  app::RunPool& pool = *run(string_field(j, "run", true));
  std::vector<std::string> texts = request_texts(j, limits_, pool.info().model_config.pair);
  if (texts.size() != 1) throw RequestError(400, "texts", "a counterfactual request takes one text");
  app::CounterfactualRequest r;
  r.options.method = string_field(j, "method", false, "mice");
  if (r.options.method != "mice" && r.options.method != "polyjuice" && r.options.method != "crest")
    throw RequestError(400, "method", "field 'method' must be mice, polyjuice or crest; got '" + r.options.method + "'");
  r.options.codes = string_list(j, "codes");
  r.target = string_field(j, "target", false);
  if (!r.target.empty() && std::find(pool.info().label_names.begin(), pool.info().label_names.end(), r.target) == pool.info().label_names.end())
    throw RequestError(400, "target", "target '" + r.target + "' is not a label of run '" + pool.name() + "'");
  try {
    r.options.validate();
  } catch (const InvalidArgument& e) {
    throw RequestError(400, "codes", e.what());
  }
  const app::RunPool::Lease lease = pool.acquire();
  Json out = app::counterfactual_text(lease.run(), texts.front(), r);
  out["run"] = pool.name();
  return {200, out};
}

ApiResponse Api::submit_job(const Json& j) const {
  const std::string kind = string_field(j, "kind", true);
  if (kind != "explain" && kind != "attack" && kind != "analyze")
    throw RequestError(400, "kind", "unknown job kind '" + kind + "' (known: explain, attack, analyze)");
  const std::shared_ptr<app::RunPool> pool = run(string_field(j, "run", true));
  const std::string split = string_field(j, "split", false, "test");
  try {
    data::parse_split(split);
  } catch (const InvalidArgument& e) {
    throw RequestError(400, "split", e.what());
  }
  if (kind == "analyze") {
    const analysis::AnalysisOptions a = analyze_options(j, int_field(j, "limit", "limit", 100, 1, 100000));
    const std::string id = jobs_->submit(kind, j, [pool, split, a] {
      const app::RunPool::Lease lease = pool->acquire();
      // The split the pool has loaded once (the examples view reads the same), not a reload.
      app::AnalysisInput input;
      input.examples = *pool->examples(split);
      input.data_name = pool->info().data_spec;
      input.pair = pool->info().model_config.pair;
      app::AnalyzeRequest r;
      r.split = split;
      r.options = a;
      r.name = pool->name();
      const app::AnalyzeResult done = app::analyze(lease.run(), input, r);
      Json records = done.records_json(lease.run());
      pool->add_analysis(split, done.summary, records);
      if (input.pair)  // the second texts, so that the page can open an instance
        for (auto& r : records) r["tokens_b"] = input.examples.at(r["index"].get<size_t>()).tokens_b;
      return Json{{"kind", "analyze"}, {"run", pool->name()}, {"split", split}, {"summary", done.summary}, {"records", records}};
    });
    return accepted(*jobs_, id);
  }
  if (kind == "attack") {
    const int64_t limit = int_field(j, "limit", "limit", 100, 1, 100000);
    const std::string recipe = served_recipe(j, pool->info());
    const std::string id = jobs_->submit(kind, j, [pool, split, limit, recipe] {
      const app::RunPool::Lease lease = pool->acquire();
      Json doc = app::attack_split(lease.run(), split, limit, recipe);
      doc["run"] = pool->name();
      return doc;
    });
    return accepted(*jobs_, id);
  }
  const app::ExplainRequest r = explain_request(j, *pool, limits_, true);
  const std::string id = jobs_->submit(kind, j, [pool, r] {
    const app::RunPool::Lease lease = pool->acquire();
    Json doc = app::explain(lease.run(), r);
    doc["run"] = pool->name();
    return doc;
  });
  return accepted(*jobs_, id);
}

ApiResponse Api::handle(const std::string& method, const std::string& path,
                        const std::multimap<std::string, std::string>& params, const std::string& body) const {
  auto param = [&](const std::string& k, const std::string& fallback) {
    const auto it = params.find(k);
    return it == params.end() ? fallback : it->second;
  };
  auto int_param = [&](const std::string& k, int64_t fallback) {
    const std::string v = param(k, "");
    if (v.empty()) return fallback;
    try {
      size_t used = 0;
      const long long x = std::stoll(v, &used);
      if (used != v.size()) throw std::invalid_argument(v);
      return static_cast<int64_t>(x);
    } catch (const std::exception&) {
      throw RequestError(400, k, "query parameter '" + k + "' must be an integer, got '" + v + "'");
    }
  };
  try {
    const std::string prefix = "/api/";
    if (path.compare(0, prefix.size(), prefix) != 0) return error(404, "no such path: " + path);
    std::vector<std::string> parts;
    size_t start = prefix.size();
    while (start <= path.size()) {
      const size_t slash = path.find('/', start);
      const std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      if (!part.empty()) parts.push_back(part);
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    auto want = [&](const char* m) {
      if (method != m) throw RequestError(405, "", method + " is not allowed on " + path + " (use " + m + ")");
    };
    if (parts.size() == 1 && parts[0] == "runs") {
      want("GET");
      Json list = Json::array();
      for (const auto& r : runs_) list.push_back(r->summary());
      return {200, {{"runs", list}, {"limits", limits_.to_json()}}};
    }
    if (parts.size() == 2 && parts[0] == "runs") {
      want("GET");
      return {200, run(parts[1])->summary()};
    }
    if (parts.size() == 3 && parts[0] == "runs" && parts[2] == "examples") {
      want("GET");
      app::RunPool& pool = *run(parts[1]);
      const std::string split = param("split", "test");
      try {
        data::parse_split(split);
      } catch (const InvalidArgument& e) {
        throw RequestError(400, "split", e.what());
      }
      const int64_t offset = int_param("offset", 0), limit = int_param("limit", 50);
      if (offset < 0) throw RequestError(400, "offset", "query parameter 'offset' must be >= 0");
      if (limit < 1 || limit > 1000) throw RequestError(400, "limit", "query parameter 'limit' must be in [1, 1000]");
      return {200, app::find_examples(pool, split, param("q", ""), offset, limit)};
    }
    // The POST requests about one text (or its run): a JSON body in, an answer out.
    static const std::map<std::string, ApiResponse (Api::*)(const Json&) const> kPosts = {
        {"explain", &Api::explain}, {"predict", &Api::predict},   {"analysis", &Api::analysis},
        {"nle", &Api::nle},         {"attack", &Api::attack},     {"influence", &Api::influence},
        {"counterfactual", &Api::counterfactual}};
    if (parts.size() == 1 && kPosts.count(parts[0])) {
      want("POST");
      return (this->*kPosts.at(parts[0]))(parse_body(body));
    }
    if (parts.size() == 1 && parts[0] == "jobs") {
      if (method == "POST") return submit_job(parse_body(body));
      want("GET");
      return {200, {{"jobs", jobs_->list()}}};
    }
    if (parts.size() == 2 && parts[0] == "jobs") {
      if (method == "DELETE") {
        if (jobs_->status(parts[1], false).is_null()) throw RequestError(404, "id", "no job '" + parts[1] + "'");
        if (!jobs_->cancel(parts[1])) throw RequestError(409, "id", "job '" + parts[1] + "' has already finished");
        return {200, jobs_->status(parts[1], false)};
      }
      want("GET");
      Json st = jobs_->status(parts[1], true);
      if (st.is_null()) throw RequestError(404, "id", "no job '" + parts[1] + "'");
      return {200, st};
    }
    return error(404, "no such path: " + path);
  } catch (const RequestError& e) {
    return error(e.status, e.what(), e.field);
  } catch (const InvalidArgument& e) {
    return error(400, e.what());
  } catch (const DataError& e) {
    return error(400, e.what());
  } catch (const std::exception& e) {
    return error(500, std::string("internal error: ") + e.what());
  }
}

}  // namespace lumen::server
