#include "models/lstm_path.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "models/lstm_recurrence.h"

namespace lumen::models {
namespace {

using namespace lstm_internal;

template <typename T>
double dot(const T* __restrict a, const T* __restrict b, int64_t n) {
  T s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return static_cast<double>(s0) + static_cast<double>(s1) + static_cast<double>(s2) + static_cast<double>(s3);
}

// One pass: requests req[0..N) (indices into `requests`), sorted by decreasing length.
template <typename T>
void run_pass(const T* base, const T* diff, const int64_t* len, int64_t Tx, const at::Tensor& whh, const at::Tensor& whh_t,
              int64_t D, int64_t H, const LstmPathRequests& requests, const std::vector<int64_t>& req,
              const StateGradient& state_grad, double* score_d, int64_t B, T* grads) {
  const int64_t N = static_cast<int64_t>(req.size()), G = 4 * H, DG = D * G, DH = D * H;
  std::vector<int64_t> rows(N), lens(N);
  for (int64_t j = 0; j < N; ++j) {
    rows[j] = requests.rows[req[j]];
    lens[j] = len[rows[j]];
  }
  const int64_t S = lens[0];
  std::vector<int64_t> active(S);  // rows [0, active[s]) are inside their sequence at step s
  for (int64_t s = 0, j = N; s < S; ++s) {
    while (j > 0 && lens[j - 1] <= s) --j;
    active[s] = j;
  }
  const auto opt = at::TensorOptions().dtype(c10::CppTypeToScalarType<T>::value);
  at::Tensor gates = at::empty({D, S, N, G}, opt), cs = at::empty({D, S + 1, N, H}, opt), tc = at::empty({D, S, N, H}, opt);
  at::Tensor hring = at::empty({D, 2, N, H}, opt), out = at::zeros({N, S, DH}, opt);
  T* op = out.data_ptr<T>();
  for_each_direction(D, [&](int64_t d) {
    at::Tensor hd = hring[d], gd = gates[d];
    hd[0].zero_();
    cs[d][0].zero_();
    T* hp = hd.data_ptr<T>();
    T* cp = cs[d].data_ptr<T>();
    T* gp = gd.data_ptr<T>();
    T* tp = tc[d].data_ptr<T>();
    for (int64_t s = 0; s < S; ++s) {
      const int64_t Bs = active[s];
      T* g = gp + s * N * G;
      for (int64_t j = 0; j < Bs; ++j) {  // the path point's projections: base + a diff
        const int64_t at = (rows[j] * Tx + position(d, s, lens[j])) * DG + d * G;
        const T a = static_cast<T>(requests.alphas[req[j]]);
        const T* bp = base + at;
        const T* dp = diff + at;
        T* gj = g + j * G;
        for (int64_t k = 0; k < G; ++k) gj[k] = bp[k] + a * dp[k];
      }
      at::Tensor gs = gd[s].narrow(0, 0, Bs);
      gs.addmm_(hd[s % 2].narrow(0, 0, Bs), whh_t[d]);  // += h W_hh^T
      const T* cprev = cp + s * N * H;
      T* cnext = cp + (s + 1) * N * H;
      T* hnext = hp + ((s + 1) % 2) * N * H;
      for (int64_t j = 0; j < Bs; ++j)
        cell_forward<T>(g + j * G, nullptr, cprev + j * H, cnext + j * H, tp + (s * N + j) * H, hnext + j * H,
                        op + (j * S + position(d, s, lens[j])) * DH + d * H, H);
    }
  });
  at::Tensor dout = state_grad(out, rows);
  if (!dout.sizes().equals(out.sizes()))
    throw InvalidArgument("lstm path: the state gradient must have the states' shape");
  dout = dout.to(out.scalar_type()).contiguous();
  const T* go = dout.data_ptr<T>();
  for_each_direction(D, [&](int64_t d) {
    at::Tensor dh = at::zeros({N, H}, opt), dc = at::zeros({N, H}, opt), dg = at::empty({N, G}, opt);
    T* dhp = dh.data_ptr<T>();
    T* dcp = dc.data_ptr<T>();
    T* dgp = dg.data_ptr<T>();
    const T* gp = gates[d].data_ptr<T>();
    const T* cp = cs[d].data_ptr<T>();
    const T* tp = tc[d].data_ptr<T>();
    double* sd = score_d + d * B * Tx;
    for (int64_t s = S - 1; s >= 0; --s) {
      const int64_t Bs = active[s];
      for (int64_t j = 0; j < Bs; ++j) {
        const int64_t p = position(d, s, lens[j]);
        T* dgr = dgp + j * G;
        cell_backward<T>(gp + (s * N + j) * G, cp + (s * N + j) * H, tp + (s * N + j) * H, dhp + j * H,
                         go + (j * S + p) * DH + d * H, dcp + j * H, dgr, H);
        const double w = requests.weights[req[j]];
        sd[rows[j] * Tx + p] += w * dot(dgr, diff + (rows[j] * Tx + p) * DG + d * G, G);
        if (grads) {  // each direction adds to its own 4H block
          T* gr = grads + (rows[j] * Tx + p) * DG + d * G;
          const T wt = static_cast<T>(w);
          for (int64_t k = 0; k < G; ++k) gr[k] += wt * dgr[k];
        }
      }
      if (s == 0) break;
      at::Tensor dhs = dh.narrow(0, 0, Bs);  // inactive rows keep dh = 0 until their last step
      at::mm_out(dhs, dg.narrow(0, 0, Bs), whh[d]);  // [Bs, 4H] x [4H, H]
    }
  });
}

}  // namespace

void lstm_path_scores(const at::Tensor& base, const at::Tensor& diff, const at::Tensor& lengths, const at::Tensor& w_hh,
                      int64_t D, const LstmPathRequests& requests, int64_t per_pass, const StateGradient& state_grad,
                      at::Tensor& scores, at::Tensor* grads) {
  if (D != 1 && D != 2) throw InvalidArgument("lstm path: directions must be 1 or 2, got " + std::to_string(D));
  if (base.dim() != 3 || !base.sizes().equals(diff.sizes()))
    throw InvalidArgument("lstm path: base and diff must both be [B, T, D*4H]");
  const int64_t B = base.size(0), Tx = base.size(1), H = w_hh.size(1), G = 4 * H;
  if (base.size(2) != D * G || w_hh.size(0) != D * G)
    throw InvalidArgument("lstm path: projection and weight shapes do not match the hidden size");
  if (requests.alphas.size() != requests.size() || requests.weights.size() != requests.size())
    throw InvalidArgument("lstm path: one coefficient and one weight per request");
  if (!scores.defined() || scores.scalar_type() != at::kDouble || scores.size(0) != B || scores.size(1) != Tx ||
      !scores.is_contiguous())
    throw InvalidArgument("lstm path: scores must be a contiguous float64 [B, T] tensor");
  if (grads && (!grads->defined() || grads->scalar_type() != base.scalar_type() || !grads->sizes().equals(base.sizes()) ||
                !grads->is_contiguous()))
    throw InvalidArgument("lstm path: grads must be a contiguous tensor of base's shape and dtype");
  const at::Tensor len = lengths.cpu().to(at::kLong).contiguous();
  check_lengths(B, Tx, len);
  const int64_t* lp = len.data_ptr<int64_t>();
  for (int64_t r : requests.rows)
    if (r < 0 || r >= B) throw InvalidArgument("lstm path: request row " + std::to_string(r) + " is outside the batch");
  if (requests.size() == 0) return;
  if (per_pass <= 0) per_pass = static_cast<int64_t>(requests.size());
  // The kernel's own products run without autograd (for_each_direction); state_grad may use it.
  const at::Tensor bc = base.detach().contiguous(), dc = diff.detach().to(base.scalar_type()).contiguous();
  const at::Tensor whh = w_hh.detach().to(base.scalar_type()).contiguous().view({D, G, H});
  const at::Tensor whh_t = whh.transpose(1, 2).contiguous();
  at::Tensor score_d = at::zeros({D, B, Tx}, at::kDouble);
  const int64_t R = static_cast<int64_t>(requests.size());
  for (int64_t i0 = 0; i0 < R; i0 += per_pass) {
    std::vector<int64_t> req(std::min(per_pass, R - i0));
    std::iota(req.begin(), req.end(), i0);
    std::stable_sort(req.begin(), req.end(),
                     [&](int64_t a, int64_t b) { return lp[requests.rows[a]] > lp[requests.rows[b]]; });
    AT_DISPATCH_FLOATING_TYPES(bc.scalar_type(), "lstm_path_scores", [&] {
      run_pass<scalar_t>(bc.data_ptr<scalar_t>(), dc.data_ptr<scalar_t>(), lp, Tx, whh, whh_t, D, H, requests, req,
                         state_grad, score_d.data_ptr<double>(), B,
                         grads ? grads->data_ptr<scalar_t>() : nullptr);
    });
  }
  scores += score_d.sum(0);
}

}  // namespace lumen::models
