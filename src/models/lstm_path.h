// The integrated-gradients kernel of the fused BiLSTM: the recurrence along a straight path of
// input projections, with the path points built inside the forward pass and the attributions
// summed inside the backward pass, so that no [points x T x D*4H] tensor of points or of
// gradients is ever made.
//
// The LSTM reads its input only through the projections P = x W_ih^T + bias, which are linear in
// x; a path x0 + a (x - x0) of inputs is the path base + a diff of projections (base = x0 W_ih^T
// + bias, diff = (x - x0) W_ih^T), and IG's attribution of a position is
//   sum over the path points of  weight * dF/dP(point)[t] . diff[t].
// Each request is one path point: row rows[i] of the batch at coefficient alphas[i], added with
// weight weights[i] (1/steps for the midpoint rule, the trapezoid's weights for the adaptive
// mode; alpha = 1, base = bias, diff = the projections gives gradient x input). A pass runs at
// most `per_pass` requests, sorted by decreasing length so that every step's products run on the
// rows still inside their sequence only (no work on padding).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace lumen::models {

// The gradient of the explained output with respect to the encoder states of one pass: states
// [N, T', D*H] (0 past each request's length, T' the longest request's length) for requests
// rows (indices into the batch, in the order of the states' rows) -> its gradient, the same shape.
using StateGradient = std::function<at::Tensor(const at::Tensor& states, const std::vector<int64_t>& rows)>;

struct LstmPathRequests {
  std::vector<int64_t> rows;
  std::vector<double> alphas, weights;
  size_t size() const { return rows.size(); }
  void add(int64_t row, double alpha, double weight) {
    rows.push_back(row);
    alphas.push_back(alpha);
    weights.push_back(weight);
  }
};

// base, diff [B, T, D*4H] (float or double; base with the bias), lengths [B] int64 in [1, T],
// w_hh [D*4H, H]. Adds each request's weight * dF/dP . diff at every position of its row to
// scores [B, T] (float64, accumulated across calls); with `grads` ([B, T, D*4H], base's dtype),
// also adds weight * dF/dP itself (saliency needs the gradient, not its dot product). Throws
// InvalidArgument on mismatched shapes or a row outside the batch.
void lstm_path_scores(const at::Tensor& base, const at::Tensor& diff, const at::Tensor& lengths, const at::Tensor& w_hh,
                      int64_t directions, const LstmPathRequests& requests, int64_t per_pass,
                      const StateGradient& state_grad, at::Tensor& scores, at::Tensor* grads = nullptr);

}  // namespace lumen::models
