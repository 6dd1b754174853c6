#include "nle/system.h"

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <numeric>
#include <sstream>

#include "core/error.h"
#include "core/fs.h"
#include "core/parallel.h"
#include "core/progress.h"
#include "core/rng.h"

namespace lumen::nle {
namespace {

constexpr int64_t kPredictBatch = 256;

struct Item {
  std::vector<int64_t> src, tgt;
  int64_t label = 0;
};

struct Batch {
  at::Tensor src, mask, tgt_in, tgt_out, labels;
};

at::Tensor pad_rows(const std::vector<const std::vector<int64_t>*>& rows, int64_t prefix, int64_t suffix) {
  int64_t t = 1;
  for (const auto* r : rows) t = std::max<int64_t>(t, static_cast<int64_t>(r->size()) + (prefix >= 0) + (suffix >= 0));
  auto out = torch::zeros({static_cast<int64_t>(rows.size()), t}, torch::kLong);
  auto a = out.accessor<int64_t, 2>();
  for (size_t i = 0; i < rows.size(); ++i) {
    int64_t k = 0;
    if (prefix >= 0) a[i][k++] = prefix;
    for (int64_t id : *rows[i]) a[i][k++] = id;
    if (suffix >= 0) a[i][k++] = suffix;
  }
  return out;
}

Batch make_batch(const std::vector<Item>& items, const std::vector<size_t>& order, size_t begin, size_t end) {
  std::vector<const std::vector<int64_t>*> src, tgt;
  std::vector<int64_t> labels;
  for (size_t k = begin; k < end; ++k) {
    src.push_back(&items[order[k]].src);
    tgt.push_back(&items[order[k]].tgt);
    labels.push_back(items[order[k]].label);
  }
  Batch b;
  b.src = pad_rows(src, -1, -1);
  b.mask = b.src.ne(0);
  b.tgt_in = pad_rows(tgt, data::Vocab::kBos, -1);
  b.tgt_out = pad_rows(tgt, -1, data::Vocab::kEos);
  b.labels = torch::tensor(labels, torch::kLong);
  return b;
}

// Trains `m` on the label loss (cls), the explanation loss (gen) or both, keeping the
// parameters of the best dev epoch (label accuracy, teacher-forced token accuracy, or their mean).
int64_t steps_of(size_t n, const NleTrainOptions& o) {
  return o.epochs * static_cast<int64_t>((n + static_cast<size_t>(o.batch_size) - 1) / static_cast<size_t>(o.batch_size));
}

// Runs fn(0..n-1) on up to cores() threads, each task once (a shared counter hands them out).
// The first exception is rethrown on the calling thread after every thread has stopped.
}  // namespace

void run_tasks(int64_t n, const std::function<void(int64_t)>& fn) {
  // Lumen's threads only where LibTorch runs on one (core/runtime.h's policy); beside LibTorch's
  // own OpenMP pool they would oversubscribe the cores.
  const int64_t threads = at::get_num_threads() > 1 ? 1 : std::min<int64_t>(n, cores());
  if (threads <= 1) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex m;
  std::vector<std::thread> pool;
  for (int64_t t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (int64_t i; (i = next++) < n;) {
        try {
          fn(i);
        } catch (...) {
          std::lock_guard<std::mutex> g(m);
          if (!error) error = std::current_exception();
          next = n;
        }
      }
    });
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

namespace {

void for_each_task(int64_t n, const std::function<void(int64_t)>& fn) { run_tasks(n, fn); }

void fit(Seq2Seq& m, const std::vector<Item>& train, const std::vector<Item>& dev, bool cls, bool gen,
         const NleTrainOptions& o, const std::string& label, Json* log, const std::function<void()>& tick) {
  torch::optim::Adam opt(m->parameters(), torch::optim::AdamOptions(o.lr));
  const size_t bs = static_cast<size_t>(o.batch_size);
  const int64_t batches = static_cast<int64_t>((train.size() + bs - 1) / bs);
  m->seed_dropout(o.seed + std::hash<std::string>()(label) % 1000003);
  std::vector<size_t> order(train.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<size_t> dev_order(dev.size());
  std::iota(dev_order.begin(), dev_order.end(), 0);
  Rng rng(o.seed + 17);
  double best = -1;
  std::vector<at::Tensor> best_params;
  Json epochs = Json::array();
  for (int64_t epoch = 0; epoch < o.epochs; ++epoch) {
    m->train();
    rng.shuffle(order);
    double total = 0;
    for (size_t s = 0; s < train.size(); s += bs) {
      const Batch b = make_batch(train, order, s, std::min(train.size(), s + bs));
      auto memory = m->encode(b.src, b.mask);
      at::Tensor loss = torch::zeros({});
      if (cls) loss = loss + torch::cross_entropy_loss(m->classify(memory, b.mask), b.labels);
      if (gen) {
        auto logits = m->decode(memory, b.mask, b.tgt_in);
        loss = loss + o.explanation_weight * torch::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), b.tgt_out.reshape({-1}), {},
                                                                      at::Reduction::Mean, 0);
      }
      opt.zero_grad();
      loss.backward();
      torch::nn::utils::clip_grad_norm_(m->parameters(), 1.0);
      opt.step();
      total += loss.item<double>();
      if (tick) tick();
    }
    // Dev score.
    m->eval();
    torch::NoGradGuard no_grad;
    int64_t correct = 0, tok_correct = 0, tok_total = 0;
    for (size_t s = 0; s < dev.size(); s += kPredictBatch) {
      const Batch b = make_batch(dev, dev_order, s, std::min(dev.size(), s + kPredictBatch));
      auto memory = m->encode(b.src, b.mask);
      if (cls) correct += m->classify(memory, b.mask).argmax(-1).eq(b.labels).sum().item<int64_t>();
      if (gen) {
        auto pred = m->decode(memory, b.mask, b.tgt_in).argmax(-1);
        auto keep = b.tgt_out.ne(0);
        tok_correct += (pred.eq(b.tgt_out) & keep).sum().item<int64_t>();
        tok_total += keep.sum().item<int64_t>();
      }
    }
    const double acc = dev.empty() ? 0 : static_cast<double>(correct) / dev.size();
    const double tok = tok_total ? static_cast<double>(tok_correct) / tok_total : 0;
    const double score = cls && gen ? (acc + tok) / 2 : cls ? acc : tok;
    Json e = {{"epoch", epoch + 1}, {"train_loss", total / std::max<int64_t>(1, batches)}};
    if (cls) e["dev_accuracy"] = acc;
    if (gen) e["dev_token_accuracy"] = tok;
    epochs.push_back(e);
    if (score > best || dev.empty()) {
      best = score;
      best_params.clear();
      for (const auto& p : m->parameters()) best_params.push_back(p.detach().clone());
    }
  }
  {
    torch::NoGradGuard no_grad;
    auto params = m->parameters();
    for (size_t k = 0; k < params.size() && k < best_params.size(); ++k) params[k].copy_(best_params[k]);
  }
  m->eval();
  if (log) (*log)[label] = {{"epochs", epochs}, {"best_dev_score", best}};
}

Seq2SeqConfig model_config(const NleTrainOptions& o, int64_t vocab, int64_t labels, bool decoder) {
  Seq2SeqConfig c;
  c.vocab_size = vocab;
  c.labels = labels;
  c.model_dim = o.model_dim;
  c.heads = o.heads;
  c.encoder_layers = o.layers;
  c.decoder_layers = decoder ? o.layers : 0;
  c.ff_dim = o.ff_dim;
  c.dropout = o.dropout;
  return c;
}

std::vector<int64_t> encode_explanation(const TokenSpace& sp, const std::vector<std::string>& e, int64_t max_length) {
  auto ids = sp.vocab.encode(e);
  if (static_cast<int64_t>(ids.size()) > max_length) ids.resize(max_length);
  return ids;
}

std::vector<std::string> decode_ids(const TokenSpace& sp, const std::vector<int64_t>& ids) {
  std::vector<std::string> out;
  for (int64_t id : ids)
    if (id < sp.vocab.size() && id != data::Vocab::kPad) out.push_back(sp.vocab.token(id));
  return out;
}

// Runs `model` over `src` rows in batches: class probabilities and/or greedy explanations.
void run_model(Seq2Seq& model, const std::vector<std::vector<int64_t>>& src, bool cls, bool gen, int64_t max_expl,
               std::vector<std::vector<float>>* probs, std::vector<std::vector<int64_t>>* expl) {
  torch::NoGradGuard no_grad;
  model->eval();
  std::vector<size_t> order(src.size());
  std::iota(order.begin(), order.end(), 0);
  if (probs) probs->assign(src.size(), {});
  if (expl) expl->assign(src.size(), {});
  const int64_t batches = static_cast<int64_t>((src.size() + kPredictBatch - 1) / kPredictBatch);
  for_each_task(batches, [&](int64_t batch) {
    torch::NoGradGuard no_grad_here;
    const size_t s = static_cast<size_t>(batch) * kPredictBatch;
    const size_t e = std::min(src.size(), s + kPredictBatch);
    std::vector<const std::vector<int64_t>*> rows;
    for (size_t k = s; k < e; ++k) rows.push_back(&src[k]);
    auto ids = pad_rows(rows, -1, -1);
    auto mask = ids.ne(0);
    auto memory = model->encode(ids, mask);
    if (cls) {
      auto p = torch::softmax(model->classify(memory, mask), -1).contiguous();
      for (size_t k = s; k < e; ++k) {
        auto row = p[static_cast<int64_t>(k - s)];
        (*probs)[k].assign(row.data_ptr<float>(), row.data_ptr<float>() + row.numel());
      }
    }
    if (gen) {
      auto g = model->generate(memory, mask, data::Vocab::kBos, data::Vocab::kEos, max_expl);
      for (size_t k = s; k < e; ++k) (*expl)[k] = std::move(g[k - s]);
    }
  });
}

int64_t argmax(const std::vector<float>& p) { return std::max_element(p.begin(), p.end()) - p.begin(); }

void save_module(Seq2Seq& m, const std::string& path) {
  torch::serialize::OutputArchive archive;
  archive.write("lumen_format", c10::IValue(std::string("lumen-nle-v1")));
  archive.write("lumen_config", c10::IValue(m->config().to_json().dump()));
  for (const auto& p : m->named_parameters()) archive.write(p.key(), p.value(), false);
  std::ostringstream bytes;
  archive.save_to(bytes);
  write_file_atomic(path, bytes.str());
}

Seq2Seq load_module(const std::string& path) {
  if (!path_exists(path)) throw IoError("nle: " + path + " does not exist");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error&) {
    throw ModelError("nle: " + path + " is truncated or is not a Lumen model");
  }
  c10::IValue format, config;
  if (!archive.try_read("lumen_format", format) || !format.isString() || format.toStringRef() != "lumen-nle-v1")
    throw ModelError("nle: " + path + " is not a Lumen explanation model");
  if (!archive.try_read("lumen_config", config) || !config.isString()) throw ModelError("nle: " + path + " has no configuration");
  Seq2Seq m(Seq2SeqConfig::from_json(Json::parse(config.toStringRef())));
  torch::NoGradGuard no_grad;
  for (auto& p : m->named_parameters()) {
    at::Tensor t;
    if (!archive.try_read(p.key(), t) || t.sizes() != p.value().sizes())
      throw ModelError("nle: " + path + " lacks parameter " + p.key() + " (or it has another shape)");
    p.value().copy_(t);
  }
  m->eval();
  return m;
}

}  // namespace

