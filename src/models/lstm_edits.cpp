// The edited variants of the fused BiLSTM (lstm_kernel.h: fused_lstm_edits), inference only.
#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "models/lstm_kernel.h"
#include "models/lstm_recurrence.h"

namespace lumen::models {

using namespace lstm_internal;

at::Tensor fused_lstm_edits(const at::Tensor& embedding_in, const at::Tensor& ids_in, const at::Tensor& lengths,
                            const at::Tensor& ids_v_in, const at::Tensor& lengths_v, const at::Tensor& w_ih,
                            const at::Tensor& w_hh, const at::Tensor& bias, int64_t D, const LstmEditPlan& plan) {
  if (embedding_in.dim() != 2 || ids_in.dim() != 2 || ids_v_in.dim() != 2)
    throw InvalidArgument("lstm: the embedding must be [V, E] and the ids [B, T]");
  check_inputs(ids_in.size(0), ids_in.size(1), embedding_in.size(1), lengths, w_ih, w_hh, bias, D);
  check_inputs(ids_v_in.size(0), ids_v_in.size(1), embedding_in.size(1), lengths_v, w_ih, w_hh, bias, D);
  torch::NoGradGuard no_grad;
  const at::Tensor embedding = embedding_in.detach();
  const at::Tensor ids = ids_in.cpu().to(torch::kInt64).contiguous(), ids_v = ids_v_in.cpu().to(torch::kInt64).contiguous();
  const int64_t B = ids.size(0), Tx = ids.size(1), NV = embedding.size(0), E = embedding.size(1), H = w_hh.size(1),
                G = 4 * H, V = ids_v.size(0), Tv = ids_v.size(1);
  if (static_cast<int64_t>(plan.rows.size()) != V || static_cast<int64_t>(plan.prefix.size()) != V ||
      static_cast<int64_t>(plan.suffix.size()) != V)
    throw InvalidArgument("lstm: the edit plan needs a row, a prefix and a suffix per variant");
  at::Tensor len = lengths.cpu().to(torch::kInt64).contiguous();
  at::Tensor lenv = lengths_v.cpu().to(torch::kInt64).contiguous();
  check_lengths(B, Tx, len);
  check_lengths(V, Tv, lenv);
  const int64_t* lp = len.data_ptr<int64_t>();
  const int64_t* lvp = lenv.data_ptr<int64_t>();
  int64_t S = 0;
  for (int64_t b = 0; b < B; ++b) S = std::max(S, lp[b]);
  for (int64_t v = 0; v < V; ++v) {
    const int64_t b = plan.rows[v];
    if (b < 0 || b >= B) throw InvalidArgument("lstm: variant " + std::to_string(v) + " names a row outside the batch");
    if (plan.prefix[v] < 0 || plan.suffix[v] < 0 || plan.prefix[v] + plan.suffix[v] > std::min(lp[b], lvp[v]))
      throw InvalidArgument("lstm: variant " + std::to_string(v) + ": prefix + suffix exceed its length");
  }
  // Input projections once per distinct token of the originals and the variants.
  std::vector<int64_t> first(NV, -1), uniq;
  auto slots = [&](const at::Tensor& id, const int64_t* l, int64_t rows, int64_t T) {
    std::vector<int64_t> sl(rows * T, 0);
    number_tokens(id.data_ptr<int64_t>(), l, rows, T, first, uniq, sl.data());
    return sl;
  };
  const std::vector<int64_t> slot = slots(ids, lp, B, Tx), slot_v = slots(ids_v, lvp, V, Tv);
  const at::Tensor eu = embedding.index_select(0, torch::tensor(uniq, torch::kInt64)).contiguous();  // [U, E]
  Recurrence r(D, S, B, Tx, H, embedding.options(), false);
  at::Tensor w_ih3 = w_ih.detach().view({D, G, E}), whh_t = w_hh.detach().view({D, G, H}).transpose(1, 2).contiguous();
  at::Tensor bias2 = bias.detach().view({D, G});
  // Per direction, the steps each variant runs: forward from position prefix to its end,
  // reverse from position length - suffix - 1 down to 0. Rows sorted by decreasing step count,
  // so that step s runs only the rows that still have a token.
  std::vector<int64_t> len2(D * V), sorted_len(D * V), out_row(D * V), out_shift(D * V, 0);
  std::vector<std::vector<int64_t>> order(D, std::vector<int64_t>(V)), active(D);
  int64_t S2 = 1;
  for (int64_t v = 0; v < V; ++v) {
    len2[v] = lvp[v] - plan.prefix[v];
    if (D == 2) len2[V + v] = lvp[v] - plan.suffix[v];
    S2 = std::max({S2, len2[v], D == 2 ? len2[V + v] : int64_t(1)});
  }
  for (int64_t d = 0; d < D; ++d) {
    std::iota(order[d].begin(), order[d].end(), 0);
    std::stable_sort(order[d].begin(), order[d].end(), [&](int64_t a, int64_t c) { return len2[d * V + a] > len2[d * V + c]; });
    active[d].assign(S2, 0);
    for (int64_t j = 0; j < V; ++j) {
      const int64_t v = order[d][j];
      sorted_len[d * V + j] = len2[d * V + v];
      out_row[d * V + j] = v;
      if (d == 0) out_shift[j] = plan.prefix[v];
      for (int64_t s = 0; s < len2[d * V + v]; ++s) ++active[d][s];
    }
  }
  at::Tensor xp2 = at::empty({D, S2, V, G}, embedding.options());
  struct {
    at::Tensor hs, cs, gates, tc;
  } r2{at::empty({D, 2, V, H}, embedding.options()), at::empty({D, 2, V, H}, embedding.options()),
       at::empty({D, 1, V, G}, embedding.options()), at::empty({D, 1, V, H}, embedding.options())};
  at::Tensor out = at::zeros({V, Tv, D * H}, embedding.options());
  for_each_direction(D, [&](int64_t d) {
    AT_DISPATCH_FLOATING_TYPES(embedding.scalar_type(), "fused_lstm_edits", [&] {
      const at::Tensor pu = at::addmm(bias2[d], eu, w_ih3[d].t());  // [U, 4H]
      const scalar_t* pp = pu.data_ptr<scalar_t>();
      // 1. The originals, keeping every state.
      r.run_in_place<scalar_t>(d, lp, whh_t, [&](int64_t b, int64_t t) { return pp + slot[b * Tx + t] * G; });
      // 2. Each variant from the original state where its change starts.
      const scalar_t* hs = r.hs[d].data_ptr<scalar_t>();  // [S + 1, B, H]
      const scalar_t* cs = r.cs[d].data_ptr<scalar_t>();
      scalar_t* xq = xp2[d].data_ptr<scalar_t>();  // [S2, V, G]
      scalar_t* h0 = r2.hs[d][0].data_ptr<scalar_t>();
      scalar_t* c0 = r2.cs[d][0].data_ptr<scalar_t>();
      for (int64_t j = 0; j < V; ++j) {
        const int64_t v = order[d][j], b = plan.rows[v];
        const int64_t skip = d == 0 ? plan.prefix[v] : plan.suffix[v];  // original steps reused
        std::copy_n(hs + (skip * B + b) * H, H, h0 + j * H);
        std::copy_n(cs + (skip * B + b) * H, H, c0 + j * H);
        const int64_t steps = sorted_len[d * V + j];
        for (int64_t s = 0; s < steps; ++s) {
          const int64_t pos = d == 0 ? plan.prefix[v] + s : steps - 1 - s;
          std::copy_n(pp + slot_v[v * Tv + pos] * G, G, xq + (s * V + j) * G);
        }
      }
      StepPlan sp;
      sp.active = active[d].data();
      sp.out_row = out_row.data() + d * V;
      sp.out_shift = out_shift.data() + d * V;
      sp.ring = true;
      forward_direction<scalar_t>(d, xp2[d], sorted_len.data() + d * V, whh_t[d], r2.hs, r2.cs, r2.gates, r2.tc, out, sp);
    });
  });
  // 3. The reused halves: forward states before the prefix's end, reverse states over the suffix.
  AT_DISPATCH_FLOATING_TYPES(embedding.scalar_type(), "fused_lstm_edits_assemble", [&] {
    const scalar_t* o1 = r.out.data_ptr<scalar_t>();  // [B, Tx, D*H]
    scalar_t* op = out.data_ptr<scalar_t>();
    for (int64_t v = 0; v < V; ++v) {
      const int64_t b = plan.rows[v], Lv = lvp[v], L = lp[b];
      for (int64_t u = 0; u < plan.prefix[v]; ++u) std::copy_n(o1 + (b * Tx + u) * D * H, H, op + (v * Tv + u) * D * H);
      if (D == 2)
        for (int64_t u = Lv - plan.suffix[v]; u < Lv; ++u)
          std::copy_n(o1 + (b * Tx + u - Lv + L) * D * H + H, H, op + (v * Tv + u) * D * H + H);
    }
  });
  return out;
}

}  // namespace lumen::models
