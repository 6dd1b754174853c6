// Internals of the fused BiLSTM kernel shared by its translation units (lstm_kernel.cpp: the
// differentiable entry points; lstm_edits.cpp: the edited variants): the step layout, the
// element loops, the forward recurrence and its buffers, and the argument checks.
#pragma once
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <vector>

#include "models/lstm_gates.h"

namespace lumen::models::lstm_internal {

// Layout. The inputs path gathers its inputs once into step order per direction (the ids,
// projection and edit paths read each token's projection in place instead): row (d, s, b) holds the
// token that direction d reads at step s of row b (position s forward, len_b - 1 - s reverse;
// zeros past the row's length). Every buffer is direction-major, so each direction's data is
// contiguous and the two directions run on two threads with no shared writes:
//   xs    [D, S, B, E]    gathered inputs        hs [D, S+1, B, H]  states (0 = initial)
//   gates [D, S, B, 4H]   activated i, f, g, o   cs [D, S+1, B, H]  cells
//   tc    [D, S, B, H]    tanh(c_t)              dG [D, S, B, 4H]   pre-activation gradients
// States are frozen after a row's length, so the final state of each row is hs[:, S].

inline int64_t position(int64_t d, int64_t s, int64_t len) { return d == 0 ? s : len - 1 - s; }

// Runs fn(d) for each direction, the reverse one on a second thread when there are two.
// Each direction's products are single-threaded BLAS calls, so the two never oversubscribe.
void for_each_direction(int64_t D, const std::function<void(int64_t)>& body);



template <typename T>
void gather_steps(const T* x, const int64_t* len, T* xs, int64_t d, int64_t S, int64_t B, int64_t Tx, int64_t E) {
  for (int64_t s = 0; s < S; ++s)
    for (int64_t b = 0; b < B; ++b) {
      T* dst = xs + ((d * S + s) * B + b) * E;
      if (s >= len[b]) {
        std::fill(dst, dst + E, T(0));
        continue;
      }
      const T* src = x + (b * Tx + position(d, s, len[b])) * E;
      std::copy(src, src + E, dst);
    }
}

// Forward recurrence of direction d. xp [S, B, 4H] holds the input projections (+ bias).
template <typename T>
inline void accumulate(T* __restrict dst, const T* __restrict src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

// How an inference-only run (the edited variants) lays out its work; the defaults are training's.
struct StepPlan {
  // Rows sorted by decreasing length: step s runs rows [0, active[s]) only, and finished rows'
  // states are not carried forward.
  const int64_t* active = nullptr;
  // Row j's outputs go to out[out_row[j], position + out_shift[j]] instead of out[j, position].
  const int64_t* out_row = nullptr;
  const int64_t* out_shift = nullptr;
  // Keep only the last two states and one step of gates (no backward pass follows).
  bool ring = false;
};

// The default source: forward_direction reads the input projections from xp (step order).
struct StepOrdered {};

// Forward recurrence of direction d. With the default `src`, xp [S, B, 4H] holds the input
// projections (+ bias) in step order; otherwise xp is not read and src(b, position) points at row
// b's projection of the token at that position, read in place.
template <typename T, typename Src = StepOrdered>
void forward_direction(int64_t d, const at::Tensor& xp, const int64_t* len, const at::Tensor& whh_t, at::Tensor& hs,
                       at::Tensor& cs, at::Tensor& gates, at::Tensor& tc, at::Tensor& out, const StepPlan& plan = {},
                       const Src& src = {}) {
  constexpr bool in_place = !std::is_same_v<Src, StepOrdered>;
  const int64_t S = plan.ring ? xp.size(0) : hs.size(1) - 1;  // a ring keeps two states: xp has the steps
  const int64_t B = gates.size(2), H = hs.size(3), Tx = out.size(1), D = out.size(2) / H, G = 4 * H;
  at::Tensor hd = hs[d], cd = cs[d], gd = gates[d], td = tc[d];
  T* hp = hd.data_ptr<T>();
  T* cp = cd.data_ptr<T>();
  T* gp = gd.data_ptr<T>();
  T* tp = td.data_ptr<T>();
  T* op = out.data_ptr<T>();
  auto hslot = [&](int64_t s) { return plan.ring ? s % 2 : s; };
  auto gslot = [&](int64_t s) { return plan.ring ? int64_t(0) : s; };
  for (int64_t s = 0; s < S; ++s) {
    const int64_t Bs = plan.active ? plan.active[s] : B;
    if (Bs == 0) break;
    const int64_t hs0 = hslot(s), hs1 = hslot(s + 1), gs0 = gslot(s);
    at::Tensor gs = gd[gs0].narrow(0, 0, Bs);
    T* g = gp + gs0 * B * G;
    if constexpr (in_place) at::mm_out(gs, hd[hs0].narrow(0, 0, Bs), whh_t);  // [B, 4H] = h W_hh^T
    else at::addmm_out(gs, xp[s].narrow(0, 0, Bs), hd[hs0].narrow(0, 0, Bs), whh_t);  // + xp
    const T* cprev = cp + hs0 * B * H;
    T* cnext = cp + hs1 * B * H;
    const T* hprev = hp + hs0 * B * H;
    T* hnext = hp + hs1 * B * H;
    for (int64_t b = 0; b < Bs; ++b) {
      if (s >= len[b]) {  // frozen: the state and cell carry over
        std::copy(cprev + b * H, cprev + (b + 1) * H, cnext + b * H);
        std::copy(hprev + b * H, hprev + (b + 1) * H, hnext + b * H);
        continue;
      }
      const int64_t p = position(d, s, len[b]);
      const int64_t row = plan.out_row ? plan.out_row[b] : b;
      const int64_t pos = p + (plan.out_shift ? plan.out_shift[b] : 0);
      const T* x = nullptr;
      if constexpr (in_place) x = src(b, p);
      cell_forward(g + b * G, x, cprev + b * H, cnext + b * H, tp + (gs0 * B + b) * H, hnext + b * H,
                   op + (row * Tx + pos) * (D * H) + d * H, H);
    }
  }
}

// The recurrence's buffers (layout above), shared by both entry points. xp (step-ordered input
// projections) is allocated only for the paths that build it (step_ordered).
struct Recurrence {
  at::Tensor xp, hs, cs, gates, tc, out;
  Recurrence(int64_t D, int64_t S, int64_t B, int64_t Tx, int64_t H, const at::TensorOptions& opt,
             bool step_ordered = true)
      : xp(step_ordered ? at::empty({D, S, B, 4 * H}, opt) : at::Tensor()),
        hs(at::empty({D, S + 1, B, H}, opt)),
        cs(at::empty({D, S + 1, B, H}, opt)),
        gates(at::empty({D, S, B, 4 * H}, opt)),
        tc(at::empty({D, S, B, H}, opt)),
        out(at::zeros({B, Tx, D * H}, opt)) {}
  // Runs direction d from zero initial states once xp[d] holds its input projections.
  void run(int64_t d, const int64_t* len, const at::Tensor& whh_t) {
    hs[d][0].zero_();
    cs[d][0].zero_();
    AT_DISPATCH_FLOATING_TYPES(xp.scalar_type(), "fused_lstm_forward",
                               [&] { forward_direction<scalar_t>(d, xp[d], len, whh_t[d], hs, cs, gates, tc, out); });
  }
  // Runs direction d from zero initial states, reading row b's input projection at position t
  // in place from src(b, t) (a const T* to 4H values).
  template <typename T, typename Src>
  void run_in_place(int64_t d, const int64_t* len, const at::Tensor& whh_t, const Src& src) {
    hs[d][0].zero_();
    cs[d][0].zero_();
    forward_direction<T>(d, at::Tensor(), len, whh_t[d], hs, cs, gates, tc, out, {}, src);
  }
  // Gathers direction d's inputs from x [B, Tx, E] into xs [D, S, B, E] in step order, computes
  // all its input projections in one product, and runs it from zero states.
  void run_on_inputs(int64_t d, const at::Tensor& x, at::Tensor& xs, const int64_t* len, const at::Tensor& w_ih3,
                     const at::Tensor& bias2, const at::Tensor& whh_t) {
    const int64_t S = xs.size(1), B = xs.size(2), E = xs.size(3), G = xp.size(3);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fused_lstm_gather", [&] {
      gather_steps<scalar_t>(x.data_ptr<scalar_t>(), len, xs.data_ptr<scalar_t>(), d, S, B, x.size(1), E);
    });
    at::Tensor xpd = xp[d].view({S * B, G});
    at::addmm_out(xpd, bias2[d], xs[d].view({S * B, E}), w_ih3[d].t());  // all input projections at once
    run(d, len, whh_t);
  }
  // Runs direction d from the initial states already in hs[d][0] and cs[d][0].
  // [B, D*H]: each row's final state per direction, as torch::nn::LSTM's h_n.
  at::Tensor final_h() const {
    return hs.select(1, hs.size(1) - 1).permute({1, 0, 2}).reshape({out.size(0), out.size(2)});
  }
};

// Numbers the distinct tokens of the real positions of `rows` sequences of `T` ids: slot[b * T
// + t] (t < len[b]) gets the index in `uniq` of the token at (b, t); `first` [vocabulary size,
// -1 = unseen] and `uniq` carry over between calls, so that two id sets share one numbering.
// Throws InvalidArgument for an id outside [0, vocabulary).
void number_tokens(const int64_t* ids, const int64_t* len, int64_t rows, int64_t T, std::vector<int64_t>& first,
                   std::vector<int64_t>& uniq, int64_t* slot);

// One length per row, each in [1, T].
void check_lengths(int64_t B, int64_t T, const at::Tensor& lengths);
// B rows of T positions of E-dimensional inputs.
void check_inputs(int64_t B, int64_t T, int64_t E, const at::Tensor& lengths, const at::Tensor& w_ih, const at::Tensor& w_hh,
                  const at::Tensor& bias, int64_t D);

}  // namespace lumen::models::lstm_internal