Arrangement parse_arrangement(const std::string& s) {
  if (s == "explain-then-predict") return Arrangement::kExplainThenPredict;
  if (s == "predict-then-explain") return Arrangement::kPredictThenExplain;
  if (s == "joint") return Arrangement::kJoint;
  throw InvalidArgument("nle: unknown arrangement '" + s + "' (choose explain-then-predict, predict-then-explain or joint)");
}

std::string to_string(Arrangement a) {
  switch (a) {
    case Arrangement::kExplainThenPredict: return "explain-then-predict";
    case Arrangement::kPredictThenExplain: return "predict-then-explain";
    case Arrangement::kJoint: return "joint";
  }
  return "?";
}

std::vector<Arrangement> all_arrangements() {
  return {Arrangement::kExplainThenPredict, Arrangement::kPredictThenExplain, Arrangement::kJoint};
}

void NleTrainOptions::validate() const {
  if (arrangements.empty()) throw InvalidArgument("train-nle: name at least one arrangement");
  if (model_dim < 8 || heads < 1 || model_dim % heads) throw InvalidArgument("train-nle: --model-dim must be >= 8 and a multiple of --heads");
  if (layers < 1 || ff_dim < 1) throw InvalidArgument("train-nle: --layers and --ff-dim must be >= 1");
  if (!(dropout >= 0 && dropout < 1)) throw InvalidArgument("train-nle: --dropout must be in [0, 1)");
  if (epochs < 1 || batch_size < 1) throw InvalidArgument("train-nle: --epochs and --batch-size must be >= 1");
  if (!(lr > 0)) throw InvalidArgument("train-nle: --lr must be > 0");
  if (!(explanation_weight > 0)) throw InvalidArgument("train-nle: --explanation-weight must be > 0");
  if (max_input_length < 2 || max_explanation_length < 1) throw InvalidArgument("train-nle: input and explanation lengths must be positive");
  if (min_count < 1) throw InvalidArgument("train-nle: --min-count must be >= 1");
}

