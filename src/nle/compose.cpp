#include "nle/compose.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "core/error.h"

namespace lumen::nle {
namespace {

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string quoted_list(const std::vector<std::string>& words) {
  std::string s;
  for (size_t k = 0; k < words.size(); ++k) {
    if (k) s += k + 1 == words.size() ? " and " : ", ";
    s += "\"" + words[k] + "\"";
  }
  return s;
}

// method -> its top-k positions (by score, descending; ties by position).
std::map<std::string, std::vector<int64_t>> top_positions(const Json& instance, int64_t k) {
  std::map<std::string, std::vector<int64_t>> out;
  if (!instance.contains("attributions")) return out;
  for (const auto& [name, a] : instance["attributions"].items()) {
    if (!a.contains("scores") || !a["scores"].is_array()) continue;
    std::vector<double> s;
    for (const auto& v : a["scores"]) s.push_back(v.is_number() ? v.get<double>() : -INFINITY);
    std::vector<int64_t> idx(s.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int64_t x, int64_t y) { return s[x] > s[y]; });
    idx.resize(std::min<size_t>(idx.size(), static_cast<size_t>(k)));
    out[name] = idx;
  }
  return out;
}

}  // namespace

void ComposeOptions::validate() const {
  if (top_k < 1) throw InvalidArgument("nle: top_k must be >= 1");
  if (!(agreement > 0 && agreement <= 1)) throw InvalidArgument("nle: agreement must be in (0, 1]");
  if (!(hedge_below >= 0 && hedge_below <= 1)) throw InvalidArgument("nle: hedge_below must be in [0, 1]");
}

Json ComposeOptions::to_json() const { return {{"top_k", top_k}, {"agreement", agreement}, {"hedge_below", hedge_below}}; }

Json Claim::to_json() const { return {{"kind", kind}, {"sentence", sentence}, {"evidence", evidence}}; }

Json ComposedExplanation::to_json() const {
  Json c = Json::array();
  for (const auto& x : claims) c.push_back(x.to_json());
  return {{"text", text}, {"hedged", hedged}, {"overlap", overlap}, {"claims", c}};
}

std::vector<int64_t> consensus_order(const Json& instance, int64_t k) {
  const auto tops = top_positions(instance, k);
  const auto all = top_positions(instance, 1 << 30);
  std::map<int64_t, int64_t> votes;
  std::map<int64_t, double> rank_sum;
  for (const auto& [m, t] : tops)
    for (int64_t p : t) ++votes[p];
  for (const auto& [m, order] : all)
    for (size_t r = 0; r < order.size(); ++r) rank_sum[order[r]] += static_cast<double>(r);
  std::vector<int64_t> pos;
  for (const auto& [p, r] : rank_sum) pos.push_back(p);
  std::stable_sort(pos.begin(), pos.end(), [&](int64_t a, int64_t b) {
    const int64_t va = votes.count(a) ? votes[a] : 0, vb = votes.count(b) ? votes[b] : 0;
    if (va != vb) return va > vb;
    return rank_sum[a] < rank_sum[b];
  });
  return pos;
}

