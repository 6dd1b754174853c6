#include "app/nle.h"

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include "app/explain.h"
#include "app/instance.h"
#include "app/predict.h"
#include "core/error.h"
#include "core/fs.h"
#include "data/tokenizer.h"

namespace lumen::app {

TrainNleResult train_nle(const TrainNleRequest& r) {
  if (r.out.empty()) throw InvalidArgument("train-nle: --out is required");
  r.train.validate();
  r.eval.validate();
  const auto t0 = std::chrono::steady_clock::now();
  const nle::NleDataset ds = nle::load_nle_dataset(nle::parse_nle_spec(r.data));
  Json logs;
  nle::NleSystem system = nle::train_nle_system(ds, r.train, &logs);
  const double train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  TrainNleResult result;
  result.out = r.out;
  result.report = {{"data", ds.name},
                   {"examples", {{"train", ds.train.size()}, {"dev", ds.dev.size()}, {"test", ds.test.size()}}},
                   {"vocabulary", system.space.vocab.size()},
                   {"training", logs},
                   {"train_seconds", train_s}};
  nle::save_nle_system(system, r.out, result.report);
  if (r.no_eval) return result;
  const auto t1 = std::chrono::steady_clock::now();
  nle::NleEvaluation ev = nle::evaluate_nle(system, ds, r.eval);
  result.report["evaluate_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  Json summary = ev.summary_json();
  summary["options"] = r.eval.to_json();
  write_json_file(join_path(r.out, "evaluation.json"), summary);
  std::string lines;
  for (const auto& a : ev.arrangements)
    for (const auto& rec : a.records) {
      Json j = rec.to_json(system.label_names);
      j["arrangement"] = nle::to_string(a.arrangement);
      lines += j.dump() + "\n";
    }
  write_file_atomic(join_path(r.out, "records.jsonl"), lines);
  write_file_atomic(join_path(r.out, "evaluation.md"), ev.table() + "\n");
  nle::save_nle_system(system, r.out, result.report);  // the report with the evaluation's timing
  result.evaluation = std::move(ev);
  return result;
}

Json nle_explain(nle::NleSystem& system, const NleExplainRequest& r) {
  if (r.text.empty()) throw InvalidArgument("nle: the text is empty");
  data::Tokenizer tokenizer;
  nle::NleInput in;
  in.tokens = tokenizer.tokenize(r.text).tokens;
  if (!r.text_b.empty()) in.tokens_b = tokenizer.tokenize(r.text_b).tokens;
  auto arrangements = r.arrangements;
  if (arrangements.empty())
    for (auto a : nle::all_arrangements())
      if (system.has(a)) arrangements.push_back(a);
  Json out = {{"input", {{"tokens", in.tokens}}}, {"explanations", Json::array()}};
  if (!in.tokens_b.empty()) out["input"]["tokens_b"] = in.tokens_b;
  for (auto a : arrangements) {
    const auto o = nle::nle_predict(system, a, {in}).front();
    Json probs = Json::object();
    for (size_t k = 0; k < o.probs.size(); ++k) probs[system.label_names[k]] = o.probs[k];
    std::string text;
    for (const auto& w : o.explanation) text += (text.empty() ? "" : " ") + w;
    out["explanations"].push_back({{"arrangement", nle::to_string(a)},
                                   {"label", system.label_names[o.label]},
                                   {"probabilities", probs},
                                   {"explanation", text},
                                   {"cited_input_words", nle::cited_words(o.explanation, in)}});
  }
  return out;
}

namespace {

// Multiset differences a - b.
std::vector<std::string> minus(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::map<std::string, int64_t> cb;
  for (const auto& w : b) ++cb[w];
  std::vector<std::string> out;
  for (const auto& w : a)
    if (cb[w]-- <= 0) out.push_back(w);
  return out;
}

std::vector<Json> read_records(const std::string& path) {
  const std::string text = read_file(path);
  std::vector<Json> out;
  Json whole = Json::parse(text, nullptr, false);
  if (!whole.is_discarded()) {
    if (whole.is_object() && whole.contains("results")) whole = whole["results"];
    if (whole.is_array())
      for (auto& r : whole) out.push_back(r);
    else if (whole.is_object())
      out.push_back(whole);
    return out;
  }
  std::istringstream in(text);
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded()) throw DataError("nle: " + path + ":" + std::to_string(n) + ": not JSON");
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

Json compose_nle(const models::Run& run, const ComposeNleRequest& r) {
  if (r.text.empty()) throw InvalidArgument("nle: the text is empty");
  if (r.max_deletions < 0) throw InvalidArgument("nle: max_deletions must be >= 0");
  nle::ComposeOptions co = r.compose;
  co.top_k = r.top_k;
  co.validate();
  ExplainRequest er;
  er.texts = {r.text_b.empty() ? r.text : r.text + "\t" + r.text_b};
  er.methods = r.methods;
  er.map_positions = 0;
  const Json doc = explain(run, er);
  Json inst = doc["instances"][0];
  inst.erase("attention");
  const auto tokens = inst["tokens"].get<std::vector<std::string>>();
  const std::vector<std::string> tokens_b = inst.contains("tokens_b") ? inst["tokens_b"].get<std::vector<std::string>>() : std::vector<std::string>{};
  const std::string pred = inst["prediction"].get<std::string>();
  Json sources = Json::object();
  // The smallest deletion, in consensus order, that flips the prediction.
  std::optional<nle::CounterfactualEvidence> cf;
  const auto order = nle::consensus_order(inst, r.top_k);
  const int64_t max_k = std::min<int64_t>(r.max_deletions, static_cast<int64_t>(tokens.size()) - 1);
  if (max_k > 0) {
    std::vector<std::string> texts;
    for (int64_t k = 1; k <= max_k; ++k) {
      std::vector<bool> drop(tokens.size(), false);
      for (int64_t q = 0; q < k; ++q) drop[order[q]] = true;
      std::vector<std::string> kept;
      for (size_t i = 0; i < tokens.size(); ++i)
        if (!drop[i]) kept.push_back(tokens[i]);
      texts.push_back(influence_key(kept, tokens_b));  // the typed form "FIRST<TAB>SECOND"
    }
    const auto preds = predict(run, texts);
    for (int64_t k = 1; k <= max_k; ++k) {
      const auto& p = preds.predictions[k - 1];
      if (p.label == pred) continue;
      nle::CounterfactualEvidence e;
      e.kind = "deletion";
      for (int64_t q = 0; q < k; ++q) e.removed.push_back(tokens[order[q]]);
      e.prediction = p.label;
      e.probability = p.probabilities[p.label_index];
      cf = e;
      break;
    }
    sources["deletion_search"] = {{"max_deletions", max_k}, {"found", cf.has_value()}};
  }
  if (!r.counterfactuals.empty()) {
    bool found = false;
    for (const auto& rec : read_records(r.counterfactuals)) {
      if (!rec.contains("original") || rec["original"].value("tokens", Json::array()) != Json(tokens)) continue;
      if (!rec.value("flipped", false) || rec["counterfactuals"].empty()) continue;
      const Json& c = rec["counterfactuals"][0];
      const auto ct = c["tokens"].get<std::vector<std::string>>();
      nle::CounterfactualEvidence e;
      e.kind = c.value("code", std::string("counterfactual"));
      e.removed = minus(tokens, ct);
      e.inserted = minus(ct, tokens);
      e.prediction = c["prediction"].is_string() ? c["prediction"].get<std::string>() : c["prediction"].dump();
      const auto probs = c.value("probabilities", std::vector<double>{});
      const auto it = std::find(run.label_names.begin(), run.label_names.end(), e.prediction);
      e.probability = it != run.label_names.end() && static_cast<size_t>(it - run.label_names.begin()) < probs.size() ? probs[it - run.label_names.begin()] : NAN;
      if (!cf || e.removed.size() + e.inserted.size() <= cf->removed.size()) cf = e;  // the smaller edit
      found = true;
      break;
    }
    sources["counterfactuals"] = {{"file", r.counterfactuals}, {"found", found}};
  }
  std::optional<Json> influence;
  std::string method;
  // Without a file named, the run's own influence results when it has them.
  const std::string influence_file = !r.influence.empty() ? r.influence : path_exists(influence_path(run)) ? influence_path(run) : "";
  if (!influence_file.empty()) {
    const Json idoc = read_json_file(influence_file);
    const std::string key = influence_key(tokens, tokens_b);
    method = idoc.value("method", std::string("influence"));
    for (const auto& t : idoc.value("tests", Json::array()))
      if (t.value("text", std::string()) == key) {
        influence = t;
        break;
      }
    sources["influence"] = {{"file", influence_file}, {"found", influence.has_value()}, {"method", method}};
  }
  const nle::ComposedExplanation ex = nle::compose_explanation(inst, run.label_names, cf, influence, method, co);
  Json out = ex.to_json();
  out["instance"] = inst;
  out["sources"] = sources;
  out["options"] = co.to_json();
  out["run"] = run.dir;
  return out;
}

}  // namespace lumen::app