Json NleTrainOptions::to_json() const {
  Json arr = Json::array();
  for (auto a : arrangements) arr.push_back(to_string(a));
  return {{"arrangements", arr}, {"model_dim", model_dim}, {"heads", heads}, {"layers", layers}, {"ff_dim", ff_dim},
          {"dropout", dropout}, {"epochs", epochs}, {"batch_size", batch_size}, {"lr", lr},
          {"explanation_weight", explanation_weight}, {"max_input_length", max_input_length},
          {"max_explanation_length", max_explanation_length}, {"min_count", min_count}, {"seed", seed}};
}

NleTrainOptions NleTrainOptions::from_json(const Json& j) {
  NleTrainOptions o;
  o.arrangements.clear();
  for (const auto& a : j.at("arrangements")) o.arrangements.push_back(parse_arrangement(a.get<std::string>()));
  o.model_dim = j.at("model_dim");
  o.heads = j.at("heads");
  o.layers = j.at("layers");
  o.ff_dim = j.at("ff_dim");
  o.dropout = j.at("dropout");
  o.epochs = j.at("epochs");
  o.batch_size = j.at("batch_size");
  o.lr = j.at("lr");
  o.explanation_weight = j.at("explanation_weight");
  o.max_input_length = j.at("max_input_length");
  o.max_explanation_length = j.at("max_explanation_length");
  o.min_count = j.at("min_count");
  o.seed = j.at("seed");
  o.progress = false;
  o.validate();
  return o;
}

