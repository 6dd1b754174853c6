// `lumen data show SPEC` and `lumen data list`.
#include <algorithm>
#include <cstdio>

#include "cli/common.h"
#include "data/spec.h"
#include "data/vocab.h"
#include "data/vocabulary_report.h"

namespace lumen::cli {

void register_data(CLI::App& app) {
  auto* cmd = app.add_subcommand("data", "Inspect datasets");
  cmd->require_subcommand(1);
  struct Options {
    std::string spec;
    int64_t examples = 3;
    int64_t min_count = 1;
    std::string numbers = "numeric";
    data::TokenizerOptions tokenizer;
  };
  auto o = std::make_shared<Options>();
  auto* show = cmd->add_subcommand("show", "Counts per split and label, lengths, vocabulary, examples");
  show->add_option("spec", o->spec, "Dataset spec")->required();
  show->add_option("--examples", o->examples, "Examples to print per split")->capture_default_str();
  show->add_option("--min-count", o->min_count, "Minimum count for the vocabulary size")->capture_default_str();
  show->add_option("--max-length", o->tokenizer.max_length, "Truncate texts to this many tokens")->capture_default_str();
  show->add_option("--numbers", o->numbers, "Tokens folded into <num>: numeric | any-digit | none (as lumen train)")
      ->capture_default_str();
  show->callback([o] {
    setup_runtime();
    o->tokenizer.numbers = data::parse_number_rule(o->numbers);
    data::Dataset ds = data::load_dataset(data::parse_data_spec(o->spec));
    const auto tr = data::tokenize_dataset(ds, data::Tokenizer(o->tokenizer));
    std::vector<const std::vector<std::string>*> texts;
    for (const auto& e : ds.train) {
      texts.push_back(&e.tokens);
      if (ds.pair) texts.push_back(&e.tokens_b);
    }
    const auto vocab = data::Vocab::build(texts, o->min_count);
    const auto report = data::vocabulary_report(ds, tr, vocab, o->min_count, o->tokenizer);
    if (report.collapsed()) warn(report.warning());
    Json j{{"name", ds.name},          {"pair", ds.pair},
           {"labels", ds.label_names}, {"vocabulary", vocab.size()},
           {"truncated", tr.truncated}, {"vocabulary_report", report.to_json()}};
    for (auto split : {data::Split::kTrain, data::Split::kDev, data::Split::kTest}) {
      const auto& ex = ds.split(split);
      Json s{{"n", ex.size()}};
      Json per_label = Json::object();
      for (const auto& name : ds.label_names) per_label[name] = 0;
      std::vector<int64_t> lengths;
      for (const auto& e : ex) {
        per_label[ds.label_names[e.label]] = per_label[ds.label_names[e.label]].get<int64_t>() + 1;
        lengths.push_back(static_cast<int64_t>(e.tokens.size()));
      }
      s["labels"] = per_label;
      if (!lengths.empty()) {
        std::sort(lengths.begin(), lengths.end());
        double sum = 0;
        for (auto l : lengths) sum += l;
        s["length"] = {{"mean", sum / lengths.size()},
                       {"median", lengths[lengths.size() / 2]},
                       {"min", lengths.front()},
                       {"max", lengths.back()}};
      }
      Json shown = Json::array();
      for (int64_t k = 0; k < std::min<int64_t>(o->examples, static_cast<int64_t>(ex.size())); ++k)
        shown.push_back(data::example_to_json(ex[k], ds));
      s["examples"] = shown;
      j[data::split_name(split)] = s;
    }
    if (globals().json) {
      print_json(j);
      return;
    }
    std::printf("%s (%s)\nlabels: ", ds.name.c_str(), ds.pair ? "text pairs" : "single texts");
    for (size_t i = 0; i < ds.label_names.size(); ++i) std::printf("%s%s", i ? ", " : "", ds.label_names[i].c_str());
    std::printf("\nvocabulary (min count %lld): %lld; %lld distinct training words, %lld folded into %s, %lld <unk>\n",
                static_cast<long long>(o->min_count), static_cast<long long>(vocab.size()),
                static_cast<long long>(report.word_types), static_cast<long long>(report.folded_types),
                o->tokenizer.number_token.c_str(), static_cast<long long>(report.unknown_types));
    for (const char* split : {"train", "dev", "test"}) {
      const Json& s = j[split];
      std::printf("\n%s: %lld examples", split, static_cast<long long>(s["n"].get<int64_t>()));
      for (auto& [k, v] : s["labels"].items()) std::printf(", %s %lld", k.c_str(), static_cast<long long>(v.get<int64_t>()));
      if (s.contains("length"))
        std::printf("\n  tokens: mean %.1f, median %lld, min %lld, max %lld", s["length"]["mean"].get<double>(),
                    static_cast<long long>(s["length"]["median"].get<int64_t>()),
                    static_cast<long long>(s["length"]["min"].get<int64_t>()),
                    static_cast<long long>(s["length"]["max"].get<int64_t>()));
      std::printf("\n");
      for (const auto& e : s["examples"]) {
        std::string text;
        for (const auto& t : e["tokens"]) text += (text.empty() ? "" : " ") + t.get<std::string>();
        if (text.size() > 160) text = text.substr(0, 157) + "...";
        std::printf("  [%s] %s\n", e["label"].get<std::string>().c_str(), text.c_str());
      }
    }
    if (tr.truncated) std::printf("\n%lld texts truncated to %lld tokens\n", static_cast<long long>(tr.truncated),
                                  static_cast<long long>(o->tokenizer.max_length));
  });
  auto* list = cmd->add_subcommand("list", "Built-in datasets");
  list->callback([] {
    Json j = Json::array();
    for (const auto& d : data::builtin_datasets()) j.push_back({{"name", d.name}, {"description", d.description}});
    if (globals().json) {
      print_json(j);
      return;
    }
    for (const auto& d : data::builtin_datasets()) std::printf("%-20s %s\n", d.name.c_str(), d.description.c_str());
  });
}

}  // namespace lumen::cli
