// Kronecker-factored curvature for influence (Grosse et al. 2023): EK-FAC and, as its ablation,
// K-FAC, on the model's linear layers (models::TapRecorder: the BiLSTM's input and recurrent
// maps per direction, the Average encoder's projection, the pooling attention, the decoder).
// For a layer with inputs a (with a trailing 1 for its bias) and pre-activation gradients s, the
// Gauss-Newton block of the training objective is approximated as A (x) S with
//   A = mean over valid rows of a a^T,  S = (1/N) sum over examples and rows of s s^T,
// s the pseudo-gradients that make E[g g^T] the exact Gauss-Newton matrix of the weighted
// cross-entropy (sqrt(w_y p (1 - p)) on the binary logit; sqrt(w_y p_c)(e_c - p) per class c
// otherwise; no sampling). With A = Q_A diag(a) Q_A^T and S = Q_S diag(s) Q_S^T, K-FAC's
// eigenvalues are s_i a_j; EK-FAC replaces them by the mean squared per-example pseudo-gradient
// in that eigenbasis, Lambda_ij = (1/N) sum_n sum_c [(Q_S^T G_nc Q_A)_ij]^2, which is exact when
// the Gauss-Newton block is itself a Kronecker product (one example). The inverse then applies
// in the eigenbasis: (G + lambda)^-1 V = Q_S [(Q_S^T V Q_A) / (Lambda + lambda)] Q_A^T.
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <vector>

#include "core/json.h"
#include "data/encoded_set.h"
#include "models/classifier.h"
#include "train/loss.h"

namespace lumen::influence {

struct KfacLayer {
  std::string name;          // tap name, e.g. "encoder.fwd.ih"
  int64_t in = 0, out = 0;   // in counts the bias column
  bool bias = false;
  at::Tensor qa, qs;         // eigenvectors [in, in], [out, out] (float64)
  at::Tensor eig_a, eig_s;   // their eigenvalues
  at::Tensor lambda;         // [out, in] eigenvalues of the block (corrected for EK-FAC)
  double damping = 0;        // added to lambda (the regulariser's weight decay included)
};

struct KfacFactors {
  bool corrected = true;  // EK-FAC (true) or K-FAC
  int64_t examples = 0;
  std::vector<KfacLayer> layers;
  int64_t parameter_count() const;
  Json to_json() const;  // sizes and damping, not the matrices
};

// The layers of a parameter group spec (all | last | decoder | attention | encoder, or a comma
// list) among the names the model records; InvalidArgument when none.
std::vector<std::string> kfac_layers(models::TextClassifier model, const std::string& spec);

// Fits the factors over `train` (eval mode, batches of `batch_rows`). `damping` <= 0 picks
// 0.1 x the mean eigenvalue per layer; the objective's weight decay is added for decayed layers.
KfacFactors fit_kfac(models::TextClassifier model, const train::TrainingLoss& loss, const data::EncodedSet& train,
                     const std::vector<std::string>& layers, bool corrected, double damping,
                     const std::function<void(int64_t, int64_t)>& progress = {}, int64_t batch_rows = 32);

// Per-example gradients of `loss` for `rows` of `set` on each layer of `factors`, rotated into
// the layer's eigenbasis (Q_S^T G Q_A), [rows, out, in] per layer (float64); unrotated with
// `rotate` false. Labels from `labels` when given, else the set's.
std::vector<at::Tensor> layer_gradients(models::TextClassifier model, const train::TrainingLoss& loss, const data::EncodedSet& set,
                                        const std::vector<int64_t>& rows, const KfacFactors& factors,
                                        const std::vector<int64_t>& labels = {}, bool rotate = true);

// (G + damping)^-1 applied to rotated gradients: divides by Lambda + damping, per layer.
std::vector<at::Tensor> precondition_rotated(const KfacFactors& factors, const std::vector<at::Tensor>& rotated);

}  // namespace lumen::influence