NleInput input_of(const data::Example& e) { return {e.tokens, e.tokens_b}; }

std::vector<int64_t> TokenSpace::encode_input(const NleInput& in, int64_t max_length) const {
  std::vector<int64_t> ids = vocab.encode(in.tokens);
  if (!in.tokens_b.empty()) {
    ids.push_back(sep());
    for (int64_t id : vocab.encode(in.tokens_b)) ids.push_back(id);
  }
  if (ids.empty()) ids.push_back(data::Vocab::kUnk);
  if (static_cast<int64_t>(ids.size()) > max_length) ids.resize(max_length);
  return ids;
}

bool NleSystem::has(Arrangement a) const {
  switch (a) {
    case Arrangement::kExplainThenPredict: return static_cast<bool>(etp_generator) && static_cast<bool>(etp_reader);
    case Arrangement::kPredictThenExplain: return static_cast<bool>(classifier) && static_cast<bool>(pte_explainer);
    case Arrangement::kJoint: return static_cast<bool>(joint);
  }
  return false;
}

Seq2Seq train_classifier(const std::vector<ClassifierItem>& train, const std::vector<ClassifierItem>& dev, int64_t vocab_size,
                         int64_t labels, const NleTrainOptions& options, const std::string& label, Json* log) {
  auto to_items = [](const std::vector<ClassifierItem>& v) {
    std::vector<Item> out;
    for (const auto& c : v) out.push_back({c.ids, {}, c.label});
    return out;
  };
  Seq2Seq m(model_config(options, vocab_size, labels, false));
  const auto tr = to_items(train);
  Progress bar("training " + label, steps_of(tr.size(), options), options.progress);
  fit(m, tr, to_items(dev), true, false, options, label, log, [&] { bar.advance(); });
  bar.finish();
  return m;
}

std::vector<std::vector<float>> classify_ids(Seq2Seq& model, const std::vector<std::vector<int64_t>>& ids, int64_t) {
  std::vector<std::vector<float>> probs;
  run_model(model, ids, true, false, 0, &probs, nullptr);
  return probs;
}

