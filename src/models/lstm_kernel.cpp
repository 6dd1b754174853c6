#include "models/lstm_kernel.h"

#include <torch/torch.h>

#include <exception>
#include <functional>
#include <numeric>
#include <thread>

#include "core/error.h"
#include "core/parallel.h"
#include "core/runtime.h"
#include "models/forward.h"
#include "models/lstm_recurrence.h"

namespace lumen::models {
namespace lstm_internal {

void for_each_direction(int64_t D, const std::function<void(int64_t)>& body) {
  // Grad mode is thread-local: the kernel's own products never record autograd history.
  auto fn = [&](int64_t d) {
    torch::NoGradGuard no_grad;
    body(d);
  };
  ScopedBlasThreads single_threaded_blas(1);
  if (D == 1 || cores() < 2 || in_parallel_region()) {
    for (int64_t d = 0; d < D; ++d) fn(d);
    return;
  }
  std::exception_ptr error;
  std::thread worker([&] {
    try {
      fn(1);
    } catch (...) {
      error = std::current_exception();
    }
  });
  try {
    fn(0);
  } catch (...) {
    worker.join();
    throw;
  }
  worker.join();
  if (error) std::rethrow_exception(error);
}

// One length per row, each in [1, T].
void check_lengths(int64_t B, int64_t T, const at::Tensor& lengths) {
  if (lengths.numel() != B) throw InvalidArgument("lstm: lengths must have one entry per row");
  const int64_t lo = lengths.min().item<int64_t>(), hi = lengths.max().item<int64_t>();
  if (lo < 1 || hi > T)
    throw InvalidArgument("lstm: lengths must be in [1, " + std::to_string(T) + "], got [" + std::to_string(lo) +
                          ", " + std::to_string(hi) + "]");
}

// B rows of T positions of E-dimensional inputs.
void check_inputs(int64_t B, int64_t T, int64_t E, const at::Tensor& lengths, const at::Tensor& w_ih, const at::Tensor& w_hh,
                  const at::Tensor& bias, int64_t D) {
  if (D != 1 && D != 2) throw InvalidArgument("lstm: directions must be 1 or 2, got " + std::to_string(D));
  const int64_t H = w_hh.size(1);
  if (w_ih.size(0) != D * 4 * H || w_ih.size(1) != E || w_hh.size(0) != D * 4 * H || bias.numel() != D * 4 * H)
    throw InvalidArgument("lstm: weight shapes do not match the input and hidden sizes");
  check_lengths(B, T, lengths);
}

void number_tokens(const int64_t* ids, const int64_t* len, int64_t rows, int64_t T, std::vector<int64_t>& first,
                   std::vector<int64_t>& uniq, int64_t* slot) {
  const int64_t NV = static_cast<int64_t>(first.size());
  for (int64_t b = 0; b < rows; ++b)
    for (int64_t t = 0; t < len[b]; ++t) {
      const int64_t k = ids[b * T + t];
      if (k < 0 || k >= NV) throw InvalidArgument("lstm: token id " + std::to_string(k) + " is outside the embedding");
      if (first[k] < 0) {
        first[k] = static_cast<int64_t>(uniq.size());
        uniq.push_back(k);
      }
      slot[b * T + t] = first[k];
    }
}

}  // namespace lstm_internal

namespace {

using namespace lstm_internal;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Backward recurrence of direction d: fills dG[d]. dh_init [B, H] is the gradient of the final state.
template <typename T>
void backward_direction(int64_t d, const at::Tensor& grad_out, const int64_t* len, const at::Tensor& whh,
                        const at::Tensor& cs, const at::Tensor& gates, const at::Tensor& tc, at::Tensor dh, at::Tensor& dG) {
  const int64_t S = gates.size(1), B = gates.size(2), H = cs.size(3), D = cs.size(0), G = 4 * H;
  const int64_t Tx = grad_out.defined() ? grad_out.size(1) : 0;
  at::Tensor dc = at::zeros_like(dh), dh_rec = at::empty_like(dh), gd = gates[d], cd = cs[d], td = tc[d], dGd = dG[d];
  const T* go = grad_out.defined() ? grad_out.data_ptr<T>() : nullptr;
  const T* cp = cd.data_ptr<T>();
  const T* gp = gd.data_ptr<T>();
  const T* tp = td.data_ptr<T>();
  T* dhp = dh.data_ptr<T>();
  T* dcp = dc.data_ptr<T>();
  T* dgp = dGd.data_ptr<T>();
  const T* dhr = dh_rec.data_ptr<T>();
  const std::vector<T> zeros(H, T(0));
  for (int64_t s = S - 1; s >= 0; --s) {
    for (int64_t b = 0; b < B; ++b) {
      T* dgr = dgp + (s * B + b) * G;
      if (s >= len[b]) {  // frozen state: dh and dc pass through, no gate gradient
        std::fill(dgr, dgr + G, T(0));
        continue;
      }
      const T* gout = go ? go + (b * Tx + position(d, s, len[b])) * (D * H) + d * H : zeros.data();
      cell_backward(gp + (s * B + b) * G, cp + (s * B + b) * H, tp + (s * B + b) * H, dhp + b * H, gout, dcp + b * H, dgr, H);
    }
    at::mm_out(dh_rec, dGd[s], whh);  // [B, 4H] x [4H, H]
    for (int64_t b = 0; b < B; ++b)
      if (s < len[b]) std::copy(dhr + b * H, dhr + (b + 1) * H, dhp + b * H);
  }
}

template <typename T>
void scatter_steps(const T* dxs, const int64_t* len, T* dx, int64_t D, int64_t S, int64_t B, int64_t Tx, int64_t E) {
  for (int64_t d = 0; d < D; ++d)
    for (int64_t s = 0; s < S; ++s)
      for (int64_t b = 0; b < B; ++b) {
        if (s >= len[b]) continue;
        const T* src = dxs + ((d * S + s) * B + b) * E;
        T* dst = dx + (b * Tx + position(d, s, len[b])) * E;
        for (int64_t e = 0; e < E; ++e) dst[e] += src[e];
      }
}

// Gradients flowing into the recurrence: of the outputs (may be undefined) and of the final states.
struct RecurrenceGrads {
  at::Tensor grad_out, dh, dG;
  RecurrenceGrads(const variable_list& grads, int64_t D, int64_t S, int64_t B, int64_t H, const at::TensorOptions& opt)
      : grad_out(grads[0].defined() ? grads[0].contiguous() : at::Tensor()),
        dh(at::zeros({D, B, H}, opt)),
        dG(at::empty({D, S, B, 4 * H}, opt)) {
    if (grads[1].defined()) dh.copy_(grads[1].view({B, D, H}).permute({1, 0, 2}));
  }
  // Fills dG[d] by backpropagating through direction d.
  void run(int64_t d, const int64_t* len, const at::Tensor& whh, const at::Tensor& cs, const at::Tensor& gates,
           const at::Tensor& tc) {
    AT_DISPATCH_FLOATING_TYPES(cs.scalar_type(), "fused_lstm_backward", [&] {
      backward_direction<scalar_t>(d, grad_out, len, whh[d], cs, gates, tc, dh[d], dG);
    });
  }
};

class FusedLstmFunction : public torch::autograd::Function<FusedLstmFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, at::Tensor x, at::Tensor lengths, at::Tensor w_ih, at::Tensor w_hh,
                               at::Tensor bias, int64_t D) {
    const int64_t B = x.size(0), Tx = x.size(1), E = x.size(2), H = w_hh.size(1), G = 4 * H;
    at::Tensor len = lengths.to(torch::kInt64).contiguous();
    const int64_t* lp = len.data_ptr<int64_t>();
    int64_t S = 0;
    for (int64_t b = 0; b < B; ++b) S = std::max(S, lp[b]);
    x = x.contiguous();
    at::Tensor xs = at::empty({D, S, B, E}, x.options());
    Recurrence r(D, S, B, Tx, H, x.options());
    at::Tensor w_ih3 = w_ih.view({D, G, E}), whh_t = w_hh.view({D, G, H}).transpose(1, 2).contiguous();  // [D, H, 4H]
    at::Tensor bias2 = bias.view({D, G});
    for_each_direction(D, [&](int64_t d) { r.run_on_inputs(d, x, xs, lp, w_ih3, bias2, whh_t); });
    ctx->save_for_backward({xs, w_ih, w_hh, r.hs, r.cs, r.gates, r.tc, len});
    ctx->saved_data["D"] = D;
    ctx->saved_data["T"] = Tx;
    return {r.out, r.final_h()};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    at::Tensor xs = saved[0], w_ih = saved[1], w_hh = saved[2], hs = saved[3], cs = saved[4], gates = saved[5],
               tc = saved[6], len = saved[7];
    const int64_t D = ctx->saved_data["D"].toInt(), Tx = ctx->saved_data["T"].toInt();
    const int64_t S = xs.size(1), B = xs.size(2), E = xs.size(3), H = w_hh.size(1), G = 4 * H;
    RecurrenceGrads rg(grads, D, S, B, H, xs.options());
    at::Tensor& dG = rg.dG;
    at::Tensor whh = w_hh.view({D, G, H}), w_ih3 = w_ih.view({D, G, E});
    at::Tensor d_whh = at::empty({D, G, H}, xs.options()), dw_ih = at::empty({D, G, E}, xs.options());
    at::Tensor dbias = at::empty({D, G}, xs.options()), dxs = at::empty({D, S * B, E}, xs.options());
    const int64_t* lp = len.data_ptr<int64_t>();
    // Only what this backward pass asks for: gradient importance wants the inputs' gradient alone.
    const bool need_x = ctx->needs_input_grad(0), need_ih = ctx->needs_input_grad(2),
               need_hh = ctx->needs_input_grad(3), need_b = ctx->needs_input_grad(4);
    for_each_direction(D, [&](int64_t d) {
      rg.run(d, lp, whh, cs, gates, tc);
      // Whole-sequence weight gradients: dW_hh = sum_s dG_s^T h_s, dW_ih = dG^T xs, dxs = dG W_ih.
      at::Tensor dGd = dG[d].view({S * B, G});
      at::Tensor dwhh_d = d_whh[d], dwih_d = dw_ih[d], dxs_d = dxs[d], db_d = dbias[d];
      if (need_hh) at::mm_out(dwhh_d, dGd.t(), hs[d].narrow(0, 0, S).reshape({S * B, H}));
      if (need_ih) at::mm_out(dwih_d, dGd.t(), xs[d].view({S * B, E}));
      if (need_x) at::mm_out(dxs_d, dGd, w_ih3[d]);
      if (need_b) at::sum_out(db_d, dGd, {0});
    });
    if (!need_x) return {at::Tensor(), at::Tensor(), need_ih ? dw_ih.view({D * G, E}) : at::Tensor(),
                         need_hh ? d_whh.view({D * G, H}) : at::Tensor(), need_b ? dbias.view({D * G}) : at::Tensor(),
                         at::Tensor()};
    at::Tensor dx = at::zeros({B, Tx, E}, xs.options());
    AT_DISPATCH_FLOATING_TYPES(xs.scalar_type(), "fused_lstm_scatter", [&] {
      scatter_steps<scalar_t>(dxs.data_ptr<scalar_t>(), lp, dx.data_ptr<scalar_t>(), D, S, B, Tx, E);
    });
    return {dx, at::Tensor(), need_ih ? dw_ih.view({D * G, E}) : at::Tensor(), need_hh ? d_whh.view({D * G, H}) : at::Tensor(),
            need_b ? dbias.view({D * G}) : at::Tensor(), at::Tensor()};
  }
};

