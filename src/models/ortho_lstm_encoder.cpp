// The Orthogonal BiLSTM (models/encoders.h): the LSTM recurrence step by step, each step's state
// projected off the running mean of the direction's earlier states before the next step reads it.
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "models/encoders.h"

namespace lumen::models {

OrthoLstmEncoderImpl::OrthoLstmEncoderImpl(int64_t embed_dim, int64_t hidden) : hidden_(hidden) {
  const double k = 1.0 / std::sqrt(static_cast<double>(hidden));
  w_ih = register_parameter("w_ih", torch::empty({8 * hidden, embed_dim}).uniform_(-k, k));
  w_hh = register_parameter("w_hh", torch::empty({8 * hidden, hidden}).uniform_(-k, k));
  b_ih = register_parameter("b_ih", torch::empty({8 * hidden}).uniform_(-k, k));
  b_hh = register_parameter("b_hh", torch::empty({8 * hidden}).uniform_(-k, k));
}

std::vector<LinearLayer> OrthoLstmEncoderImpl::linear_layers() {
  const int64_t G = 4 * hidden_;
  return {{"fwd.ih", w_ih, {b_ih}, 0, G}, {"fwd.hh", w_hh, {b_hh}, 0, G}, {"rev.ih", w_ih, {b_ih}, G, G}, {"rev.hh", w_hh, {b_hh}, G, G}};
}

EncoderOutput OrthoLstmEncoderImpl::encode(const at::Tensor& x, const at::Tensor&, const at::Tensor& lengths,
                                           const ForwardOptions&) {
  if (x.dim() != 3 || x.size(2) != w_ih.size(1)) throw InvalidArgument("ortho-lstm: embeddings must be [B, T, E]");
  const int64_t B = x.size(0), Tx = x.size(1), H = hidden_, G = 4 * H;
  const at::Tensor len = lengths.cpu().to(torch::kInt64);
  const at::Tensor t = torch::arange(Tx, torch::kInt64).unsqueeze(0);                  // [1, T]
  const at::Tensor rev = torch::where(t < len.unsqueeze(1), len.unsqueeze(1) - 1 - t, t);  // per-row reversal
  const at::Tensor valid = (t < len.unsqueeze(1)).to(x.scalar_type()).unsqueeze(2);  // [B, T, 1]
  const at::Tensor wi_all = w_ih.to(x.scalar_type()), wh_all = w_hh.to(x.scalar_type());
  const at::Tensor bias = (b_ih + b_hh).to(x.scalar_type());
  std::vector<at::Tensor> outs, finals;
  for (int64_t d = 0; d < 2; ++d) {
    const at::Tensor wi = wi_all.narrow(0, d * G, G), wh = wh_all.narrow(0, d * G, G), bi = bias.narrow(0, d * G, G);
    const at::Tensor xin = d == 0 ? x : x.gather(1, rev.unsqueeze(2).expand({B, Tx, x.size(2)}));
    const at::Tensor xp = torch::matmul(xin, wi.t()) + bi;  // [B, T, 4H]
    at::Tensor h = torch::zeros({B, H}, x.options()), c = torch::zeros({B, H}, x.options());
    at::Tensor sum = torch::zeros({B, H}, x.options());  // sum of this direction's earlier states
    std::vector<at::Tensor> hs;
    for (int64_t s = 0; s < Tx; ++s) {
      const at::Tensor a = xp.select(1, s) + h.mm(wh.t());
      const at::Tensor m = valid.select(1, s);  // [B, 1]
      if (TapRecorder::active()) {  // influence: both maps share the gate pre-activation a
        record_linear(d == 0 ? "fwd.ih" : "rev.ih", xin.select(1, s), a, m.squeeze(1), true);
        record_linear(d == 0 ? "fwd.hh" : "rev.hh", h, a, m.squeeze(1), true);
      }
      auto ch = a.chunk(4, 1);
      const at::Tensor i = ch[0].sigmoid(), f = ch[1].sigmoid(), g = ch[2].tanh(), o = ch[3].sigmoid();
      const at::Tensor c_new = f * c + i * g;
      at::Tensor h_new = o * c_new.tanh();
      // The reference code's running mean: the sum of the s earlier states over s + 1.
      const at::Tensor mean = sum / static_cast<double>(s + 1);
      const at::Tensor scale = (h_new * mean).sum(1, true) / ((mean * mean).sum(1, true) + kEps);
      h_new = h_new - scale * mean;
      c = m * c_new + (1 - m) * c;
      h = m * h_new + (1 - m) * h;
      sum = sum + m * h_new;
      hs.push_back(h_new * m);
    }
    at::Tensor out = torch::stack(hs, 1);  // [B, T, H]
    if (d == 1) out = out.gather(1, rev.unsqueeze(2).expand({B, Tx, H}));
    outs.push_back(out);
    finals.push_back(h);
  }
  return {torch::cat(outs, 2), torch::cat(finals, 1), {}};
}

}  // namespace lumen::models