NleSystem train_nle_system(const NleDataset& ds, const NleTrainOptions& o, Json* report) {
  o.validate();
  if (ds.train.empty()) throw DataError("train-nle: the training split is empty");
  NleSystem s;
  s.options = o;
  s.label_names = ds.label_names;
  s.data = ds.name;
  std::vector<const std::vector<std::string>*> texts;
  for (const auto& e : ds.train) {
    texts.push_back(&e.example.tokens);
    texts.push_back(&e.example.tokens_b);
    texts.push_back(&e.explanation);
  }
  s.space.vocab = data::Vocab::build(texts, o.min_count);
  s.space.labels = static_cast<int64_t>(ds.label_names.size());
  const int64_t V = s.space.size(), L = s.space.labels;
  auto items = [&](const std::vector<NleExample>& split, int which) {
    std::vector<Item> out;
    for (const auto& e : split) {
      Item it;
      it.label = e.example.label;
      it.src = s.space.encode_input(input_of(e.example), o.max_input_length);
      it.tgt = encode_explanation(s.space, e.explanation, o.max_explanation_length);
      if (which == 1) it.src.insert(it.src.begin(), s.space.label_id(it.label));  // explainer sees the label
      if (which == 2) {                                                            // reader sees the explanation only
        it.src = it.tgt.empty() ? std::vector<int64_t>{data::Vocab::kUnk} : it.tgt;
      }
      out.push_back(std::move(it));
    }
    return out;
  };
  Json log = Json::object();
  torch::manual_seed(o.seed);
  auto wants = [&](Arrangement a) { return std::find(o.arrangements.begin(), o.arrangements.end(), a) != o.arrangements.end(); };
  // The models are independent: built here in a fixed order (their initial weights follow the
  // seed), then trained on parallel threads, each with its own dropout generator.
  struct Job {
    Seq2Seq* model;
    std::vector<Item> train, dev;
    bool cls, gen;
    std::string label;
  };
  std::vector<Job> jobs;
  s.classifier = Seq2Seq(model_config(o, V, L, false));
  jobs.push_back({&s.classifier, items(ds.train, 0), items(ds.dev, 0), true, false, "classifier"});
  if (wants(Arrangement::kPredictThenExplain)) {
    s.pte_explainer = Seq2Seq(model_config(o, V, 0, true));
    jobs.push_back({&s.pte_explainer, items(ds.train, 1), items(ds.dev, 1), false, true, "pte_explainer"});
  }
  if (wants(Arrangement::kExplainThenPredict)) {
    s.etp_generator = Seq2Seq(model_config(o, V, 0, true));
    jobs.push_back({&s.etp_generator, items(ds.train, 0), items(ds.dev, 0), false, true, "etp_generator"});
    s.etp_reader = Seq2Seq(model_config(o, V, L, false));
    jobs.push_back({&s.etp_reader, items(ds.train, 2), items(ds.dev, 2), true, false, "etp_reader"});
  }
  if (wants(Arrangement::kJoint)) {
    s.joint = Seq2Seq(model_config(o, V, L, true));
    jobs.push_back({&s.joint, items(ds.train, 0), items(ds.dev, 0), true, true, "joint"});
  }
  // Largest first, so that the last job to start is a short one.
  std::stable_sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return (a.gen + 1) * a.train.size() > (b.gen + 1) * b.train.size(); });
  int64_t total = 0;
  for (const auto& j : jobs) total += steps_of(j.train.size(), o);
  Progress bar("training " + std::to_string(jobs.size()) + " models", total, o.progress);
  std::mutex bar_mutex;
  std::vector<Json> logs(jobs.size(), Json::object());
  for_each_task(static_cast<int64_t>(jobs.size()), [&](int64_t k) {
    auto& j = jobs[k];
    fit(*j.model, j.train, j.dev, j.cls, j.gen, o, j.label, &logs[k], [&] {
      std::lock_guard<std::mutex> g(bar_mutex);
      bar.advance();
    });
  });
  bar.finish();
  for (auto& l : logs)
    for (auto& [k, v] : l.items()) log[k] = v;
  if (report) *report = log;
  return s;
}

std::vector<NleOutput> read_explanations(NleSystem& s, const std::vector<std::vector<std::string>>& explanations) {
  if (!s.etp_reader) throw ModelError("nle: this system has no explain-then-predict reader");
  std::vector<std::vector<int64_t>> src;
  for (const auto& e : explanations) {
    auto ids = encode_explanation(s.space, e, s.options.max_explanation_length);
    if (ids.empty()) ids.push_back(data::Vocab::kUnk);
    src.push_back(std::move(ids));
  }
  std::vector<std::vector<float>> probs;
  run_model(s.etp_reader, src, true, false, 0, &probs, nullptr);
  std::vector<NleOutput> out(src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    out[i].probs = probs[i];
    out[i].label = argmax(probs[i]);
    out[i].explanation = explanations[i];
  }
  return out;
}