// The training path: the BiLSTM reads rows of the embedding matrix directly. The input
// projections (and both of their gradients) are computed once per distinct token of the batch
// instead of once per position, and the embedding gradient is accumulated per distinct token.
class FusedLstmIdsFunction : public torch::autograd::Function<FusedLstmIdsFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, at::Tensor embedding, at::Tensor w_ih, at::Tensor w_hh,
                               at::Tensor bias, at::Tensor ids, at::Tensor lengths, int64_t D) {
    const int64_t B = ids.size(0), Tx = ids.size(1), V = embedding.size(0), E = embedding.size(1), H = w_hh.size(1),
                  G = 4 * H;
    at::Tensor len = lengths.to(torch::kInt64).contiguous();
    const int64_t* lp = len.data_ptr<int64_t>();
    int64_t S = 0;
    for (int64_t b = 0; b < B; ++b) S = std::max(S, lp[b]);
    // Distinct tokens of the real positions; slot[b * T + t] = index of the token at (b, t).
    at::Tensor id_c = ids.to(torch::kInt64).contiguous();
    const int64_t* ip = id_c.data_ptr<int64_t>();
    std::vector<int64_t> first(V, -1), uniq;
    at::Tensor slot = at::full({B, Tx}, -1, torch::kInt64);
    int64_t* sp = slot.data_ptr<int64_t>();
    number_tokens(ip, lp, B, Tx, first, uniq, sp);
    at::Tensor uniq_t = torch::tensor(uniq, torch::kInt64);
    at::Tensor eu = embedding.index_select(0, uniq_t).contiguous();  // [U, E]
    Recurrence r(D, S, B, Tx, H, embedding.options(), false);
    at::Tensor w_ih3 = w_ih.view({D, G, E}), whh_t = w_hh.view({D, G, H}).transpose(1, 2).contiguous();
    at::Tensor bias2 = bias.view({D, G});
    for_each_direction(D, [&](int64_t d) {
      AT_DISPATCH_FLOATING_TYPES(embedding.scalar_type(), "fused_lstm_ids_forward", [&] {
        at::Tensor pu = at::addmm(bias2[d], eu, w_ih3[d].t());  // [U, 4H]: one projection per distinct token
        const scalar_t* pp = pu.data_ptr<scalar_t>();
        r.run_in_place<scalar_t>(d, lp, whh_t, [&](int64_t b, int64_t t) { return pp + sp[b * Tx + t] * G; });
      });
    });
    ctx->save_for_backward({eu, uniq_t, slot, w_ih, w_hh, r.hs, r.cs, r.gates, r.tc, len});
    ctx->saved_data["D"] = D;
    ctx->saved_data["V"] = V;
    return {r.out, r.final_h()};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    at::Tensor eu = saved[0], uniq_t = saved[1], slot = saved[2], w_ih = saved[3], w_hh = saved[4], hs = saved[5],
               cs = saved[6], gates = saved[7], tc = saved[8], len = saved[9];
    const int64_t D = ctx->saved_data["D"].toInt(), V = ctx->saved_data["V"].toInt();
    const int64_t U = eu.size(0), E = eu.size(1), S = gates.size(1), B = gates.size(2), H = w_hh.size(1), G = 4 * H;
    const int64_t Tx = slot.size(1);
    RecurrenceGrads rg(grads, D, S, B, H, eu.options());
    at::Tensor& dG = rg.dG;
    at::Tensor whh = w_hh.view({D, G, H}), w_ih3 = w_ih.view({D, G, E});
    at::Tensor d_whh = at::empty({D, G, H}, eu.options()), dw_ih = at::empty({D, G, E}, eu.options());
    at::Tensor dbias = at::empty({D, G}, eu.options()), deu = at::empty({D, U, E}, eu.options());
    const int64_t* lp = len.data_ptr<int64_t>();
    const int64_t* sp = slot.data_ptr<int64_t>();
    for_each_direction(D, [&](int64_t d) {
      rg.run(d, lp, whh, cs, gates, tc);
      AT_DISPATCH_FLOATING_TYPES(eu.scalar_type(), "fused_lstm_ids_backward", [&] {
        // Gate gradients summed per distinct token: [U, 4H].
        at::Tensor agg = at::zeros({U, G}, eu.options());
        scalar_t* ap = agg.data_ptr<scalar_t>();
        const scalar_t* gp = dG[d].data_ptr<scalar_t>();
        for (int64_t s = 0; s < S; ++s)
          for (int64_t b = 0; b < B; ++b) {
            if (s >= lp[b]) continue;
            accumulate(ap + sp[b * Tx + position(d, s, lp[b])] * G, gp + (s * B + b) * G, G);
          }
        at::Tensor dwhh_d = d_whh[d], dwih_d = dw_ih[d], deu_d = deu[d], db_d = dbias[d];
        at::mm_out(dwhh_d, dG[d].view({S * B, G}).t(), hs[d].narrow(0, 0, S).reshape({S * B, H}));
        at::mm_out(dwih_d, agg.t(), eu);
        at::mm_out(deu_d, agg, w_ih3[d]);
        at::sum_out(db_d, agg, {0});
      });
    });
    at::Tensor demb = at::zeros({V, E}, eu.options());
    demb.index_add_(0, uniq_t, D == 2 ? deu[0] + deu[1] : deu[0]);
    return {demb, dw_ih.view({D * G, E}), d_whh.view({D * G, H}), dbias.view({D * G}), at::Tensor(), at::Tensor(),
            at::Tensor()};
  }
};

