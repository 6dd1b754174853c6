// AttackOptions, the recipes and the names of the attack's enums.
#include <cmath>

#include "attack/attack.h"
#include "core/error.h"

namespace lumen::attack {

std::string to_string(Ranking r) {
  switch (r) {
    case Ranking::kDelete: return "delete";
    case Ranking::kUnk: return "unk";
    case Ranking::kGradient: return "gradient";
    case Ranking::kPwws: return "pwws";
  }
  return "delete";
}

Ranking parse_ranking(const std::string& s) {
  if (s == "delete") return Ranking::kDelete;
  if (s == "unk") return Ranking::kUnk;
  if (s == "gradient") return Ranking::kGradient;
  if (s == "pwws") return Ranking::kPwws;
  throw InvalidArgument("attack: ranking must be delete, unk, gradient or pwws; got '" + s + "'");
}

std::string to_string(Transformation t) {
  switch (t) {
    case Transformation::kEmbedding: return "embedding-neighbours";
    case Transformation::kWordNet: return "wordnet-synonyms";
    case Transformation::kChars: return "character-edits";
    case Transformation::kGradient: return "gradient-flips";
    case Transformation::kEditor: return "editor-fills";
    case Transformation::kEditorActions: return "editor-replace-insert-merge";
    case Transformation::kSemantic: return "semantic-spaces";
  }
  return "embedding-neighbours";
}

std::string to_string(Search s) {
  switch (s) {
    case Search::kGreedy: return "greedy";
    case Search::kBeam: return "beam";
    case Search::kGenetic: return "genetic";
  }
  return "greedy";
}

Search parse_search(const std::string& s) {
  if (s == "greedy") return Search::kGreedy;
  if (s == "beam") return Search::kBeam;
  if (s == "genetic") return Search::kGenetic;
  throw InvalidArgument("attack: search must be greedy, beam or genetic; got '" + s + "'");
}

std::string to_string(Status s) {
  switch (s) {
    case Status::kSucceeded: return "succeeded";
    case Status::kFailed: return "failed";
    case Status::kSkipped: return "skipped";
  }
  return "skipped";
}

std::vector<std::string> recipe_names() {
  return {"textfooler", "pwws", "deepwordbug", "hotflip", "bae", "bert-attack", "clare", "semattack", "alzantot"};
}

bool needs_editor(const AttackOptions& o) {
  return o.transformation == Transformation::kEditor || o.transformation == Transformation::kEditorActions ||
         o.max_fluency_ratio > 0;
}

AttackOptions recipe_options(const std::string& recipe) {
  AttackOptions o;
  o.recipe = recipe;
  auto& c = o.constraints;
  if (recipe == "textfooler") {
    // Jin et al. 2020: deletion importance, 50 counter-fitted neighbours with cosine >= 0.5,
    // stop words, part of speech, and a sentence-encoder similarity >= 0.84 (stand-in here: at
    // most 25% of the words change).
    o.ranking = Ranking::kDelete;
    o.transformation = Transformation::kEmbedding;
    o.candidates = 50;
    c.min_cosine = 0.5;
    c.same_pos = true;
    c.max_word_share = 0.25;
  } else if (recipe == "pwws") {
    // Ren et al. 2019: WordNet synonyms, probability-weighted word saliency; stop words.
    o.ranking = Ranking::kPwws;
    o.transformation = Transformation::kWordNet;
    o.candidates = 50;
  } else if (recipe == "deepwordbug") {
    // Gao et al. 2018: replace-one (<unk>) scores, character swap / substitution / deletion /
    // insertion, total Levenshtein distance <= 30.
    o.ranking = Ranking::kUnk;
    o.transformation = Transformation::kChars;
    o.candidates = 20;
    c.max_char_distance = 30;
  } else if (recipe == "hotflip") {
    // Ebrahimi et al. 2018 as in TextAttack: gradient flips, at most 2 words, cosine >= 0.8,
    // part of speech; 10 flips evaluated exactly per step.
    o.ranking = Ranking::kGradient;
    o.transformation = Transformation::kGradient;
    o.candidates = 10;
    c.max_words = 2;
    c.min_cosine = 0.8;
    c.same_pos = true;
  } else if (recipe == "bae") {
    // Garg & Ramakrishnan 2020 (BAE-R): deletion importance, the masked LM's top 50 fills of the
    // word, part of speech, sentence-encoder similarity (stand-in: at most 25% of the words).
    o.ranking = Ranking::kDelete;
    o.transformation = Transformation::kEditor;
    o.candidates = 50;
    c.same_pos = true;
    c.max_word_share = 0.25;
  } else if (recipe == "bert-attack") {
    // Li et al. 2020: [MASK] importance (here <unk>), the masked LM's top 48 fills (whole words:
    // the vocabulary has no subwords), at most 40% of the words, cosine >= 0.2.
    o.ranking = Ranking::kUnk;
    o.transformation = Transformation::kEditor;
    o.candidates = 48;
    c.max_word_share = 0.4;
    c.min_cosine = 0.2;
  } else if (recipe == "clare") {
    // Li et al. 2021 (TextAttack's CLARE2020): the masked LM's replace, insert and merge, 50
    // fills each above a least confidence (5e-4, 0, 5e-3); stop words; sentence-encoder
    // similarity >= 0.7 (stand-in: at most 25% of the words change).
    o.ranking = Ranking::kDelete;
    o.transformation = Transformation::kEditorActions;
    o.candidates = 50;
    c.max_word_share = 0.25;
  } else if (recipe == "semattack") {
    // Wang et al. 2022: an embedding perturbation optimised against the true class, projected
    // onto the words of its semantic spaces; at most 20% of the words change.
    o.ranking = Ranking::kGradient;
    o.transformation = Transformation::kSemantic;
    o.candidates = 30;
    c.max_word_share = 0.2;
  } else if (recipe == "alzantot") {
    // Alzantot et al. 2018 (TextAttack's recipe): the genetic search over 8 embedding
    // neighbours with cosine >= 0.5 (the word-vector distance), at most 20% of the words; its
    // Google language model is not available (the fluency constraint under the editor can stand in).
    o.ranking = Ranking::kDelete;
    o.transformation = Transformation::kEmbedding;
    o.search = Search::kGenetic;
    o.candidates = 8;
    c.min_cosine = 0.5;
    c.max_word_share = 0.2;
  } else {
    throw InvalidArgument("attack: unknown recipe '" + recipe +
                          "'; choose textfooler, pwws, deepwordbug, hotflip, bae, bert-attack, clare, semattack or alzantot");
  }
  return o;
}

std::string adapt_to_vectors(AttackOptions& o, bool user_set_cosine) {
  if (!o.vectors.empty() || user_set_cosine || o.constraints.min_cosine <= 0) return "";
  const double was = o.constraints.min_cosine;
  o.constraints.min_cosine = 0;
  return o.recipe + "'s word-vector cosine >= " + std::to_string(was).substr(0, 4) +
         " is meant for synonym vectors; without --vectors the neighbours come from the model's own embedding "
         "and no cosine floor is applied (give --vectors FILE, e.g. counter-fitted GloVe, or --min-cosine X)";
}

void AttackOptions::validate() const {
  constraints.validate();
  evaluator.validate();
  if (candidates < 1) throw InvalidArgument("attack: candidates must be at least 1");
  if (query_budget == 0 || query_budget < -1)
    throw InvalidArgument("attack: the query budget must be at least 1 (omit it for no limit), got " +
                          std::to_string(query_budget));
  if (max_length < 1) throw InvalidArgument("attack: max_length must be at least 1");
  if (batch < 1) throw InvalidArgument("attack: batch must be at least 1");
  if (transformation == Transformation::kGradient && ranking != Ranking::kGradient)
    throw InvalidArgument("attack: gradient flips choose their own positions (ranking gradient)");
  if (ranking == Ranking::kPwws && transformation == Transformation::kGradient)
    throw InvalidArgument("attack: the pwws order needs a candidate list per position");
  if (search != Search::kGreedy &&
      (transformation == Transformation::kGradient || transformation == Transformation::kSemantic))
    throw InvalidArgument("attack: " + recipe + " has its own search (" + to_string(transformation) +
                          "); beam and genetic searches take candidate lists");
  if (search == Search::kGenetic && transformation == Transformation::kEditorActions)
    throw InvalidArgument("attack: the genetic search crosses over replacements; clare's insertions and merges need greedy or beam");
  if (beam_width < 1) throw InvalidArgument("attack: the beam width must be at least 1");
  if (population < 2) throw InvalidArgument("attack: the population must be at least 2");
  if (generations < 1) throw InvalidArgument("attack: generations must be at least 1");
  if (!(temperature > 0)) throw InvalidArgument("attack: the temperature must be positive");
  if (max_fluency_ratio < 0 || !std::isfinite(max_fluency_ratio))
    throw InvalidArgument("attack: the fluency ratio must be positive (0 = off)");
  for (double f : {min_fill_replace, min_fill_insert, min_fill_merge})
    if (f < 0 || f >= 1) throw InvalidArgument("attack: a least fill confidence must be in [0, 1)");
  if (clare_positions < 0 || clare_score_fills < 1)
    throw InvalidArgument("attack: clare needs positions >= 0 (0 = all) and at least one scoring fill");
  if (sem_steps < 1 || sem_project_every < 1 || !(sem_step_size > 0) || sem_norm_weight < 0)
    throw InvalidArgument("attack: semattack needs steps >= 1, a positive step size and a weight >= 0");
}

Json AttackOptions::to_json() const {
  return {{"recipe", recipe},
          {"ranking", to_string(ranking)},
          {"transformation", to_string(transformation)},
          {"search", to_string(search)},
          {"beam_width", beam_width},
          {"genetic", {{"population", population}, {"generations", generations}, {"temperature", temperature}}},
          {"max_fluency_ratio", max_fluency_ratio > 0 ? Json(max_fluency_ratio) : Json(nullptr)},
          {"clare", {{"min_fill", {{"replace", min_fill_replace}, {"insert", min_fill_insert}, {"merge", min_fill_merge}}},
                     {"positions", clare_positions},
                     {"score_fills", clare_score_fills}}},
          {"semattack", {{"steps", sem_steps}, {"step_size", sem_step_size}, {"norm_weight", sem_norm_weight},
                         {"project_every", sem_project_every}}},
          {"constraints", constraints.to_json()},
          {"candidates", candidates},
          {"query_budget", query_budget < 0 ? Json(nullptr) : Json(query_budget)},
          {"max_length", max_length},
          {"batch", batch},
          {"seed", seed},
          {"evaluator", evaluator.to_json()},
          {"vectors", vectors.empty() ? Json("model embedding") : Json(vectors)},
          {"editor", editor_dir.empty() ? Json(nullptr) : Json(editor_dir)}};
}

Json AttackTimings::to_json() const {
  return {{"model_s", model},
          {"constraints_s", constraints},
          {"total_s", total},
          {"evaluator_passes", passes},
          {"variants", variants},
          {"mean_batch", passes > 0 ? static_cast<double>(variants) / passes : 0.0}};
}

}  // namespace lumen::attack