std::vector<NleOutput> nle_predict(NleSystem& s, Arrangement a, const std::vector<NleInput>& inputs) {
  if (!s.has(a)) throw InvalidArgument("nle: this system was not trained in the " + to_string(a) + " arrangement");
  const auto& o = s.options;
  std::vector<std::vector<int64_t>> src;
  for (const auto& in : inputs) src.push_back(s.space.encode_input(in, o.max_input_length));
  std::vector<NleOutput> out(inputs.size());
  std::vector<std::vector<float>> probs;
  std::vector<std::vector<int64_t>> expl;
  if (a == Arrangement::kJoint) {
    run_model(s.joint, src, true, true, o.max_explanation_length, &probs, &expl);
  } else if (a == Arrangement::kPredictThenExplain) {
    run_model(s.classifier, src, true, false, 0, &probs, nullptr);
    auto conditioned = src;
    for (size_t i = 0; i < src.size(); ++i) conditioned[i].insert(conditioned[i].begin(), s.space.label_id(argmax(probs[i])));
    run_model(s.pte_explainer, conditioned, false, true, o.max_explanation_length, nullptr, &expl);
  } else {
    run_model(s.etp_generator, src, false, true, o.max_explanation_length, nullptr, &expl);
    std::vector<std::vector<std::string>> words;
    for (const auto& e : expl) words.push_back(decode_ids(s.space, e));
    auto read = read_explanations(s, words);
    for (size_t i = 0; i < read.size(); ++i) probs.push_back(read[i].probs);
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    out[i].probs = probs[i];
    out[i].label = argmax(probs[i]);
    out[i].explanation = decode_ids(s.space, expl[i]);
  }
  return out;
}

void save_nle_system(const NleSystem& s, const std::string& dir, const Json& report) {
  make_dirs(dir);
  s.space.vocab.save(join_path(dir, "vocab.txt"));
  Json models = Json::object();
  auto save = [&](Seq2Seq m, const char* name) {
    if (!m) return;
    save_module(m, join_path(dir, std::string(name) + ".pt"));
    models[name] = m->config().to_json();
  };
  save(s.classifier, "classifier");
  save(s.pte_explainer, "pte_explainer");
  save(s.etp_generator, "etp_generator");
  save(s.etp_reader, "etp_reader");
  save(s.joint, "joint");
  write_json_file(join_path(dir, "config.json"), {{"format", "lumen-nle-system-v1"},
                                                  {"data", s.data},
                                                  {"label_names", s.label_names},
                                                  {"options", s.options.to_json()},
                                                  {"models", models},
                                                  {"report", report}});
}

NleSystem load_nle_system(const std::string& dir) {
  const std::string cfg_path = join_path(dir, "config.json");
  if (!path_exists(cfg_path)) throw IoError("nle: " + dir + " is not an explanation-model directory (no config.json; train one with lumen train-nle)");
  const Json cfg = read_json_file(cfg_path);
  if (cfg.value("format", "") != "lumen-nle-system-v1") throw ModelError("nle: " + cfg_path + " is not a lumen train-nle configuration");
  NleSystem s;
  try {
    s.label_names = cfg.at("label_names").get<std::vector<std::string>>();
    s.options = NleTrainOptions::from_json(cfg.at("options"));
    s.data = cfg.value("data", "");
  } catch (const Json::exception& e) {
    throw ModelError("nle: " + cfg_path + ": " + e.what());
  }
  s.space.vocab = data::Vocab::load(join_path(dir, "vocab.txt"));
  s.space.labels = static_cast<int64_t>(s.label_names.size());
  const Json& models = cfg.at("models");
  auto load = [&](const char* name) -> Seq2Seq {
    if (!models.contains(name)) return Seq2Seq(nullptr);
    Seq2Seq m = load_module(join_path(dir, std::string(name) + ".pt"));
    if (m->config().vocab_size != s.space.size())
      throw ModelError("nle: " + dir + "/" + name + ".pt has " + std::to_string(m->config().vocab_size) +
                       " token rows but the vocabulary gives " + std::to_string(s.space.size()));
    return m;
  };
  s.classifier = load("classifier");
  s.pte_explainer = load("pte_explainer");
  s.etp_generator = load("etp_generator");
  s.etp_reader = load("etp_reader");
  s.joint = load("joint");
  if (!s.classifier) throw ModelError("nle: " + dir + " has no classifier.pt");
  return s;
}

}  // namespace lumen::nle
