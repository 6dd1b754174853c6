#include "train/editor_trainer.h"

#include <torch/torch.h>

#include <chrono>
#include <array>
#include <cmath>

#include "core/error.h"
#include "core/progress.h"
#include "core/rng.h"

namespace lumen::train {

void EditorTrainOptions::validate() const {
  if (epochs < 1) throw InvalidArgument("train-editor: epochs must be at least 1");
  if (batch_size < 1) throw InvalidArgument("train-editor: batch_size must be at least 1");
  if (!(lr > 0)) throw InvalidArgument("train-editor: lr must be positive");
  if (!(min_mask > 0 && min_mask <= max_mask && max_mask < 1))
    throw InvalidArgument("train-editor: need 0 < min_mask <= max_mask < 1");
}

Json EditorTrainOptions::to_json() const {
  return {{"epochs", epochs},     {"batch_size", batch_size}, {"lr", lr}, {"min_mask", min_mask},
          {"max_mask", max_mask}, {"label_conditioned", label_conditioned}, {"seed", seed}};
}

namespace {

struct MaskedBatch {
  at::Tensor ids, lengths, labels, positions, targets;  // positions: flat indices b * T + t
};

MaskedBatch make_masked(const std::vector<const data::Example*>& ex, const data::Vocab& vocab,
                        const models::MaskedLmConfig& c, const EditorTrainOptions& o, Rng& rng) {
  const int64_t B = static_cast<int64_t>(ex.size()), room = c.max_length - 2;
  std::vector<std::vector<int64_t>> seqs(B);
  int64_t T = 0;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<int64_t> ids = vocab.encode(ex[b]->tokens);
    if (static_cast<int64_t>(ids.size()) > room) {
      const int64_t start = static_cast<int64_t>(rng.uniform_int(ids.size() - room + 1));
      ids = std::vector<int64_t>(ids.begin() + start, ids.begin() + start + room);
    }
    seqs[b] = std::move(ids);
    T = std::max<int64_t>(T, static_cast<int64_t>(seqs[b].size()) + 2);
  }
  MaskedBatch m;
  m.ids = torch::zeros({B, T}, torch::kInt64);
  m.lengths = torch::empty({B}, torch::kInt64);
  m.labels = torch::full({B}, -1, torch::kInt64);
  std::vector<int64_t> pos, tgt;
  auto ip = m.ids.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& s = seqs[b];
    const int64_t n = static_cast<int64_t>(s.size());
    ip[b][0] = data::Vocab::kBos;
    for (int64_t t = 0; t < n; ++t) ip[b][t + 1] = s[t];
    ip[b][n + 1] = data::Vocab::kEos;
    m.lengths[b] = n + 2;
    if (o.label_conditioned && rng.uniform() < 0.9) m.labels[b] = ex[b]->label;
    const double f = o.min_mask + (o.max_mask - o.min_mask) * rng.uniform();
    const int64_t k = std::max<int64_t>(1, static_cast<int64_t>(std::llround(f * n)));
    std::vector<int64_t> order(n);
    for (int64_t t = 0; t < n; ++t) order[t] = t;
    rng.shuffle(order);
    for (int64_t i = 0; i < k && i < n; ++i) {
      const int64_t t = order[i] + 1;
      pos.push_back(b * T + t);
      tgt.push_back(ip[b][t]);
      const double u = rng.uniform();
      if (u < 0.8) ip[b][t] = c.mask_id();
      else if (u < 0.9) ip[b][t] = 4 + static_cast<int64_t>(rng.uniform_int(c.vocab_size - 4));
    }
  }
  m.positions = torch::tensor(pos, torch::kInt64);
  m.targets = torch::tensor(tgt, torch::kInt64);
  return m;
}

std::array<double, 2> loss_and_accuracy(models::MaskedLm& model, const MaskedBatch& m, bool grad) {
  const at::Tensor h = model->hidden(m.ids, m.lengths, m.labels);
  const at::Tensor rows = h.reshape({-1, h.size(2)}).index_select(0, m.positions);
  const at::Tensor logits = model->logits(rows);
  const at::Tensor loss = torch::nn::functional::cross_entropy(logits, m.targets);
  if (grad) loss.backward();
  const double acc = (logits.argmax(1) == m.targets).to(torch::kDouble).mean().item<double>();
  return {loss.item<double>(), acc};
}

}  // namespace

Json train_editor(models::MaskedLm& model, const std::vector<data::Example>& train, const std::vector<data::Example>& dev,
                  const data::Vocab& vocab, const EditorTrainOptions& o) {
  o.validate();
  if (train.empty()) throw DataError("train-editor: no training texts");
  const auto& c = model->config();
  torch::manual_seed(o.seed);
  Rng rng(o.seed + 1);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(o.lr));
  std::vector<const data::Example*> items;
  for (const auto& e : train)
    if (!e.tokens.empty()) items.push_back(&e);
  Json epochs = Json::array();
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
    model->train();
    rng.shuffle(items);
    Progress bar("editor epoch " + std::to_string(epoch), static_cast<int64_t>(items.size()), o.progress);
    double total = 0;
    int64_t batches = 0;
    for (size_t i = 0; i < items.size(); i += o.batch_size) {
      const std::vector<const data::Example*> b(items.begin() + i,
                                                items.begin() + std::min(items.size(), i + static_cast<size_t>(o.batch_size)));
      opt.zero_grad();
      total += loss_and_accuracy(model, make_masked(b, vocab, c, o, rng), true)[0];
      opt.step();
      ++batches;
      bar.advance(static_cast<int64_t>(b.size()));
    }
    bar.finish();
    model->eval();
    torch::NoGradGuard no_grad;
    Rng dev_rng(o.seed + 99);  // the same masks every epoch
    double dl = 0, da = 0;
    int64_t db = 0;
    std::vector<const data::Example*> dv;
    for (const auto& e : dev)
      if (!e.tokens.empty()) dv.push_back(&e);
    for (size_t i = 0; i < dv.size(); i += o.batch_size) {
      const std::vector<const data::Example*> b(dv.begin() + i,
                                                dv.begin() + std::min(dv.size(), i + static_cast<size_t>(o.batch_size)));
      const auto r = loss_and_accuracy(model, make_masked(b, vocab, c, o, dev_rng), false);
      dl += r[0];
      da += r[1];
      ++db;
    }
    epochs.push_back({{"epoch", epoch},
                      {"train_loss", total / std::max<int64_t>(batches, 1)},
                      {"dev_loss", db ? Json(dl / db) : Json(nullptr)},
                      {"dev_masked_accuracy", db ? Json(da / db) : Json(nullptr)}});
  }
  return {{"epochs", epochs},
          {"options", o.to_json()},
          {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()},
          {"texts", items.size()}};
}

}  // namespace lumen::train