// From given per-position input projections (attributions along a path of inputs: the
// projections are linear in the input, so a path of inputs is a path of projections). proj
// [B, T, D*4H] holds x W_ih^T + bias with each direction's 4H values together; its gradient is
// the pre-activation gradient dG scattered back to the positions.
class FusedLstmProjFunction : public torch::autograd::Function<FusedLstmProjFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, at::Tensor proj, at::Tensor w_hh, at::Tensor lengths, int64_t D) {
    const int64_t B = proj.size(0), Tx = proj.size(1), H = w_hh.size(1), G = 4 * H;
    at::Tensor len = lengths.to(torch::kInt64).contiguous();
    const int64_t* lp = len.data_ptr<int64_t>();
    int64_t S = 0;
    for (int64_t b = 0; b < B; ++b) S = std::max(S, lp[b]);
    const at::Tensor pc = proj.contiguous();
    Recurrence r(D, S, B, Tx, H, proj.options(), false);
    at::Tensor whh_t = w_hh.view({D, G, H}).transpose(1, 2).contiguous();
    for_each_direction(D, [&](int64_t d) {
      AT_DISPATCH_FLOATING_TYPES(proj.scalar_type(), "fused_lstm_proj_forward", [&] {
        const scalar_t* pp = pc.data_ptr<scalar_t>();
        r.run_in_place<scalar_t>(d, lp, whh_t, [&](int64_t b, int64_t t) { return pp + (b * Tx + t) * D * G + d * G; });
      });
    });
    ctx->save_for_backward({w_hh, r.hs, r.cs, r.gates, r.tc, len});
    ctx->saved_data["D"] = D;
    ctx->saved_data["T"] = Tx;
    return {r.out, r.final_h()};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    at::Tensor w_hh = saved[0], hs = saved[1], cs = saved[2], gates = saved[3], tc = saved[4], len = saved[5];
    const int64_t D = ctx->saved_data["D"].toInt(), Tx = ctx->saved_data["T"].toInt();
    const int64_t S = gates.size(1), B = gates.size(2), H = w_hh.size(1), G = 4 * H;
    RecurrenceGrads rg(grads, D, S, B, H, cs.options());
    const at::Tensor whh = w_hh.view({D, G, H});
    const bool need_hh = ctx->needs_input_grad(1);
    at::Tensor d_whh = need_hh ? at::empty({D, G, H}, cs.options()) : at::Tensor();
    at::Tensor dproj = at::zeros({B, Tx, D * G}, cs.options());
    const int64_t* lp = len.data_ptr<int64_t>();
    for_each_direction(D, [&](int64_t d) {
      rg.run(d, lp, whh, cs, gates, tc);
      if (need_hh) {
        at::Tensor dwhh_d = d_whh[d];
        at::mm_out(dwhh_d, rg.dG[d].view({S * B, G}).t(), hs[d].narrow(0, 0, S).reshape({S * B, H}));
      }
      AT_DISPATCH_FLOATING_TYPES(cs.scalar_type(), "fused_lstm_proj_backward", [&] {
        const scalar_t* gp = rg.dG[d].data_ptr<scalar_t>();
        scalar_t* dp = dproj.data_ptr<scalar_t>();
        for (int64_t s = 0; s < S; ++s)
          for (int64_t b = 0; b < B; ++b)
            if (s < lp[b]) std::copy_n(gp + (s * B + b) * G, G, dp + (b * Tx + position(d, s, lp[b])) * D * G + d * G);
      });
    });
    return {dproj, need_hh ? d_whh.view({D * G, H}) : at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace


LstmResult fused_lstm(const at::Tensor& x, const at::Tensor& lengths, const at::Tensor& w_ih, const at::Tensor& w_hh,
                      const at::Tensor& bias, int64_t directions) {
  if (x.dim() != 3) throw InvalidArgument("lstm: x must be [B, T, E]");
  check_inputs(x.size(0), x.size(1), x.size(2), lengths, w_ih, w_hh, bias, directions);
  auto out = FusedLstmFunction::apply(x, lengths.cpu(), w_ih, w_hh, bias, directions);
  return {out[0], out[1]};
}

LstmResult fused_lstm_projected(const at::Tensor& proj, const at::Tensor& lengths, const at::Tensor& w_hh,
                                int64_t directions) {
  if (proj.dim() != 3) throw InvalidArgument("lstm: projections must be [B, T, D*4H]");
  const int64_t D = directions, H = w_hh.size(1);
  if (D != 1 && D != 2) throw InvalidArgument("lstm: directions must be 1 or 2, got " + std::to_string(D));
  if (proj.size(2) != D * 4 * H || w_hh.size(0) != D * 4 * H)
    throw InvalidArgument("lstm: projection and weight shapes do not match the hidden size");
  const at::Tensor len = lengths.cpu();
  check_lengths(proj.size(0), proj.size(1), len);
  auto out = FusedLstmProjFunction::apply(proj, w_hh, len, D);
  return {out[0], out[1]};
}

LstmResult fused_lstm_from_ids(const at::Tensor& embedding, const at::Tensor& ids, const at::Tensor& lengths,
                               const at::Tensor& w_ih, const at::Tensor& w_hh, const at::Tensor& bias, int64_t directions) {
  if (ids.dim() != 2 || embedding.dim() != 2) throw InvalidArgument("lstm: ids must be [B, T] and the embedding [V, E]");
  check_inputs(ids.size(0), ids.size(1), embedding.size(1), lengths, w_ih, w_hh, bias, directions);
  auto out = FusedLstmIdsFunction::apply(embedding, w_ih, w_hh, bias, ids.cpu(), lengths.cpu(), directions);
  return {out[0], out[1]};
}

LstmResult plain_lstm(const at::Tensor& x, const at::Tensor& lengths, const at::Tensor& w_ih, const at::Tensor& w_hh,
                      const at::Tensor& bias, int64_t D) {
  if (x.dim() != 3) throw InvalidArgument("lstm: x must be [B, T, E]");
  check_inputs(x.size(0), x.size(1), x.size(2), lengths, w_ih, w_hh, bias, D);
  const int64_t B = x.size(0), Tx = x.size(1), H = w_hh.size(1), G = 4 * H;
  at::Tensor len = lengths.cpu().to(torch::kInt64);
  // Per-row reversal index for the reverse direction: position len-1-t for t < len.
  at::Tensor t = torch::arange(Tx, torch::kInt64).unsqueeze(0);  // [1, T]
  at::Tensor rev = torch::where(t < len.unsqueeze(1), len.unsqueeze(1) - 1 - t, t);  // [B, T]
  at::Tensor valid = (t < len.unsqueeze(1)).to(x.scalar_type()).unsqueeze(2);  // [B, T, 1]
  std::vector<at::Tensor> outs, finals;
  for (int64_t d = 0; d < D; ++d) {
    at::Tensor wi = w_ih.narrow(0, d * G, G), wh = w_hh.narrow(0, d * G, G), bi = bias.narrow(0, d * G, G);
    at::Tensor xin = d == 0 ? x : x.gather(1, rev.unsqueeze(2).expand({B, Tx, x.size(2)}));
    at::Tensor h = torch::zeros({B, H}, x.options()), c = torch::zeros({B, H}, x.options());
    std::vector<at::Tensor> hs;
    for (int64_t s = 0; s < Tx; ++s) {
      at::Tensor a = torch::addmm(bi, xin.select(1, s), wi.t()) + h.mm(wh.t());
      if (TapRecorder::active()) {  // influence: both maps share the gate pre-activation a
        record_linear(d == 0 ? "fwd.ih" : "rev.ih", xin.select(1, s), a, valid.select(1, s).squeeze(1), true);
        record_linear(d == 0 ? "fwd.hh" : "rev.hh", h, a, valid.select(1, s).squeeze(1), true);
      }
      auto ch = a.chunk(4, 1);
      at::Tensor i = ch[0].sigmoid(), f = ch[1].sigmoid(), g = ch[2].tanh(), o = ch[3].sigmoid();
      at::Tensor c_new = f * c + i * g, h_new = o * c_new.tanh();
      at::Tensor m = valid.select(1, s);  // [B, 1]
      c = m * c_new + (1 - m) * c;
      h = m * h_new + (1 - m) * h;
      hs.push_back(h_new * m);
    }
    at::Tensor o = torch::stack(hs, 1);  // [B, T, H]
    if (d == 1) o = o.gather(1, rev.unsqueeze(2).expand({B, Tx, H}));
    outs.push_back(o);
    finals.push_back(h);
  }
  return {torch::cat(outs, 2), torch::cat(finals, 1)};
}

}  // namespace lumen::models
