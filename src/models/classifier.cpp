#include "models/classifier.h"

#include <torch/torch.h>

#include "core/error.h"
#include "models/lstm_kernel.h"

namespace lumen::models {

namespace {
thread_local int differentiable_depth = 0;
}  // namespace

DifferentiableMode::DifferentiableMode() { ++differentiable_depth; }
DifferentiableMode::~DifferentiableMode() { --differentiable_depth; }
bool DifferentiableMode::on() { return differentiable_depth > 0; }

namespace {
thread_local TapRecorder* active_recorder = nullptr;
}  // namespace

TapRecorder::TapRecorder(Mode mode) : previous_(active_recorder) {
  if (mode == Mode::kPlain) differentiable_.emplace();
  active_recorder = this;
}
TapRecorder::~TapRecorder() { active_recorder = previous_; }
TapRecorder* TapRecorder::active() { return active_recorder; }

void TapRecorder::record(const std::string& layer, const at::Tensor& input, const at::Tensor& output, const at::Tensor& valid,
                         bool bias) {
  LinearTap t;
  t.layer = prefix_.empty() ? layer : prefix_ + "." + layer;
  const bool flat = input.dim() == 2;
  t.input = (flat ? input.unsqueeze(1) : input).detach();
  t.output = output;  // as computed: a view made here would not be in the graph
  t.valid = valid.defined() ? (valid.dim() == 1 ? valid.unsqueeze(1) : valid).to(input.scalar_type())
                            : torch::ones({t.input.size(0), t.input.size(1)}, input.options());
  t.bias = bias;
  taps.push_back(std::move(t));
}

TapRecorder::Scope::Scope(const std::string& prefix) : recorder_(active_recorder) {
  if (recorder_) {
    previous_ = recorder_->prefix_;
    recorder_->prefix_ = prefix;
  }
}
TapRecorder::Scope::~Scope() {
  if (recorder_) recorder_->prefix_ = previous_;
}

TextClassifierImpl::TextClassifierImpl(ModelConfig config) : config_(std::move(config)) {
  config_.validate();
  const int64_t m = config_.output_dim();
  embedding = register_module("embedding", torch::nn::Embedding(config_.vocab_size, config_.embed_dim));
  encoder_ = register_module("encoder", make_encoder(config_));
  if (config_.pair) encoder_b_ = register_module("encoder_b", make_encoder(config_));
  if (config_.pooling == "attention")
    attention_ = register_module("attention", TokenAttention(config_.attention, m, config_.pair));
  if (config_.pair) {
    out_p_ = register_module("out_p", torch::nn::Linear(m, m));
    out_q_ = register_module("out_q", torch::nn::Linear(torch::nn::LinearOptions(m, m).bias(false)));
    out_ = register_module("out", torch::nn::Linear(m, config_.num_classes));
  } else {
    out_ = register_module("out", torch::nn::Linear(m, config_.num_classes == 2 ? 1 : config_.num_classes));
  }
}

at::Tensor TextClassifierImpl::embed(const at::Tensor& ids) { return embedding->forward(ids); }

ModelOutput TextClassifierImpl::forward(const data::Batch& batch, const ForwardOptions& options) {
  return forward_from_embeddings(embed(batch.ids), batch, options);
}

ModelOutput TextClassifierImpl::forward_training(const data::Batch& batch, const ForwardOptions& options) {
  auto* lstm = dynamic_cast<LstmEncoderImpl*>(encoder_.get());
  if (lstm == nullptr || !lstm->fused() || config_.pair != batch.pair() || DifferentiableMode::on())
    return forward(batch, options);
  Encoded enc;
  enc.states = lstm->encode_ids(embedding->weight, batch.ids, batch.lengths).states;
  if (config_.pair)
    enc.query = static_cast<LstmEncoderImpl*>(encoder_b_.get())->encode_ids(embedding->weight, batch.ids_b, batch.lengths_b).final;
  return decode(enc, batch, options);
}

ModelOutput TextClassifierImpl::forward_from_embeddings(const at::Tensor& embeddings, const data::Batch& batch,
                                                        const ForwardOptions& options, const at::Tensor& embeddings_b) {
  return decode(encode(embeddings, batch, options, embeddings_b), batch, options);
}

Encoded TextClassifierImpl::encode(const at::Tensor& embeddings, const data::Batch& batch, const ForwardOptions& options,
                                   const at::Tensor& embeddings_b) {
  if (config_.pair != batch.pair())
    throw InvalidArgument(std::string("model: this model takes ") + (config_.pair ? "text pairs" : "single texts") +
                          ", the batch has " + (batch.pair() ? "pairs" : "single texts"));
  if (embeddings.dim() != 3 || embeddings.size(0) != batch.size() || embeddings.size(1) != batch.ids.size(1) ||
      embeddings.size(2) != config_.embed_dim)
    throw InvalidArgument("model: embeddings must be [B, T, E] matching the batch");
  Encoded enc;
  enc.embeddings = embeddings;
  EncoderOutput eo = [&] {
    TapRecorder::Scope scope("encoder");
    return encoder_->encode(embeddings, batch.mask, batch.lengths, options);
  }();
  enc.states = eo.states;
  enc.self_attentions = std::move(eo.attentions);
  enc.value_maps = std::move(eo.value_maps);
  if (config_.pair) {
    enc.embeddings_b = embeddings_b.defined() ? embeddings_b : embed(batch.ids_b);
    TapRecorder::Scope scope("encoder_b");
    enc.query = encoder_b_->encode(enc.embeddings_b, batch.mask_b, batch.lengths_b, {}).final;
  }
  return enc;
}

at::Tensor TextClassifierImpl::decoder(const at::Tensor& context, const at::Tensor& query) {
  TapRecorder::Scope scope("decoder");
  if (config_.pair) {
    const at::Tensor p = out_p_->forward(context), q = out_q_->forward(query), hidden = torch::tanh(p + q);
    const at::Tensor logits = out_->forward(hidden);
    record_linear("out_p", context, p, {}, true);
    record_linear("out_q", query, q, {}, false);
    record_linear("out", hidden, logits, {}, true);
    return logits;
  }
  at::Tensor z = out_->forward(context);
  record_linear("out", context, z, {}, true);
  if (config_.num_classes == 2) return torch::cat({torch::zeros_like(z), z}, 1);  // softmax([0, z]) = sigmoid(z)
  return z;
}

at::Tensor TextClassifierImpl::decoder_with(const std::vector<at::Tensor>& p, const at::Tensor& context,
                                            const at::Tensor& query) const {
  namespace F = torch::nn::functional;
  if (config_.pair) {
    if (p.size() != 5) throw InvalidArgument("model: decoder_with needs the 5 decoder parameters of a pair model");
    return F::linear(torch::tanh(F::linear(context, p[0], p[1]) + F::linear(query, p[2])), p[3], p[4]);
  }
  if (p.size() != 2) throw InvalidArgument("model: decoder_with needs the decoder's weight and bias");
  at::Tensor z = F::linear(context, p[0], p[1]);
  if (config_.num_classes == 2) return torch::cat({torch::zeros_like(z), z}, 1);
  return z;
}

ModelOutput TextClassifierImpl::decode(const Encoded& enc, const data::Batch& batch, const ForwardOptions& options) {
  ModelOutput out;
  out.embeddings = enc.embeddings;
  out.embeddings_b = enc.embeddings_b;
  out.states = enc.states;
  out.attentions = enc.self_attentions;
  at::Tensor context;
  if (config_.pooling == "cls") {
    context = enc.states.select(1, 0);
  } else {
    at::Tensor w = TokenAttentionImpl::normalize([&] {
      TapRecorder::Scope scope("attention");
      return attention_->scores(enc.states, enc.query, batch.mask);
    }(), batch.token_mask,
                                                 !options.ignore_padding_mask);
    if (options.detach_attention) w = w.detach();
    w = apply_interventions(w, options, -1);
    out.pooling_attention = w;
    out.attentions.push_back(w.unsqueeze(1).unsqueeze(1));
    context = (w.unsqueeze(2) * enc.states).sum(1);  // [B, m]; cheaper than B tiny products
  }
  out.context = context;
  out.query = enc.query;
  out.logits = decoder(context, enc.query);
  return out;
}

at::Tensor TextClassifierImpl::second_text_query(const data::Batch& batch) {
  if (!config_.pair || !batch.pair()) throw InvalidArgument("model: second_text_query needs a pair model and a pair batch");
  return encoder_b_->encode(embed(batch.ids_b), batch.mask_b, batch.lengths_b, {}).final;
}

at::Tensor TextClassifierImpl::attention_scores(const Encoded& enc) {
  if (!attention_) throw InvalidArgument("model: this model has no pooling attention (pooling=cls)");
  return attention_->scores(enc.states, enc.query);
}

int64_t TextClassifierImpl::self_attention_layers() const {
  return config_.encoder_kind() == EncoderKind::kTransformer ? config_.layers : 0;
}

int64_t TextClassifierImpl::self_attention_heads() const { return self_attention_layers() > 0 ? config_.heads : 0; }

const LstmEncoderImpl* TextClassifierImpl::fused_lstm() const {
  const auto* lstm = dynamic_cast<const LstmEncoderImpl*>(encoder_.get());
  return lstm != nullptr && lstm->fused() ? lstm : nullptr;
}

std::vector<at::Tensor> TextClassifierImpl::parameters_of(ParameterGroup group) {
  switch (group) {
    case ParameterGroup::kDecoder: {
      std::vector<at::Tensor> out;
      for (const auto& layer : {out_p_, out_q_, out_})  // registration order
        if (layer)
          for (auto& p : layer->parameters()) out.push_back(p);
      return out;
    }
    case ParameterGroup::kAttention: return attention_parameters();
    case ParameterGroup::kEncoder: {
      std::vector<at::Tensor> out = encoder_->parameters();
      if (encoder_b_)
        for (auto& p : encoder_b_->parameters()) out.push_back(p);
      return out;
    }
    case ParameterGroup::kEmbedding: return embedding->parameters();
  }
  return {};
}

std::vector<LinearLayer> TextClassifierImpl::linear_layers() {
  std::vector<LinearLayer> out;
  auto add = [&](const std::string& prefix, std::vector<LinearLayer> layers) {
    for (auto& l : layers) {
      l.name = prefix + "." + l.name;
      out.push_back(std::move(l));
    }
  };
  add("encoder", encoder_->linear_layers());
  if (encoder_b_) add("encoder_b", encoder_b_->linear_layers());
  if (attention_) add("attention", attention_->linear_layers());
  auto linear = [](const std::string& name, torch::nn::Linear& l) {
    LinearLayer x{name, l->weight, {}, 0, l->weight.size(0)};
    if (l->bias.defined()) x.biases.push_back(l->bias);
    return x;
  };
  if (config_.pair) add("decoder", {linear("out_p", out_p_), linear("out_q", out_q_), linear("out", out_)});
  else add("decoder", {linear("out", out_)});
  return out;
}

std::vector<at::Tensor> TextClassifierImpl::attention_parameters() {
  return attention_ ? attention_->parameters() : std::vector<at::Tensor>{};
}

std::vector<at::Tensor> TextClassifierImpl::other_parameters() {
  std::vector<at::Tensor> att = attention_parameters(), out;
  for (auto& p : parameters()) {
    bool is_att = false;
    for (auto& a : att) is_att |= a.is_same(p);
    if (!is_att) out.push_back(p);
  }
  return out;
}

}  // namespace lumen::models
