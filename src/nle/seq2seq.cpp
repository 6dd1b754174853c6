#include "nle/seq2seq.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"

namespace lumen::nle {

void Seq2SeqConfig::validate() const {
  if (vocab_size < 5) throw InvalidArgument("seq2seq: vocab_size must be >= 5");
  if (labels < 0) throw InvalidArgument("seq2seq: labels must be >= 0");
  if (model_dim < 8 || heads < 1 || model_dim % heads != 0)
    throw InvalidArgument("seq2seq: model_dim must be >= 8 and a multiple of heads");
  if (encoder_layers < 1 || decoder_layers < 0) throw InvalidArgument("seq2seq: encoder_layers >= 1 and decoder_layers >= 0");
  if (ff_dim < 1) throw InvalidArgument("seq2seq: ff_dim must be >= 1");
  if (!(dropout >= 0 && dropout < 1)) throw InvalidArgument("seq2seq: dropout must be in [0, 1)");
  if (relative_positions < 0) throw InvalidArgument("seq2seq: relative_positions must be >= 0");
}

Json Seq2SeqConfig::to_json() const {
  return {{"vocab_size", vocab_size}, {"labels", labels},         {"model_dim", model_dim}, {"heads", heads},
          {"encoder_layers", encoder_layers}, {"decoder_layers", decoder_layers}, {"ff_dim", ff_dim}, {"dropout", dropout},
          {"relative_positions", relative_positions}};
}

Seq2SeqConfig Seq2SeqConfig::from_json(const Json& j) {
  Seq2SeqConfig c;
  c.vocab_size = j.at("vocab_size").get<int64_t>();
  c.labels = j.at("labels").get<int64_t>();
  c.model_dim = j.at("model_dim").get<int64_t>();
  c.heads = j.at("heads").get<int64_t>();
  c.encoder_layers = j.at("encoder_layers").get<int64_t>();
  c.decoder_layers = j.at("decoder_layers").get<int64_t>();
  c.ff_dim = j.at("ff_dim").get<int64_t>();
  c.dropout = j.at("dropout").get<double>();
  c.relative_positions = j.value("relative_positions", int64_t{0});
  c.validate();
  return c;
}

Seq2SeqImpl::Attention Seq2SeqImpl::make_attention(const std::string& name) {
  const int64_t d = config_.model_dim;
  Attention a;
  a.q = register_module(name + "_q", torch::nn::Linear(d, d));
  a.kv = register_module(name + "_kv", torch::nn::Linear(d, 2 * d));
  a.out = register_module(name + "_out", torch::nn::Linear(d, d));
  return a;
}

Seq2SeqImpl::Block Seq2SeqImpl::make_block(const std::string& name, bool cross) {
  const int64_t d = config_.model_dim;
  Block b;
  b.ln_self = register_module(name + "_ln_self", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  b.self = make_attention(name + "_self");
  if (cross) {
    b.ln_cross = register_module(name + "_ln_cross", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    b.cross = make_attention(name + "_cross");
  }
  b.ln_ff = register_module(name + "_ln_ff", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  b.ff1 = register_module(name + "_ff1", torch::nn::Linear(d, config_.ff_dim));
  b.ff2 = register_module(name + "_ff2", torch::nn::Linear(config_.ff_dim, d));
  return b;
}

Seq2SeqImpl::Seq2SeqImpl(Seq2SeqConfig config) : config_(config), generator_(at::make_generator<at::CPUGeneratorImpl>(0)) {
  config_.validate();
  const int64_t d = config_.model_dim;
  embedding_ = register_module("embedding", torch::nn::Embedding(torch::nn::EmbeddingOptions(config_.vocab_size, d).padding_idx(0)));
  {
    torch::NoGradGuard g;
    embedding_->weight.normal_(0, std::pow(static_cast<double>(d), -0.5));
    embedding_->weight[0].zero_();
  }
  for (int64_t l = 0; l < config_.encoder_layers; ++l) encoder_.push_back(make_block("enc" + std::to_string(l), false));
  for (int64_t l = 0; l < config_.decoder_layers; ++l) decoder_.push_back(make_block("dec" + std::to_string(l), true));
  encoder_ln_ = register_module("encoder_ln", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  if (config_.decoder_layers > 0) decoder_ln_ = register_module("decoder_ln", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  if (config_.labels > 0) head_ = register_module("head", torch::nn::Linear(d, config_.labels));
  if (config_.relative_positions > 0) {
    encoder_bias_ = register_parameter("encoder_relative_bias", torch::zeros({config_.heads, 2 * config_.relative_positions + 1}));
    if (config_.decoder_layers > 0)
      decoder_bias_ = register_parameter("decoder_relative_bias", torch::zeros({config_.heads, 2 * config_.relative_positions + 1}));
  }
}

void Seq2SeqImpl::seed_dropout(uint64_t seed) { generator_ = at::make_generator<at::CPUGeneratorImpl>(seed); }

at::Tensor Seq2SeqImpl::drop(const at::Tensor& x) {
  if (!is_training() || config_.dropout <= 0) return x;
  const double keep = 1.0 - config_.dropout;
  auto mask = at::empty_like(x).bernoulli_(keep, generator_);
  return x * mask / keep;
}

at::Tensor Seq2SeqImpl::embed(const at::Tensor& ids) {
  const int64_t d = config_.model_dim, t = ids.size(1);
  auto pos = torch::arange(t, torch::kFloat).unsqueeze(1);
  auto freq = torch::exp(torch::arange(0, d, 2, torch::kFloat) * (-std::log(10000.0) / d));
  auto pe = torch::zeros({t, d});
  pe.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 2)}, torch::sin(pos * freq));
  pe.index_put_({torch::indexing::Slice(), torch::indexing::Slice(1, torch::indexing::None, 2)}, torch::cos(pos * freq));
  auto x = embedding_(ids) * std::sqrt(static_cast<double>(d)) + pe.unsqueeze(0);
  return drop(x);
}

at::Tensor Seq2SeqImpl::attend(Attention& a, const at::Tensor& x, const at::Tensor& kv_in, const at::Tensor& key_mask,
                               bool causal, const at::Tensor& relative_bias) {
  const int64_t b = x.size(0), t = x.size(1), s = kv_in.size(1), h = config_.heads, dh = config_.model_dim / h;
  auto q = a.q(x).view({b, t, h, dh}).transpose(1, 2);
  auto kv = a.kv(kv_in).view({b, s, 2, h, dh}).permute({2, 0, 3, 1, 4});
  auto scores = torch::matmul(q, kv[0].transpose(-2, -1)) / std::sqrt(static_cast<double>(dh));  // [B, h, t, s]
  if (relative_bias.defined()) {
    const int64_t r = config_.relative_positions;
    auto dist = (torch::arange(s, torch::kLong).unsqueeze(0) - torch::arange(t, torch::kLong).unsqueeze(1)).clamp(-r, r) + r;
    scores = scores + relative_bias.index_select(1, dist.reshape({-1})).view({1, h, t, s});
  }
  auto allowed = key_mask.view({b, 1, 1, s});
  if (causal) allowed = allowed & torch::ones({t, s}, torch::kBool).tril().view({1, 1, t, s});
  scores = scores.masked_fill(allowed.logical_not(), -1e9);
  auto w = drop(torch::softmax(scores, -1));
  auto ctx = torch::matmul(w, kv[1]).transpose(1, 2).reshape({b, t, config_.model_dim});
  return a.out(ctx);
}

at::Tensor Seq2SeqImpl::encode(const at::Tensor& ids, const at::Tensor& mask) {
  auto x = embed(ids);
  for (auto& blk : encoder_) {
    auto y = blk.ln_self(x);
    x = x + drop(attend(blk.self, y, y, mask, false, encoder_bias_));
    x = x + drop(blk.ff2(torch::relu(blk.ff1(blk.ln_ff(x)))));
  }
  return encoder_ln_(x);
}

at::Tensor Seq2SeqImpl::classify(const at::Tensor& memory, const at::Tensor& mask) {
  if (!head_) throw ModelError("seq2seq: this model has no classification head");
  auto m = mask.unsqueeze(-1).to(memory.scalar_type());
  auto pooled = (memory * m).sum(1) / m.sum(1).clamp_min(1.0);
  return head_(pooled);
}

at::Tensor Seq2SeqImpl::decode(const at::Tensor& memory, const at::Tensor& mask, const at::Tensor& target_in) {
  if (decoder_.empty()) throw ModelError("seq2seq: this model has no decoder");
  auto x = embed(target_in);
  auto self_mask = target_in.ne(0);
  for (auto& blk : decoder_) {
    auto y = blk.ln_self(x);
    x = x + drop(attend(blk.self, y, y, self_mask, true, decoder_bias_));
    x = x + drop(attend(blk.cross, blk.ln_cross(x), memory, mask, false));
    x = x + drop(blk.ff2(torch::relu(blk.ff1(blk.ln_ff(x)))));
  }
  return torch::matmul(decoder_ln_(x), embedding_->weight.t());
}

std::vector<std::vector<int64_t>> Seq2SeqImpl::generate(const at::Tensor& memory, const at::Tensor& mask, int64_t bos,
                                                        int64_t eos, int64_t max_length) {
  torch::NoGradGuard no_grad;
  const int64_t b = memory.size(0);
  auto seq = torch::full({b, 1}, bos, torch::kLong);
  std::vector<std::vector<int64_t>> out(b);
  std::vector<bool> done(b, false);
  int64_t remaining = b;
  for (int64_t step = 0; step < max_length && remaining > 0; ++step) {
    auto logits = decode(memory, mask, seq).select(1, seq.size(1) - 1);
    logits.select(1, 0).fill_(-1e9);  // never padding
    auto next = logits.argmax(-1);
    auto acc = next.accessor<int64_t, 1>();
    for (int64_t i = 0; i < b; ++i) {
      if (done[i]) continue;
      if (acc[i] == eos) {
        done[i] = true;
        --remaining;
      } else {
        out[i].push_back(acc[i]);
      }
    }
    seq = torch::cat({seq, next.unsqueeze(1)}, 1);
  }
  return out;
}

}  // namespace lumen::nle