ComposedExplanation compose_explanation(const Json& inst, const std::vector<std::string>& label_names,
                                        const std::optional<CounterfactualEvidence>& cf, const std::optional<Json>& influence,
                                        const std::string& influence_method, const ComposeOptions& o) {
  o.validate();
  for (const char* f : {"tokens", "prediction", "probabilities"})
    if (!inst.contains(f)) throw InvalidArgument(std::string("nle: the explain instance has no '") + f + "'");
  ComposedExplanation out;
  const auto tokens = inst["tokens"].get<std::vector<std::string>>();
  const std::string pred = inst["prediction"].get<std::string>();
  const auto probs = inst["probabilities"].get<std::vector<double>>();
  const auto it = std::find(label_names.begin(), label_names.end(), pred);
  const double p = it == label_names.end() ? NAN : probs.at(it - label_names.begin());
  out.claims.push_back({"prediction", "The model predicts " + pred + " (probability " + fmt("%.2f", p) + ").",
                        {{"prediction", pred}, {"probability", p}}});
  // Agreement among the methods.
  const auto tops = top_positions(inst, o.top_k);
  const int64_t methods = static_cast<int64_t>(tops.size());
  if (methods > 0) {
    double overlap = 0;
    int64_t pairs = 0;
    for (auto a = tops.begin(); a != tops.end(); ++a)
      for (auto b = std::next(a); b != tops.end(); ++b) {
        std::set<int64_t> sa(a->second.begin(), a->second.end()), sb(b->second.begin(), b->second.end()), u = sa;
        u.insert(sb.begin(), sb.end());
        int64_t inter = 0;
        for (int64_t x : sa) inter += sb.count(x);
        overlap += u.empty() ? 1.0 : static_cast<double>(inter) / u.size();
        ++pairs;
      }
    out.overlap = pairs ? overlap / pairs : 1.0;
    std::map<int64_t, std::vector<std::string>> voters;
    for (const auto& [m, t] : tops)
      for (int64_t pos : t) voters[pos].push_back(m);
    const int64_t need = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(o.agreement * methods - 1e-9)));
    std::vector<int64_t> agreed;
    for (int64_t pos : consensus_order(inst, o.top_k))
      if (voters.count(pos) && static_cast<int64_t>(voters[pos].size()) >= need && static_cast<int64_t>(agreed.size()) < o.top_k)
        agreed.push_back(pos);
    out.hedged = agreed.empty() || out.overlap < o.hedge_below;
    Json ev = {{"methods", methods}, {"top_k", o.top_k}, {"mean_overlap", out.overlap}, {"needed_votes", need}, {"tokens", Json::array()}};
    std::vector<std::string> words;
    for (int64_t pos : agreed) {
      Json scores = Json::object();
      for (const auto& m : voters[pos]) scores[m] = inst["attributions"][m]["scores"][pos];
      ev["tokens"].push_back({{"token", tokens.at(pos)}, {"position", pos}, {"votes", voters[pos].size()}, {"scores", scores}});
      words.push_back(tokens.at(pos));
    }
    if (!agreed.empty()) {
      std::string s = (out.hedged ? "The methods only partly agree (mean top-" + std::to_string(o.top_k) + " overlap " +
                                        fmt("%.2f", out.overlap) + "), so this is tentative: it may rely on "
                                  : "It relies most on ") +
                      quoted_list(words) + ": ";
      const int64_t least = static_cast<int64_t>(voters[agreed.back()].size());
      s += std::to_string(least) + " or more of " + std::to_string(methods) + " methods rank " + (words.size() > 1 ? "each" : "it") +
           " among their top " + std::to_string(o.top_k) + ".";
      out.claims.push_back({"tokens", s, ev});
    }
    if (out.hedged) {
      Json per = Json::object();
      std::string s = "The attribution methods disagree (mean top-" + std::to_string(o.top_k) + " overlap " + fmt("%.2f", out.overlap) + "):";
      int64_t shown = 0;
      for (const auto& [m, t] : tops) {
        std::vector<std::string> w;
        for (int64_t pos : t) w.push_back(tokens.at(pos));
        per[m] = w;
        if (shown++ < 4) s += std::string(shown > 1 ? ";" : "") + " " + m + " points to " + quoted_list(w);
      }
      if (shown > 4) s += "; " + std::to_string(shown - 4) + " more in the evidence";
      s += ".";
      out.claims.push_back({"disagreement", s, {{"mean_overlap", out.overlap}, {"top_tokens", per}}});
    }
  }
  if (cf) {
    std::string s;
    if (!cf->removed.empty() && cf->inserted.empty()) s = "Removing " + quoted_list(cf->removed);
    else if (!cf->inserted.empty() && cf->removed.empty()) s = "Inserting " + quoted_list(cf->inserted);
    else s = "Replacing " + quoted_list(cf->removed) + " with " + quoted_list(cf->inserted);
    s += " changes the prediction to " + cf->prediction + " (probability " + fmt("%.2f", cf->probability) + ").";
    out.claims.push_back({"counterfactual", s,
                          {{"kind", cf->kind}, {"removed", cf->removed}, {"inserted", cf->inserted}, {"prediction", cf->prediction},
                           {"probability", cf->probability}}});
  }
  if (influence) {
    for (const char* side : {"proponents", "opponents"}) {
      if (!influence->contains(side) || (*influence)[side].empty()) continue;
      const Json& e = (*influence)[side][0];
      std::string text = e.value("text", std::string());
      if (text.size() > 120) text = text.substr(0, 117) + "...";
      const std::string label = e.value("label_name", std::string("?"));
      const double score = e.value("score", 0.0);
      const std::string which = std::string(side) == "proponents" ? "most helpful" : "most harmful";
      out.claims.push_back({"influence",
                            "Its " + which + " training example (" + influence_method + " score " + fmt("%.3g", score) + ") is #" +
                                std::to_string(e.value("train", int64_t{-1})) + ", labelled " + label + ": \"" + text + "\".",
                            {{"side", side}, {"method", influence_method}, {"train", e.value("train", int64_t{-1})}, {"score", score},
                             {"label", label}, {"text", e.value("text", std::string())}}});
    }
  }
  for (const auto& c : out.claims) out.text += (out.text.empty() ? "" : " ") + c.sentence;
  return out;
}

}  // namespace lumen::nle
