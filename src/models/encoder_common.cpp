#include <torch/torch.h>

#include "core/error.h"
#include "models/encoders.h"
#include "models/lstm_kernel.h"
#include "models/parallel_linear.h"

namespace lumen::models {

std::shared_ptr<EncoderImpl> make_encoder(const ModelConfig& c) {
  const EncoderKind kind = c.encoder_kind();
  if (kind == EncoderKind::kLstm) return std::make_shared<LstmEncoderImpl>(c.embed_dim, c.hidden, c.lstm_impl == "fused");
  if (kind == EncoderKind::kOrthoLstm) return std::make_shared<OrthoLstmEncoderImpl>(c.embed_dim, c.hidden);
  if (kind == EncoderKind::kCnn) return std::make_shared<CnnEncoderImpl>(c.embed_dim, c.cnn_filters, c.cnn_kernels);
  if (kind == EncoderKind::kAverage) return std::make_shared<AverageEncoderImpl>(c.embed_dim, c.hidden);
  if (kind == EncoderKind::kTransformer)
    return std::make_shared<TransformerEncoderImpl>(c.embed_dim, c.model_dim, c.layers, c.heads, c.ff_dim);
  throw InvalidArgument("model: unknown encoder '" + c.encoder + "'");
}

at::Tensor apply_interventions(const at::Tensor& w, const ForwardOptions& options, int64_t layer) {
  at::Tensor out = w;
  for (const auto& iv : options.interventions) {
    if (iv.layer != layer) continue;
    if (!iv.weights.defined()) throw InvalidArgument("attention intervention: weights must be defined");
    at::Tensor v = iv.weights.to(w.scalar_type());
    if (v.dim() < w.dim() && w.dim() == 2 && v.dim() == 4) v = v.squeeze(1).squeeze(1);
    if (w.dim() == 2 && v.dim() == 4) v = v.flatten(1);
    if (iv.mode == AttentionIntervention::Mode::kReplace) {
      out = v.expand_as(out);
    } else {
      out = out * v;
    }
  }
  if (options.edit) out = options.edit(out, layer);
  return out;
}

at::Tensor masked_mean(const at::Tensor& x, const at::Tensor& mask) {
  at::Tensor m = mask.to(x.scalar_type()).unsqueeze(2);  // [B, T, 1]
  return (x * m).sum(1) / m.sum(1).clamp_min(1);
}

LstmEncoderImpl::LstmEncoderImpl(int64_t embed_dim, int64_t hidden, bool fused) : hidden_(hidden), fused_(fused) {
  const double k = 1.0 / std::sqrt(static_cast<double>(hidden));
  w_ih = register_parameter("w_ih", torch::empty({8 * hidden, embed_dim}).uniform_(-k, k));
  w_hh = register_parameter("w_hh", torch::empty({8 * hidden, hidden}).uniform_(-k, k));
  b_ih = register_parameter("b_ih", torch::empty({8 * hidden}).uniform_(-k, k));
  b_hh = register_parameter("b_hh", torch::empty({8 * hidden}).uniform_(-k, k));
}

namespace {

// The fused recurrence with its linear maps recorded (TapRecorder, fast mode): each direction's
// input projection is its own tensor in the graph, so its gradient is the gate pre-activation
// gradient that the input map and the recurrent map share; the recurrent map's inputs are the
// previous states (zero before a sequence's first step in either direction).
LstmResult tapped_fused_lstm(const at::Tensor& emb, const at::Tensor& lengths, const at::Tensor& w_ih,
                             const at::Tensor& w_hh, const at::Tensor& bias) {
  const int64_t B = emb.size(0), T = emb.size(1), H = w_hh.size(1), G = 4 * H;
  const at::Tensor proj_f = torch::matmul(emb, w_ih.narrow(0, 0, G).t()) + bias.narrow(0, 0, G);
  const at::Tensor proj_r = torch::matmul(emb, w_ih.narrow(0, G, G).t()) + bias.narrow(0, G, G);
  LstmResult r = fused_lstm_projected(torch::cat({proj_f, proj_r}, 2), lengths, w_hh, 2);
  const at::Tensor out = r.output.detach(), zero = torch::zeros({B, 1, H}, out.options());
  // States are 0 past a sequence's length, so the reverse direction's state "after" its last
  // position is 0 as it should be.
  const at::Tensor h_f = torch::cat({zero, out.narrow(2, 0, H).narrow(1, 0, T - 1)}, 1);
  const at::Tensor h_r = torch::cat({out.narrow(2, H, H).narrow(1, 1, T - 1), zero}, 1);
  const at::Tensor valid = (torch::arange(T, torch::kLong).unsqueeze(0) < lengths.cpu().to(torch::kLong).unsqueeze(1))
                               .to(emb.scalar_type());
  record_linear("fwd.ih", emb, proj_f, valid, true);
  record_linear("fwd.hh", h_f, proj_f, valid, true);
  record_linear("rev.ih", emb, proj_r, valid, true);
  record_linear("rev.hh", h_r, proj_r, valid, true);
  return r;
}

}  // namespace

EncoderOutput LstmEncoderImpl::encode(const at::Tensor& emb, const at::Tensor&, const at::Tensor& lengths,
                                      const ForwardOptions&) {
  const at::Tensor bias = b_ih + b_hh;
  const bool fast = fused_ && !DifferentiableMode::on();
  LstmResult r = !fast ? plain_lstm(emb, lengths, w_ih, w_hh, bias, 2)
                 : TapRecorder::active() ? tapped_fused_lstm(emb, lengths, w_ih, w_hh, bias)
                                         : fused_lstm(emb, lengths, w_ih, w_hh, bias, 2);
  return {r.output, r.final_h, {}};
}

std::vector<LinearLayer> LstmEncoderImpl::linear_layers() {
  const int64_t G = 4 * hidden_;
  return {{"fwd.ih", w_ih, {b_ih}, 0, G}, {"fwd.hh", w_hh, {b_hh}, 0, G}, {"rev.ih", w_ih, {b_ih}, G, G}, {"rev.hh", w_hh, {b_hh}, G, G}};
}

EncoderOutput LstmEncoderImpl::encode_ids(const at::Tensor& embedding, const at::Tensor& ids, const at::Tensor& lengths) {
  LstmResult r = fused_lstm_from_ids(embedding, ids, lengths, w_ih, w_hh, b_ih + b_hh, 2);
  return {r.output, r.final_h, {}};
}

CnnEncoderImpl::CnnEncoderImpl(int64_t embed_dim, int64_t filters, const std::vector<int64_t>& kernels) : filters_(filters) {
  for (int64_t k : kernels) {
    convs_.push_back(register_module("conv" + std::to_string(k),
                                     torch::nn::Conv1d(torch::nn::Conv1dOptions(embed_dim, filters, k).padding(k / 2))));
  }
}

EncoderOutput CnnEncoderImpl::encode(const at::Tensor& emb, const at::Tensor& mask, const at::Tensor&,
                                     const ForwardOptions&) {
  at::Tensor m = mask.to(emb.scalar_type()).unsqueeze(2);  // [B, T, 1]
  // Padding is zeroed before the convolution so that a padded row sees the same zeros as a
  // sequence alone sees from the convolution's own padding.
  at::Tensor x = (emb * m).transpose(1, 2);  // [B, E, T]
  std::vector<at::Tensor> outs;
  for (auto& conv : convs_) outs.push_back(torch::relu(conv->forward(x)));
  at::Tensor states = torch::cat(outs, 1).transpose(1, 2) * m;  // [B, T, m]
  // ReLU outputs are >= 0 and padding is 0, so the plain max equals the masked max.
  return {states, std::get<0>(states.max(1)), {}};
}

AverageEncoderImpl::AverageEncoderImpl(int64_t embed_dim, int64_t hidden) : hidden_(hidden) {
  proj_ = register_module("proj", torch::nn::Linear(embed_dim, hidden));
}

std::vector<LinearLayer> AverageEncoderImpl::linear_layers() {
  return {{"proj", proj_->weight, {proj_->bias}, 0, hidden_}};
}

EncoderOutput AverageEncoderImpl::encode(const at::Tensor& emb, const at::Tensor& mask, const at::Tensor&,
                                         const ForwardOptions&) {
  const at::Tensor pre = parallel_linear(emb, proj_->weight, proj_->bias);
  record_linear("proj", emb, pre, mask, true);
  at::Tensor states = torch::tanh(pre) * mask.to(emb.scalar_type()).unsqueeze(2);
  return {states, masked_mean(states, mask), {}};
}

}  // namespace lumen::models
